"""Step-up authentication for sensitive actions.

Call ``require_recent_login(request)`` in a view *after* its access check (so another tenant's ids
are refused with 404 first): without a recent login or reauthentication (allauth's
ACCOUNT_REAUTHENTICATION_TIMEOUT), allauth sends the user to confirm their password or second
factor and then replays the suspended POST. The API cannot send anyone to a page: it answers 403
when ``recently_authenticated`` is false.

The sensitive actions (SECURITY.md lists them; tests/security/test_mfa.py proves each):
exports of a person's data (the school's portfolio export, handing a portfolio to another
organisation, the disclosure export of a data-subject request), deletion and cessation of use,
changes of who may do what (deactivating or reactivating an account, recording that a pupil left,
which ends the account, creating an administrator, granting operator support access, the
municipality's policy), and new credentials for someone (resetting a password, printing QR login
cards, importing a roster, making a personal API token). Managing one's own second factors is guarded by allauth
itself.
"""

from __future__ import annotations

from allauth.account.internal.flows.reauthentication import (
    is_reauthentication_required,
    raise_if_reauthentication_required,
)
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext as _


class RecentLoginRequired(PermissionDenied):
    """The API's refusal (403) of a sensitive operation without a recent login."""

    def __init__(self) -> None:
        self.message = _(
            "Confirm it is you first: enter your password at /accounts/reauthenticate/, "
            "then try again within five minutes."
        )
        super().__init__(self.message)


def require_recent_login(request: HttpRequest) -> None:
    raise_if_reauthentication_required(request, app="")


def recently_authenticated(request: HttpRequest) -> bool:
    return not is_reauthentication_required(request, app="")


def require_recent_login_api(request: HttpRequest) -> None:
    if not recently_authenticated(request):
        raise RecentLoginRequired
