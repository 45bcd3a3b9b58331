"""The request of a view that only signed-in users reach (see classnote.tenancy.access.audience)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:  # for the type checker only: base imports nothing of classnote at run time
    from classnote.accounts.models import User


class AuthedRequest(HttpRequest):
    user: User
