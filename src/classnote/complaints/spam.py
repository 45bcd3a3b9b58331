"""Spam resistance of the public form without third-party services: a honeypot field people do not
see, a signed timestamp that refuses forms sent within seconds of loading or loaded too long ago,
a per-address rate limit in Django's cache (shared by every process when REDIS_URL is set), taken
before a case is opened, and a daily limit of acknowledgements mailed to one e-mail address."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from enum import Enum
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.http import HttpRequest

HONEYPOT_FIELD = "website"
TOKEN_FIELD = "started"  # noqa: S105 - a form field name, not a secret
_SALT = "classnote.complaints.form"
MIN_SECONDS = 3  # people need longer than this to write a complaint
MAX_SECONDS = 24 * 3600  # a form older than a day is sent again from a fresh page
WINDOW_SECONDS = 3600


class Refusal(Enum):
    HONEYPOT = "honeypot"
    TOO_FAST = "too fast"
    TOO_OLD = "too old"
    BAD_TOKEN = "bad token"  # noqa: S105 - a refusal reason, not a secret


def client_ip(request: HttpRequest) -> str:
    """The client address: REMOTE_ADDR, unless TRUSTED_PROXY_COUNT says proxies set X-Forwarded-For
    (the same rule allauth's rate limits follow)."""
    proxies = settings.ALLAUTH_TRUSTED_PROXY_COUNT
    forwarded = request.headers.get("x-forwarded-for", "")
    if proxies > 0 and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return str(request.META.get("REMOTE_ADDR", "") or "unknown")


def _key(kind: str, value: str) -> str:
    # Hashed: cache keys may be listed by an operator; client addresses are personal data.
    return f"complaints:{kind}:" + hashlib.sha256(value.encode()).hexdigest()[:32]


def form_token() -> str:
    return signing.dumps(int(time.time()), salt=_SALT)


def check_form(data: Mapping[str, Any]) -> Refusal | None:
    """Why this form looks sent by a machine, or None."""
    if data.get(HONEYPOT_FIELD, ""):
        return Refusal.HONEYPOT
    try:
        started = signing.loads(data.get(TOKEN_FIELD, "") or "", salt=_SALT, max_age=MAX_SECONDS)
    except signing.SignatureExpired:
        return Refusal.TOO_OLD
    except signing.BadSignature:
        return Refusal.BAD_TOKEN
    if not isinstance(started, int):
        return Refusal.BAD_TOKEN
    if time.time() - started < MIN_SECONDS:
        return Refusal.TOO_FAST
    return None


def _over(kind: str, value: str, limit: int) -> bool:
    count = cache.get(_key(kind, value), 0)
    return int(count) >= limit


def _count(kind: str, value: str, window: int) -> int:
    """Count one, atomically (``cache.add`` and ``cache.incr`` are single operations in the
    process-local cache and in Redis); returns the count including this one."""
    key = _key(kind, value)
    if cache.add(key, 1, window):
        return 1
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.add(key, 1, window)
        return 1


def _take(kind: str, value: str, limit: int, window: int) -> bool:
    """Count one and say whether it is within LIMIT: reading the count first and counting later
    would let parallel requests all read "under the limit"."""
    return _count(kind, value, window) <= limit


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
