"""Spam resistance of the complaints form (the shared pieces are classnote.core.formguard): a
honeypot field, a signed timestamp, a per-address rate limit taken before a case is opened, and a
daily limit of acknowledgements mailed to one e-mail address."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from classnote.core import formguard
from classnote.core.formguard import HONEYPOT_FIELD, TOKEN_FIELD, WINDOW_SECONDS, Refusal, client_ip

__all__ = ["HONEYPOT_FIELD", "TOKEN_FIELD", "Refusal", "client_ip"]

_SALT = "classnote.complaints.form"
_NAMESPACE = "complaints"


def form_token() -> str:
    return formguard.form_token(_SALT)


def check_form(data: Mapping[str, Any]) -> Refusal | None:
    """Why this form looks sent by a machine, or None."""
    return formguard.check_form(data, _SALT)


def _over(kind: str, value: str, limit: int) -> bool:
    return formguard.over(_NAMESPACE, kind, value, limit)


def _count(kind: str, value: str, window: int) -> int:
    return formguard.count(_NAMESPACE, kind, value, window)


def _take(kind: str, value: str, limit: int, window: int) -> bool:
    return formguard.take(_NAMESPACE, kind, value, limit, window)


def submissions_exhausted(request: HttpRequest) -> bool:
    return _over("sent", client_ip(request), settings.PRIVACY_COMPLAINTS_PER_HOUR)


def count_submission(request: HttpRequest) -> None:
    """Count a refused (machine-like) form against the client's hourly limit."""
    _count("sent", client_ip(request), WINDOW_SECONDS)


def take_submission(request: HttpRequest) -> bool:
    """Count a form about to open a case; False when it is over the client's hourly limit."""
    return _take("sent", client_ip(request), settings.PRIVACY_COMPLAINTS_PER_HOUR, WINDOW_SECONDS)


# Acknowledgements mailed to one address a day, whoever sends the form: the address is typed by the
# sender, so without this the form could flood somebody else's mailbox from many networks.
ACKNOWLEDGEMENTS_PER_ADDRESS = 3
ACKNOWLEDGEMENT_WINDOW_SECONDS = 24 * 3600


def take_acknowledgement(address: str) -> bool:
    """Count an acknowledgement to ADDRESS; False when the address has had its share today."""
    return _take("ack", address.strip().lower(), ACKNOWLEDGEMENTS_PER_ADDRESS, ACKNOWLEDGEMENT_WINDOW_SECONDS)


# Wrong access codes on the status page: per client address and per case reference.
CODE_ATTEMPTS_PER_ADDRESS = 20
CODE_ATTEMPTS_PER_CASE = 10


def code_attempts_exhausted(request: HttpRequest, reference: str) -> bool:
    return _over("code-ip", client_ip(request), CODE_ATTEMPTS_PER_ADDRESS) or _over(
        "code-case", reference.strip().upper(), CODE_ATTEMPTS_PER_CASE
    )


def count_wrong_code(request: HttpRequest, reference: str) -> None:
    _count("code-ip", client_ip(request), WINDOW_SECONDS)
    _count("code-case", reference.strip().upper(), WINDOW_SECONDS)
