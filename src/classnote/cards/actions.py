"""Writes about cards. Each takes the acting user, checks access and runs in one transaction."""

from __future__ import annotations

from typing import Any, cast

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from classnote.accounts.models import User
from classnote.base.errors import ActionError
from classnote.base.roles import Role
from classnote.cards import access as card_access
from classnote.cards import activity, render, surface
from classnote.cards.models import Background, Card
from classnote.files.models import StoredFile
from classnote.files.services import discard, store_upload

EDITABLE_FIELDS = ("title", "text", "link_url", "strokes", "background", "items")
MAX_STROKES = 5000
MAX_POINTS = 200_000


class VersionConflict(ActionError):
    """The card changed since the editor loaded it; nothing was overwritten."""

    def __init__(self, card: Card) -> None:
        super().__init__(_("This card was changed elsewhere. Your text is kept; reload to see both."))
        self.card = card


def validate_strokes(strokes: Any) -> list[dict[str, Any]]:
    """Drawing strokes are data we render ourselves: check shape, size and what they cost to render
    (classnote.cards.render.RENDER_BUDGET) strictly. A point that repeats the one before it adds
    nothing to the drawing and is dropped."""
    if not isinstance(strokes, list) or len(strokes) > MAX_STROKES:
        raise ActionError(_("The drawing is too large or not valid."))
    points = 0
    cost = 0.0
    clean = []
    for stroke in strokes:
        if not isinstance(stroke, dict) or not isinstance(stroke.get("p"), list):
            raise ActionError(_("The drawing is too large or not valid."))
        colour = str(stroke.get("c", "#000000"))
        if len(colour) != 7 or colour[0] != "#" or any(ch not in "0123456789abcdefABCDEF" for ch in colour[1:]):
            raise ActionError(_("The drawing is too large or not valid."))
        try:
            width = max(1, min(60, int(stroke.get("w", 4))))
            path = [[max(0, min(1000, int(x))), max(0, min(750, int(y)))] for x, y in stroke["p"]]
        except (TypeError, ValueError, OverflowError):  # OverflowError: int(inf), JSON allows 1e999
            raise ActionError(_("The drawing is too large or not valid.")) from None
        path = [point for i, point in enumerate(path) if i == 0 or point != path[i - 1]]
        points += len(path)
        if points > MAX_POINTS:
            raise ActionError(_("The drawing is too large or not valid."))
        cost += render.stroke_cost(width, path)
        if cost > render.RENDER_BUDGET:
            raise ActionError(
                _("This drawing is too detailed to be saved. Remove some strokes, or continue on a new card.")
            )
        clean.append({"c": colour.lower(), "w": width, "e": bool(stroke.get("e", False)), "p": path})
    return clean


def _check_images(items: list[dict[str, Any]], owner: User, existing: Any) -> None:
    """Every picture on the surface is one OWNER may read and an image, or one the card showed
    already (a card sent to OWNER keeps the sender's pictures); else one message for all."""
    wanted = [fid for fid in surface.image_ids(items) if fid not in card_access.surface_image_ids(existing)]
    if wanted and len(card_access.usable_images(owner, wanted)) != len(wanted):
        raise surface.image_refused()


def _clean_fields(
    fields: dict[str, Any], kind: str, owner: User, *, existing: Any = (), new: bool = False
) -> dict[str, Any]:
    """FIELDS checked for a card of KIND of OWNER (whose stored items are EXISTING). On a drawing
    card the text is that of its items (classnote.cards.surface): a save that changes the text sends
    the items; a new drawing card given a text alone gets it as text boxes."""
    clean = {k: v for k, v in fields.items() if k in EDITABLE_FIELDS}
    if "strokes" in clean:
        clean["strokes"] = validate_strokes(clean["strokes"])
    if "items" in clean:
        clean["items"] = surface.validate_items(clean["items"])
        if clean["items"] and kind != Card.Kind.DRAWING:
            raise ActionError(_("Only drawing cards have text boxes and stickies."))
        _check_images(clean["items"], owner, list(existing))
    if kind == Card.Kind.DRAWING:
        if "text" in clean and "items" not in clean:
            if not new:
                raise ActionError(_("On a drawing card, text is written in text boxes on the card."))
            clean["items"] = surface.validate_items(surface.items_from_text(str(clean["text"]).replace("\x00", "")))
        if "items" in clean:
            clean["text"] = surface.items_text(clean["items"])
    if "background" in clean and clean["background"] not in Background.values:
        raise ActionError(_("Unknown background."))
    if clean.get("link_url"):
        try:
            URLValidator(schemes=["http", "https"])(str(clean["link_url"]))
        except ValidationError:
            raise ActionError(_("A web link must start with https:// or http://.")) from None
    for name, limit in (("title", 120), ("text", 20000), ("link_url", 2000)):
        if name in clean:
            clean[name] = str(clean[name]).replace("\x00", "")
            if len(clean[name]) > limit:
                raise ActionError(_("The text is too long."))
    return clean


WITH_FILE = (Card.Kind.IMAGE, Card.Kind.FILE)


def _check_content(kind: str, *, has_file: bool, link_url: object) -> None:
    """What a card of each kind needs, the same for the page and the API."""
    if kind not in Card.Kind.values:
        raise ActionError(_("Unknown kind of card."))
    if has_file and kind not in WITH_FILE:
        raise ActionError(_("Only image and file cards have a file."))
    if kind in WITH_FILE and not has_file:
        raise ActionError(_("Choose a photo or file."))
    if kind == Card.Kind.LINK and not link_url:
        raise ActionError(_("Enter the web link."))


def create_card(
    actor: User,
    *,
    kind: str,
    lesson_id: int | None = None,
    library: str = "",
    file_id: object = None,
    upload: Any = None,
    **fields: Any,
) -> Card:
    """A new card of ACTOR, in a lesson they attend or teach (lesson_id), in their materials box
    (library, staff only) or neither. An image or file card carries a file: one of ACTOR's own
    uploads (file_id) or an upload stored here (upload) — stored only once every other check has
    passed, and removed again if the card is refused after all. An image card whose file is not an
    image becomes a file card; without a title the card takes the file's name (cut to 120)."""
    if actor.school_id is None:
        raise ActionError(_("Only members of a school can make cards."))
    _check_content(kind, has_file=file_id is not None or upload is not None, link_url=fields.get("link_url"))
    lesson = card_access.lesson_for_new_card(actor, lesson_id) if lesson_id is not None else None
    if library and actor.role == Role.STUDENT:
        raise ActionError(_("Only staff have a materials box."))
    clean = _clean_fields(fields, kind, actor, new=True)
    stored = None
    if file_id is not None:
        stored = card_access.get_file_for(actor, file_id)
        if stored.owner_id != actor.pk:
            raise ActionError(_("You can only attach your own files."))
    if upload is not None:
        # Stored before the card's transaction opens: a storage call may last up to its deadlines,
        # and no database lock (SQLite's write lock above all, which every writer queues for) may
        # wait on it.
        stored = store_upload(actor, upload)
    try:
        with transaction.atomic():
            if stored is not None:
                if kind == Card.Kind.IMAGE and stored.kind != StoredFile.Kind.IMAGE:
                    kind = Card.Kind.FILE
                clean["title"] = clean.get("title") or stored.name[:120]
            card = Card(owner=actor, school_id=actor.school_id, kind=kind, library=library, file=stored)
            card.lesson = cast(Any, lesson)
            for name, value in clean.items():
                setattr(card, name, value)
            try:
                card.full_clean(
                    exclude=["owner", "school", "lesson", "file", "origin", "sent_by", "sequence", "strokes", "items"]
                )
            except ValidationError as error:
                raise ActionError(" ".join(error.messages)) from None
            card.save()
    except BaseException:
        if upload is not None and stored is not None:
            discard(stored)
        raise
    activity.edited(actor, card)
    return card


def autosave(actor: User, card_id: int, version: object, fields: object) -> Card:
    """Save an edit made on version `version`. A stale version is refused (VersionConflict); a
    version that is no whole number or fields that are no mapping are refused after the card is
    found (so a malformed body reveals nothing about other people's cards).

    One UPDATE guarded by the version (no transaction needed around a single statement); the
    card is read back only on a conflict, to hand the client the server's copy."""
    card = card_access.get_card_for(actor, card_id, edit=True)
    try:
        # OverflowError: a version of 1e999 (int(inf)); bool is no version
        version = int(version) if not isinstance(version, bool) and isinstance(version, int | str | float) else None
    except (ValueError, OverflowError):
        version = None
    if version is None or not isinstance(fields, dict | None):
        raise ActionError(_("The request is not valid."))
    clean = _clean_fields(fields or {}, card.kind, actor, existing=card.items or [])
    now = timezone.now()
    updated = Card.objects.filter(pk=card.pk, version=version, frozen=False).update(
        version=F("version") + 1, updated_at=now, **clean
    )
    if not updated:
        card.refresh_from_db()
        raise VersionConflict(card)
    for name, value in clean.items():
        setattr(card, name, value)
    card.version, card.updated_at = version + 1, now
    activity.edited(actor, card)  # the lesson writes only the first time (lessons.activity)
    return card


def copy_card(
    card: Card,
    *,
    owner: User,
    lesson: Any = None,
    sent_by: User | None = None,
    library: str = "",
    frozen: bool = False,
) -> Card:
    """A deep copy (with its linked sequence). Files are shared, not duplicated: they are immutable."""
    return copy_cards([card], owners=[owner], lesson=lesson, sent_by=sent_by, library=library, frozen=frozen)[owner.pk][
        0
    ]


CONTENT_FIELDS = ("kind", "title", "text", "link_url", "file_id", "strokes", "background", "items")


def copy_cards(
    cards: list[Card],
    *,
    owners: list[User],
    lesson: Any = None,
    sent_by: User | None = None,
    library: str = "",
    frozen: bool = False,
) -> dict[int, list[Card]]:
    """Deep copies of `cards` for every owner in bulk inserts, not one insert per copy: a send to a
    class of 40 costs the statements of a send to one pupil (SQLite splits an insert of more than
    ~50 cards into batches, so a school of 1,000 takes ~20 per card).

    Returns each owner's copies in the order of `cards`. Sequence items keep their positions."""
    items = {card.pk: list(card.sequence_items.order_by("position")) for card in cards}
    pairs = [(owner, card) for owner in owners for card in cards]
    leads = [
        _clone(card, owner, lesson=lesson, sent_by=sent_by, frozen=frozen, library=library) for owner, card in pairs
    ]
    Card.objects.bulk_create(leads)
    followers = [
        _clone(
            item,
            lead.owner,
            lesson=lesson,
            sent_by=sent_by,
            frozen=frozen,
            library="",
            sequence=lead,
            position=item.position,
        )
        for lead, (_, card) in zip(leads, pairs, strict=True)
        for item in items[card.pk]
    ]
    if followers:
        Card.objects.bulk_create(followers)
    copies: dict[int, list[Card]] = {owner.pk: [] for owner in owners}
    for lead in leads:
        copies[lead.owner_id].append(lead)
    return copies


def _clone(card: Card, owner: User, **fields: Any) -> Card:
    content = {name: getattr(card, name) for name in CONTENT_FIELDS}
    return Card(origin=card, owner=owner, school_id=owner.school_id or card.school_id, **content, **fields)


def link_sequence(actor: User, lead_id: int, card_ids: list[int]) -> Card:
    """Make `card_ids` (in this order) the sequence presented after the lead card."""
    lead = card_access.get_card_for(actor, lead_id, edit=True)
    cards = {c.pk: c for c in card_access.editable_cards(actor).filter(pk__in=card_ids).exclude(pk=lead.pk)}
    if len(cards) != len(set(card_ids)) or lead.pk in card_ids:
        raise ActionError(_("Only your own cards can be linked."))
    with transaction.atomic():
        Card.objects.filter(sequence=lead).update(sequence=None, position=0)
        for position, card_id in enumerate(card_ids, start=1):
            Card.objects.filter(pk=card_id).update(sequence=lead, position=position)
    return lead


def save_to_library(actor: User, card_id: int, library: str) -> Card:
    card = card_access.get_card_for(actor, card_id)
    if library not in (Card.Library.PERSONAL, Card.Library.SCHOOL):
        raise ActionError(_("Unknown library."))
    if actor.role == Role.STUDENT:
        raise ActionError(_("Only staff have a materials box."))
    with transaction.atomic():
        return copy_card(card, owner=actor, library=library)


def delete_card(actor: User, card_id: int) -> Card:
    """Delete one of ACTOR's own cards; returns it (its lesson_id tells the page where to go back)."""
    card = card_access.get_card_for(actor, card_id, edit=True)
    card.delete()
    return card
