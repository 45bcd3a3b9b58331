"""Step-up authentication for sensitive actions (exports, deletion, cessation of use).

Call ``require_recent_login(request)`` in a view *after* its access check (so another tenant's ids
are refused with 404 first): without a recent login or reauthentication (allauth's
ACCOUNT_REAUTHENTICATION_TIMEOUT), allauth sends the user to confirm their password or second
factor and then replays the suspended POST."""

from __future__ import annotations

from allauth.account.internal.flows.reauthentication import raise_if_reauthentication_required
from django.http import HttpRequest


def require_recent_login(request: HttpRequest) -> None:
    raise_if_reauthentication_required(request, app="")
