"""The database's cache table (classnote.core.cache): login-failure counters kept durably, and what
the cache holds while Redis is down.

Django's ``DatabaseCache`` reads and writes it with SQL of its own; the model exists so that
``migrate`` creates the table (from a clean checkout, in tests and in ``classnote serve``) and the
data inventory can declare it.
"""

from __future__ import annotations

from django.db import models

from classnote.base import inventory as _inv
from classnote.base.inventory import Audience as _A
from classnote.base.inventory import Basis as _B
from classnote.base.inventory import Category as _C
from classnote.base.inventory import Purpose as _P
from classnote.core.cache import CACHE_TABLE


class CacheEntry(models.Model):
    """One cache entry: the key (as the cache makes it), the pickled value (base64), and its expiry.
    The column types are those of Django's ``createcachetable``."""

    cache_key = models.CharField(max_length=255, primary_key=True)
    value = models.TextField()
    expires = models.DateTimeField(db_index=True)

    class Meta:
        db_table = CACHE_TABLE

    def __str__(self) -> str:
        return "cache entry"  # never the key: it may name an account (hashed) or an address


_COPY = _inv.personal(
    _C.TECHNICAL,
    purposes=[_P.LOGIN, _P.SECURITY],
    basis=_B.LEGITIMATE_INTEREST,
    retention="at most 15 minutes after the last failed login; copies made while Redis is down: until it answers again",
    audience=[_A.NOBODY],
)
_inv.declare(
    CacheEntry,
    # Keys: login-failure counters name the account by a SHA-256 of the login name, and the address of
    # the failed attempt. Values: the counters' timestamps; while Redis is down, also the cache's copies
    # of sessions and of the signed-in user's row (with its password hash), as Redis would hold them.
    personal={"cache_key": _COPY, "value": _COPY},
    not_personal=["expires"],
    unlinked=(
        "cache entries are keyed by hashes, addresses and session keys, not by account; they are derived"
        " copies or short-lived counters that expire within minutes (a session copy within its session),"
        " and a person's cached user row is dropped when the person is deleted (accounts.usercache)"
    ),
)
