"""Whether a pupil has opened the lesson and worked on it, for the teacher's roster strip.

Two moments are stored per pupil and lesson (LessonActivity): the first time the pupil opens the
lesson (its page, or one of their cards in it) and the first time they work on a card of it (make
one, or save an edit). Only these transitions write and announce (``pupil.activity``, addressed to
the lesson's teachers): a pupil's later visits and autosaves cost one indexed read and nothing
else. Only pupils of the class are recorded, only while the lesson is open; the pupils never see
anyone's state, the class's teachers do (lessons.queries.roster, lessons.streams.replay)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from classnote.base.roles import Role
from classnote.cards import activity as card_activity
from classnote.lessons import access, streams
from classnote.lessons.models import Lesson, LessonActivity
from classnote.realtime.events import emit


def note_opened(actor: Any, lesson_id: int) -> bool:
    """The pupil opened the lesson or one of their cards in it. True when this was the first time."""
    return _note(actor, lesson_id, drafted=False)


def note_drafted(actor: Any, lesson_id: int) -> bool:
    """The pupil made or saved a card of the lesson. True when this was the first time."""
    return _note(actor, lesson_id, drafted=True)


def _note(actor: Any, lesson_id: int, *, drafted: bool) -> bool:
    if getattr(actor, "role", None) != Role.STUDENT:
        return False
    known = LessonActivity.objects.filter(lesson_id=lesson_id, pupil_id=actor.pk).only("drafted_at").first()
    if known is not None and (known.drafted_at is not None or not drafted):
        return False  # nothing new: no write
    if not access.readable_lessons(actor).filter(pk=lesson_id, closed_at__isnull=True).exists():
        return False  # not (or no longer) the pupil's class, or the lesson has ended
    now = timezone.now()
    with transaction.atomic():
        row, changed = LessonActivity.objects.get_or_create(
            lesson_id=lesson_id, pupil_id=actor.pk, defaults={"opened_at": now, "drafted_at": now if drafted else None}
        )
        if drafted and not changed:  # opened before, working now (only once, even when two saves race)
            changed = LessonActivity.objects.filter(pk=row.pk, drafted_at__isnull=True).update(drafted_at=now) == 1
        if changed:
            emit(
                Lesson.channel_name(lesson_id),
                streams.ACTIVITY,
                data={"pupil_id": actor.pk, "state": streams.DRAFTED if drafted else streams.OPENED},
                detail={"pupil": actor.display_name},
                roles=[streams.TEACHER],
            )
    return changed


def register() -> None:
    card_activity.register(opened=note_opened, edited=note_drafted)
