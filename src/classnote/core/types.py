from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from classnote.accounts.models import User


class AuthedRequest(HttpRequest):
    """The request of a view that only signed-in users reach (see tenancy.access.audience)."""

    user: User
