from __future__ import annotations

import logging
import time
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.flows.login import get_authentication_records
from allauth.core import context
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from classnote.core import security_log

logger = logging.getLogger(__name__)


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Accounts are created by school and municipal administrators, never by self-signup.
        return False

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        """allauth's per-account and per-address limits on failed logins; a refusal is logged."""
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError:
            security_log.throttled("staff")
            raise

    def is_reauthentication_required(self, *, app: str, **kwargs: Any) -> bool:
        """A login within the reauthentication window counts as a fresh proof of identity, so an
        administrator setting up two-factor login right after logging in is not asked twice."""
        request = context.request
        if request is not None and request.user.is_authenticated:
            records = get_authentication_records(request, request.user)
            if records and time.time() - records[-1]["at"] < settings.ACCOUNT_REAUTHENTICATION_TIMEOUT:
                return False
        return bool(super().is_reauthentication_required(app=app, **kwargs))

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        """classnote sends no mail through allauth: accounts have no e-mail address, and allauth's
        mails (password reset, "unknown account", address confirmation) went to whatever address
        someone typed. Its pages for them are replaced (classnote.urls); should one be reached
        anyway, nothing is sent and the attempt is logged without the address."""
        logger.warning("allauth mail not sent: %s", template_prefix, extra={"event": "mail.refused"})

    def add_message(
        self,
        request: HttpRequest,
        level: int,
        message_template: str | None = None,
        message_context: Any = None,
        extra_tags: str = "",
        message: str | None = None,
    ) -> None:
        # "Successfully signed in as <login ID>" would show the login ID on a shared screen.
        if message_template == "account/messages/logged_in.txt":
            return
        super().add_message(request, level, message_template, message_context, extra_tags, message)
