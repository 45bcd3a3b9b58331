"""Who may listen to which lesson and class streams (decided through tenancy.access)."""

from __future__ import annotations

from typing import Any

from classnote.realtime import channels
from classnote.tenancy import access


def _lesson(user: Any, lesson_id: int) -> channels.Listener | None:
    lesson = access.readable_lessons(user).filter(pk=lesson_id).first()
    if lesson is None:
        return None
    teaching = access.teaching_lessons(user).filter(pk=lesson_id).exists()
    return channels.Listener(lesson.channel, "teacher" if teaching else "student")


def _class(user: Any, class_id: int) -> channels.Listener | None:
    school_class = access.readable_classes(user).filter(pk=class_id).first()
    if school_class is None or user.role not in ("student", "teacher", "school_admin"):
        return None
    return channels.Listener(f"class:{school_class.pk}", "student" if user.role == "student" else "teacher")


def register() -> None:
    channels.register("lesson", _lesson)
    channels.register("class", _class)
