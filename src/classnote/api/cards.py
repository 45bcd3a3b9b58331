"""Cards: mine, one, create, autosave, delete, link a sequence, save to the materials box.

Every write goes through classnote.cards.actions, as the web pages do."""

from typing import Any

from django.db.models import QuerySet
from ninja import Router, Status

from classnote.api.common import answers, card_out, card_summary, current_fields
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
from classnote.audit.reads import record_work_read
from classnote.base.requests import AuthedRequest
from classnote.base.roles import LESSON_ROLES, TEACHING_ROLES
from classnote.cards import access as card_access
from classnote.cards import actions
from classnote.cards import activity as card_activity
from classnote.cards import queries as card_queries
from classnote.lessons import access as lesson_access
from classnote.tenancy.access import audience

router = Router(tags=["cards"])


def _with_details(cards: QuerySet[Any]) -> QuerySet[Any]:
    return cards.select_related("file").prefetch_related("sequence_items")


@router.get("/cards", response=answers({200: list[CardOut]}))
@audience(*LESSON_ROLES)
def list_cards(request: AuthedRequest, lesson_id: Id | None = None) -> object:
    """My cards (not the submitted snapshots), newest first; with lesson_id, those of one lesson."""
    user = request.user
    cards = card_access.editable_cards(user).filter(sequence__isnull=True)
    if lesson_id is not None:
        lesson_access.get_lesson_for(user, lesson_id)
        cards = cards.filter(lesson_id=lesson_id)
    cards = cards.order_by("-created_at", "-pk")
    return [card_out(card, user) for card in _with_details(cards)]


@router.get("/cards/{card_id}", response=answers({200: CardOut}))
@audience(*LESSON_ROLES)
def get_card(request: AuthedRequest, card_id: int) -> object:
    card = card_access.get_card_for(request.user, card_id)
    if card.owner_id != request.user.pk:
        record_work_read(request.user, "card.viewed", target=card, owner=card.owner)
    card_activity.opened(request.user, card)
    return card_out(card, request.user)


@router.post("/cards", response=answers({201: CardOut}))
@audience(*LESSON_ROLES)
def create_card(request: AuthedRequest, payload: CardIn) -> object:
    """A text, link or drawing card; an image or file card names a file uploaded with POST /api/files.
    A drawing card's text goes in its items (text boxes, stickies); a text given alone becomes a text box."""
    fields: dict[str, object] = {"items": [item.model_dump() for item in payload.items]} if payload.items else {}
    card = actions.create_card(
        request.user,
        kind=payload.kind,
        lesson_id=payload.lesson_id,
        library=payload.library,
        file_id=payload.file_id,
        title=payload.title,
        text=payload.text,
        link_url=payload.link_url,
        strokes=[stroke.model_dump() for stroke in payload.strokes],
        background=payload.background,
        **fields,
    )
    return Status(201, card_out(card, request.user))


@router.patch("/cards/{card_id}", response=answers({200: AutosaveOut, 409: ConflictOut}))
@audience(*LESSON_ROLES)
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
@audience(*LESSON_ROLES)
def delete_card(request: AuthedRequest, card_id: int) -> object:
    actions.delete_card(request.user, card_id)
    return Status(204, None)


@router.post("/cards/{card_id}/sequence", response=answers({200: CardOut}))
@audience(*LESSON_ROLES)
def link_sequence(request: AuthedRequest, card_id: int, payload: SequenceIn) -> object:
    """Make these cards (in this order) the sequence presented after this card; [] unlinks all."""
    lead = actions.link_sequence(request.user, card_id, payload.card_ids)
    return card_out(card_access.get_card_for(request.user, lead.pk), request.user)


@router.post("/cards/{card_id}/library", response=answers({201: CardOut}))
@audience(*TEACHING_ROLES)
def save_to_library(request: AuthedRequest, card_id: int, payload: LibraryIn) -> object:
    """A copy of the card in my materials (personal) or my school's (school)."""
    copy = actions.save_to_library(request.user, card_id, payload.library)
    return Status(201, card_out(copy, request.user))


@router.get("/materials", response=answers({200: MaterialsOut}))
@audience(*TEACHING_ROLES)
def list_materials(request: AuthedRequest) -> object:
    """My materials box and my school's, as on the materials page."""
    personal, school = card_queries.materials(request.user)
    return {
        "personal": [card_summary(card) for card in personal],
        "school": [card_summary(card) for card in school],
    }
