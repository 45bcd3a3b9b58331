"""Access rules of cards and of the files on them.

A user reads their own cards, the school's materials (teaching staff) and what the lessons app adds:
cards inside lessons are lesson content, and the lessons app — which sits above cards — registers
the rule for them when it is ready (``register_lessons``, like the channel resolvers of
classnote.realtime.channels). Only a card's owner edits it, and never a submitted (frozen) snapshot.
A file is read by its owner and by whoever may read a card it is on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Model, Q, QuerySet

from classnote.base.errors import NotFound
from classnote.base.roles import TEACHING_ROLES
from classnote.cards.models import Card
from classnote.files.models import StoredFile
from classnote.tenancy.access import get_one

if TYPE_CHECKING:
    from classnote.accounts.models import User


@dataclass(frozen=True)
class LessonRules:
    readable: Callable[[Any], Q]  # user -> the lesson cards beyond their own that they may read
    lesson_for: Callable[[Any, object], Model]  # (user, lesson id) -> a lesson they may put a card in


_lessons: list[LessonRules] = []


def register_lessons(*, readable: Callable[[Any], Q], lesson_for: Callable[[Any, object], Model]) -> None:
    _lessons[:] = [LessonRules(readable, lesson_for)]


def card_rule(user: User) -> Q:
    rule = Q(owner_id=user.pk)
    if user.role in TEACHING_ROLES:
        rule |= Q(library=Card.Library.SCHOOL, school_id=user.school_id)
    for lessons in _lessons:
        rule |= lessons.readable(user)
    return rule


def readable_cards(user: User) -> QuerySet[Card]:
    return Card.objects.filter(card_rule(user))


def editable_cards(user: User) -> QuerySet[Card]:
    return Card.objects.filter(owner_id=user.pk, frozen=False)


def get_card_for(user: User, pk: object, *, edit: bool = False, defer: tuple[str, ...] = ()) -> Card:
    """The card, if USER may read it (or edit it); DEFER names fields loaded only when used (a drawing
    whose render is stored needs no strokes)."""
    cards = editable_cards(user) if edit else readable_cards(user)
    return get_one(cards.defer(*defer) if defer else cards, pk)


def lesson_for_new_card(user: User, lesson_id: object) -> Model:
    """The lesson a new card of the user goes into (one they attend or teach); NotFound otherwise."""
    if not _lessons:
        raise NotFound
    return _lessons[0].lesson_for(user, lesson_id)


def readable_files(user: User) -> QuerySet[StoredFile]:
    return StoredFile.objects.filter(Q(owner_id=user.pk) | Q(cards__in=readable_cards(user).values("pk"))).distinct()


def get_file_for(user: User, pk: object) -> StoredFile:
    return get_one(readable_files(user), pk)


def usable_images(owner: User, ids: list[str]) -> set[str]:
    """Of IDS, the files OWNER may read (classnote's rules above) that are pictures: what an image
    item on OWNER's card may show."""
    if not ids:
        return set()
    found = readable_files(owner).filter(pk__in=ids, kind=StoredFile.Kind.IMAGE).values_list("pk", flat=True)
    return {str(pk) for pk in found}


def get_item_image_for(user: User, card_id: object, file_id: object) -> StoredFile:
    """The picture of an image item on a card USER may read (NotFound otherwise): whoever reads the
    card sees its pictures, as they see them in its rendered picture."""
    card = get_card_for(user, card_id)
    if str(file_id) not in surface_image_ids(card.items):
        raise NotFound
    return get_one(StoredFile.objects.filter(kind=StoredFile.Kind.IMAGE), file_id)


def surface_image_ids(items: Any) -> list[str]:
    """The file ids of the image items of a card's stored ITEMS."""
    return [
        str(item["f"])
        for item in (items if isinstance(items, list) else [])
        if isinstance(item, dict) and item.get("k") == "image" and isinstance(item.get("f"), str)
    ]
