"""The lesson's event channel ("lesson:<id>"): who may listen (a pupil or teacher of the lesson,
decided by lessons.access) and which lesson channels concern a person (the lessons of their
classes), registered with classnote.realtime.channels when the app is ready."""

from __future__ import annotations

from typing import Any

from classnote.lessons import access
from classnote.lessons.models import Lesson
from classnote.realtime import channels
from classnote.tenancy.models import Membership

# The listener roles of a lesson's channel: events are addressed to them (lessons.actions).
TEACHER = "teacher"
PUPIL = "student"


def listener(user: Any, lesson_id: int) -> channels.Listener | None:
    lesson = access.with_relation(access.readable_lessons(user), user).filter(pk=lesson_id).first()
    if lesson is None:
        return None
    return channels.Listener(lesson.channel, TEACHER if lesson.teaching else PUPIL)


def channels_of(person: Any) -> list[str]:
    """The channels of the lessons of every class the person is (or was, while the membership
    stands) a member of."""
    classes = Membership.objects.filter(user_id=getattr(person, "pk", 0)).values("school_class")
    return [
        Lesson.channel_name(pk) for pk in Lesson.objects.filter(school_class__in=classes).values_list("pk", flat=True)
    ]


def register() -> None:
    channels.register("lesson", listener, person_channels=channels_of)
