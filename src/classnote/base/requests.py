"""The request of a view that only signed-in users reach (see classnote.tenancy.access.audience)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:  # for the type checker only: base imports nothing of classnote at run time
    from classnote.accounts.models import User


class AuthedRequest(HttpRequest):
    user: User


def wants_json(request: HttpRequest) -> bool:
    """The API, and the scripts of our pages that send and read JSON (autosave, the outbox)."""
    return (
        request.path.startswith("/api/")
        or request.content_type == "application/json"
        or "application/json" in request.headers.get("Accept", "")
    )
