"""A tamper-evident, append-only audit log: each entry carries the SHA-256 of its content and of
the entry before it, and a single head row holds the latest hash, so `classnote audit verify`
finds any edited, inserted or deleted entry. Entries hold ids, never names or content."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from classnote.base import inventory as _inv
from classnote.base.inventory import Audience as _A
from classnote.base.inventory import Basis as _B
from classnote.base.inventory import Category as _C
from classnote.base.inventory import Purpose as _P
from classnote.base.inventory import kept_reference


class AuditHead(models.Model):
    """One row; locked while an entry is appended, so the chain never forks."""

    last_hash = models.CharField(max_length=64, default="0" * 64)
    count = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"audit head after {self.count} entries"


class AuditEntry(models.Model):
    at = models.DateTimeField()
    actor = kept_reference(settings.AUTH_USER_MODEL, verbose_name=_("who acted"))
    actor_role = models.CharField(max_length=20, blank=True)
    action = models.CharField(max_length=60)
    municipality = kept_reference("tenancy.Municipality")
    school = kept_reference("tenancy.School")
    # The person whose data the entry concerns (a pupil whose card a teacher opened): it is how a
    # pupil sees who viewed their work.
    subject = kept_reference(settings.AUTH_USER_MODEL, verbose_name=_("person concerned"))
    target_type = models.CharField(max_length=40, blank=True)
    target_id = models.CharField(max_length=64, blank=True, verbose_name=_("target"))
    details = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name = _("Audit entry")
        ordering = ["id"]
        indexes = [
            models.Index(fields=["municipality", "at"]),
            models.Index(fields=["school", "at"]),
            models.Index(fields=["subject", "at"]),
        ]

    def __str__(self) -> str:
        return f"audit #{self.pk} {self.action}"


_KEPT = "security record kept 5 years; it holds ids and codes only, which name nobody once the account is gone"
_inv.declare(AuditHead, not_personal=["id", "last_hash", "count"])
_inv.declare(
    AuditEntry,
    personal={
        "actor": _inv.personal(
            _C.TECHNICAL,
            purposes=[_P.SECURITY],
            basis=_B.LEGAL_OBLIGATION,
            retention="5 years (security record)",
            audience=[_A.SCHOOL_ADMINS, _A.MUNICIPAL_ADMINS],
        ),
        "target_id": _inv.personal(
            _C.TECHNICAL,
            purposes=[_P.SECURITY],
            basis=_B.LEGAL_OBLIGATION,
            retention="5 years (security record)",
            audience=[_A.SCHOOL_ADMINS, _A.MUNICIPAL_ADMINS],
        ),
        "subject": _inv.personal(
            _C.TECHNICAL,
            purposes=[_P.SECURITY],
            basis=_B.LEGAL_OBLIGATION,
            retention="5 years (security record)",
            audience=[_A.SELF, _A.SCHOOL_ADMINS, _A.MUNICIPAL_ADMINS],
        ),
    },
    subject=[
        _inv.link("actor", _inv.Erase.KEEP, _KEPT),
        _inv.link("subject", _inv.Erase.KEEP, _KEPT),
    ],
    not_personal=[
        "id",
        "at",
        "actor_role",
        "action",
        "municipality",
        "school",
        "target_type",
        "details",
        "prev_hash",
        "hash",
    ],
)
