"""Spam resistance of public forms without third-party services, shared by the complaints form and
the status page's subscription form: a honeypot field people do not see, a signed timestamp that
refuses forms sent within seconds of loading or loaded too long ago, and counters in Django's cache
(shared by every process when REDIS_URL is set) for per-client and per-address limits.

Each form names its own ``salt`` (a token of one form is no good for another) and ``namespace``
(its counters are its own). Counted values (client addresses, e-mail addresses) are hashed in the
cache keys: an operator may list the keys, and the values are personal data."""

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
MIN_SECONDS = 3  # people need longer than this to fill a form in
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


def form_token(salt: str) -> str:
    return signing.dumps(int(time.time()), salt=salt)


def check_form(data: Mapping[str, Any], salt: str) -> Refusal | None:
    """Why this form looks sent by a machine, or None."""
    if data.get(HONEYPOT_FIELD, ""):
        return Refusal.HONEYPOT
    try:
        started = signing.loads(data.get(TOKEN_FIELD, "") or "", salt=salt, max_age=MAX_SECONDS)
    except signing.SignatureExpired:
        return Refusal.TOO_OLD
    except signing.BadSignature:
        return Refusal.BAD_TOKEN
    if not isinstance(started, int):
        return Refusal.BAD_TOKEN
    if time.time() - started < MIN_SECONDS:
        return Refusal.TOO_FAST
    return None


def _key(namespace: str, kind: str, value: str) -> str:
    return f"{namespace}:{kind}:" + hashlib.sha256(value.encode()).hexdigest()[:32]


def over(namespace: str, kind: str, value: str, limit: int) -> bool:
    """Whether VALUE has reached LIMIT already (without counting)."""
    return int(cache.get(_key(namespace, kind, value), 0)) >= limit


def count(namespace: str, kind: str, value: str, window: int) -> int:
    """Count one, atomically (``cache.add`` and ``cache.incr`` are single operations in the
    process-local cache and in Redis); returns the count including this one."""
    key = _key(namespace, kind, value)
    if cache.add(key, 1, window):
        return 1
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.add(key, 1, window)
        return 1


def take(namespace: str, kind: str, value: str, limit: int, window: int) -> bool:
    """Count one and say whether it is within LIMIT: reading the count first and counting later
    would let parallel requests all read "under the limit"."""
    return count(namespace, kind, value, window) <= limit
