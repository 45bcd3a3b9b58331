"""Cards: mine, one, create, autosave, delete, link a sequence, save to the materials box.

Every write goes through classnote.cards.actions, as the web pages do."""

from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from ninja import Router, Status

from classnote.api import lookups
from classnote.api.common import IN_LESSON, TEACHING, answers, card_out, current_fields
from classnote.api.schemas import (
    AutosaveIn,
    AutosaveOut,
    CardIn,
    CardOut,
    ConflictOut,
    Id,
    LibraryIn,
    MaterialsOut,
    SequenceIn,
)
from classnote.base.errors import ActionError
from classnote.base.requests import AuthedRequest
from classnote.cards import actions
from classnote.cards.models import Card
from classnote.lessons import summaries
from classnote.privacy.reads import record_work_read
from classnote.tenancy import access
from classnote.tenancy.access import audience

router = Router(tags=["cards"])
WITH_FILE = (Card.Kind.IMAGE, Card.Kind.FILE)


def _with_details(cards: QuerySet[Any]) -> QuerySet[Any]:
    return cards.select_related("file").prefetch_related("sequence_items")


@router.get("/cards", response=answers({200: list[CardOut]}))
@audience(*IN_LESSON)
def list_cards(request: AuthedRequest, lesson_id: Id | None = None) -> object:
    """My cards (not the submitted snapshots), newest first; with lesson_id, those of one lesson."""
    user = request.user
    cards = access.editable_cards(user).filter(sequence__isnull=True)
    if lesson_id is not None:
        lookups.get_lesson(user, lesson_id)
        cards = cards.filter(lesson_id=lesson_id)
    cards = cards.order_by("-created_at", "-pk")
    return [card_out(card, user) for card in _with_details(cards)]


@router.get("/cards/{card_id}", response=answers({200: CardOut}))
@audience(*IN_LESSON)
def get_card(request: AuthedRequest, card_id: int) -> object:
    card = lookups.get_card(request.user, card_id)
    if card.owner_id != request.user.pk:
        record_work_read(request.user, "card.viewed", target=card, owner=card.owner)
    return card_out(card, request.user)


@router.post("/cards", response=answers({201: CardOut}))
@audience(*IN_LESSON)
def create_card(request: AuthedRequest, payload: CardIn) -> object:
    """A text, link or drawing card; an image or file card names a file uploaded with POST /api/files."""
    user = request.user
    kind: str = payload.kind
    stored = None
    if payload.file_id is not None:
        if kind not in WITH_FILE:
            raise ActionError(_("Only image and file cards have a file."))
        stored = lookups.get_file(user, payload.file_id)
        if kind == Card.Kind.IMAGE and stored.kind != "image":
            kind = Card.Kind.FILE
    elif kind in WITH_FILE:
        raise ActionError(_("Choose a photo or file."))
    if kind == Card.Kind.LINK and not payload.link_url:
        raise ActionError(_("Enter the web link."))
    card = actions.create_card(
        user,
        kind=kind,
        lesson_id=payload.lesson_id,
        library=payload.library,
        file=stored,
        title=payload.title or (stored.name[:120] if stored else ""),
        text=payload.text,
        link_url=payload.link_url,
        strokes=[stroke.model_dump() for stroke in payload.strokes],
        background=payload.background,
    )
    return Status(201, card_out(card, user))


@router.patch("/cards/{card_id}", response=answers({200: AutosaveOut, 409: ConflictOut}))
@audience(*IN_LESSON)
def autosave_card(request: AuthedRequest, card_id: int, payload: AutosaveIn) -> object:
    """Save an edit made on `version`. If the card changed since, nothing is saved: 409 with the
    current version and fields, so the editor can show both."""
    fields = {name: value for name, value in payload.fields.model_dump().items() if value is not None}
    try:
        card = actions.autosave(request.user, card_id, payload.version, fields)
    except actions.VersionConflict as conflict:
        current = conflict.card
        return Status(409, {"detail": str(conflict), "version": current.version, "fields": current_fields(current)})
    return {"version": card.version, "saved_at": card.updated_at}


@router.delete("/cards/{card_id}", response=answers({204: None}))
@audience(*IN_LESSON)
def delete_card(request: AuthedRequest, card_id: int) -> object:
    actions.delete_card(request.user, card_id)
    return Status(204, None)


@router.post("/cards/{card_id}/sequence", response=answers({200: CardOut}))
@audience(*IN_LESSON)
def link_sequence(request: AuthedRequest, card_id: int, payload: SequenceIn) -> object:
    """Make these cards (in this order) the sequence presented after this card; [] unlinks all."""
    lead = actions.link_sequence(request.user, card_id, payload.card_ids)
    return card_out(lookups.get_card(request.user, lead.pk), request.user)


@router.post("/cards/{card_id}/library", response=answers({201: CardOut}))
@audience(*TEACHING)
def save_to_library(request: AuthedRequest, card_id: int, payload: LibraryIn) -> object:
    """A copy of the card in my materials (personal) or my school's (school)."""
    copy = actions.save_to_library(request.user, card_id, payload.library)
    return Status(201, card_out(copy, request.user))


@router.get("/materials", response=answers({200: MaterialsOut}))
@audience(*TEACHING)
def list_materials(request: AuthedRequest) -> object:
    """My materials box and my school's, as on the materials page."""
    user = request.user
    readable = access.readable_cards(user).filter(sequence__isnull=True).order_by("title", "pk")
    personal = readable.filter(Q(owner=user, library=Card.Library.PERSONAL))
    school = readable.filter(library=Card.Library.SCHOOL)
    return {
        "personal": [summaries.card(card) for card in personal],
        "school": [summaries.card(card) for card in school],
    }
