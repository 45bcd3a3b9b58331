"""The core app's tables.

* The idempotency ledger: the outcome of each write that carried an ``Idempotency-Key``
  (core/idempotency.py), so a retry of a write that committed gets the first outcome again instead
  of a duplicate. Kept IDEMPOTENCY_KEY_HOURS, then purged (core/tasks.py, and the retention job).
* The database's cache table (classnote.core.cache): login-failure counters kept durably, and what
  the cache holds while Redis is down. Django's ``DatabaseCache`` reads and writes it with SQL of
  its own; the model exists so that ``migrate`` creates the table (from a clean checkout, in tests
  and in ``classnote serve``) and the data inventory can declare it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from classnote.base import inventory as _inv
from classnote.base.inventory import Audience as _A
from classnote.base.inventory import Basis as _B
from classnote.base.inventory import Category as _C
from classnote.base.inventory import Purpose as _P

# Bodies up to this size are stored and replayed; a larger one is replayed empty, with a header.
MAX_STORED_BODY = 64 * 1024


class IdempotencyKey(models.Model):
    """One write's key and outcome, per person (two people may use the same key)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("person")
    )
    key = models.CharField(max_length=128)
    # The request's fingerprint: the same key with another request is refused (422).
    method = models.CharField(max_length=7)
    path = models.TextField(verbose_name=_("request path"))
    body_sha256 = models.CharField(max_length=64)
    # The outcome replayed to a retry.
    status = models.PositiveSmallIntegerField()
    content_type = models.CharField(max_length=200, blank=True)
    location = models.TextField(blank=True, verbose_name=_("redirect address"))
    # None: larger than MAX_STORED_BODY, replayed empty.
    body = models.BinaryField(null=True, verbose_name=_("stored response"))
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("Repeated-write record")
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique")]

    def __str__(self) -> str:
        return f"{self.method} {self.status} ({self.created_at:%Y-%m-%d %H:%M})"


def expired(now: datetime | None = None) -> models.QuerySet[IdempotencyKey]:
    """Records older than IDEMPOTENCY_KEY_HOURS."""
    cutoff = (now or timezone.now()) - timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS)
    return IdempotencyKey.objects.filter(created_at__lt=cutoff)


# --- Data inventory (classnote.privacy.inventory) ------------------------------------------------

RETENTION = "24 hours after the write (the operator may set another period); then deleted by an hourly job"
_RECORD = {
    "purposes": [_P.LESSON, _P.SECURITY],
    "basis": _B.ENTRUSTED,
    "retention": RETENTION,
    "audience": [_A.SELF],  # replayed only to the person who made the write
}
_inv.declare(
    IdempotencyKey,
    personal={
        "user": _inv.personal(_C.TECHNICAL, **_RECORD),  # type: ignore[arg-type]
        # Which objects the person wrote to (ids in the path and the redirect).
        "path": _inv.personal(_C.TECHNICAL, **_RECORD),  # type: ignore[arg-type]
        "location": _inv.personal(_C.TECHNICAL, **_RECORD),  # type: ignore[arg-type]
        # A copy of the answer to the write: may repeat the person's work (a card, a submission).
        "body": _inv.personal(_C.LEARNING_RECORD, mext_class="II", **_RECORD),  # type: ignore[arg-type]
    },
    not_personal=["id", "key", "method", "body_sha256", "status", "content_type", "created_at"],
    subject=[_inv.link("user", _inv.Erase.DELETE)],
)


# The database's cache table (classnote.core.cache; settings.CACHES names it too).
CACHE_TABLE = "classnote_cache"


class CacheEntry(models.Model):
    """One cache entry: the key (as the cache makes it), the pickled value (base64), and its expiry.
    The column types are those of Django's ``createcachetable``."""

    cache_key = models.CharField(max_length=255, primary_key=True, verbose_name=_("cache key"))
    value = models.TextField(verbose_name=_("cached value"))
    expires = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("Cache entry")
        db_table = CACHE_TABLE

    def __str__(self) -> str:
        return "cache entry"  # never the key: it may name an account (hashed) or an address


_COPY = _inv.personal(
    _C.TECHNICAL,
    purposes=[_P.LOGIN, _P.SECURITY],
    basis=_B.LEGITIMATE_INTEREST,
    retention=(
        "at most 15 minutes after the last failed login; copies made while the shared cache is down: "
        "until it answers again"
    ),
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
