"""Login attempts are counted *before* the credentials are checked.

Reading the counter, checking the password and counting only a failure lets parallel guesses
through: 16 at once all read "7 failures" and all got a password check (issue 12). So each attempt
takes its place in allauth's rate-limit counters first (``settings.ACCOUNT_RATE_LIMITS``); a
successful login gives its place back, as allauth's own staff login does. allauth updates a counter
under a lock taken with ``cache.add`` — atomic in the process-local cache, and in scale-out in the
database, where the login-failure counters live instead of Redis (an INSERT on the primary key;
``DURABLE_KEYS`` in settings, classnote.core.cache), so the bound holds across processes and a
lockout across a Redis restart. When the lock cannot be had within a second the attempt is refused,
never let through unchecked.

List the per-key rate before the per-address one in a setting: a refused attempt then stops at the
per-account limit and does not use up the address's budget, which a whole school shares.
"""

from __future__ import annotations

from allauth.core.internal import ratelimit
from django.http import HttpRequest


def count_attempt(request: HttpRequest, action: str, key: str | None = None) -> ratelimit.RateLimitUsage | None:
    """Count one attempt of ``action``; ``None`` when a limit is reached (refuse without checking).
    Call ``.rollback()`` on the result when the attempt succeeded."""
    return ratelimit.consume(request, app="allauth.account", action=action, key=key)
