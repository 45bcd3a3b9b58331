"""What every page of a pupil carries for "eyes on me" (the teacher's screen lock): base.html renders
the lock from the server while a lesson of the pupil's classes is locked, and static/classnote/lock.js
follows it live. Computed only when a template reads it, and only for pupils."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from classnote.base.roles import Role
from classnote.lessons import queries


def screen_lock(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if getattr(user, "role", None) != Role.STUDENT:
        return {"screen_lock": None}
    return {"screen_lock": SimpleLazyObject(lambda: queries.screen_lock(user))}  # type: ignore[arg-type]
