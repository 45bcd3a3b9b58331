"""Operator support grants and provision records.

* ``SupportGrant``: a municipal administrator lets the operator see the tenant's schools, classes
  and user list (display names and roles only, never lesson content) until a set time, for a
  support ticket. Every read under it is audited in the tenant's log.
* ``ProvisionRecord``: a pupil's data handed to another organisation (e.g. their portfolio to the
  school they move to in another board), with the recipient, date, items and legal basis — the
  record APPI requires the provider to keep (3 years) and to disclose to the person on request.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from classnote.base import inventory as _inv
from classnote.base.inventory import Audience as _A
from classnote.base.inventory import Basis as _B
from classnote.base.inventory import Category as _C
from classnote.base.inventory import Purpose as _P
from classnote.base.inventory import kept_reference
from classnote.tenancy.models import Municipality

reference_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9 ._#/:-]{1,39}$",
    _("Use 2–40 letters, digits, spaces or . _ # / : -, starting with a letter or digit."),
)


class SupportGrant(models.Model):
    class Reason(models.TextChoices):
        FAULT = "fault", _("Investigating a fault")
        ACCOUNTS = "accounts", _("Help with accounts, classes or rosters")
        SETUP = "setup", _("Setting up or moving the tenant's data")
        OTHER = "other", _("Other (see the ticket)")

    municipality = models.ForeignKey(Municipality, on_delete=models.CASCADE, related_name="+")
    # The support ticket it is for: a code, never a person's name.
    reference = models.CharField(_("ticket reference"), max_length=40, validators=[reference_validator])
    reason = models.CharField(_("reason"), max_length=10, choices=Reason.choices)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("granted by")
    )
    granted_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("revoked by"),
    )

    class Meta:
        verbose_name = _("Support access")
        ordering = ["-granted_at"]
        indexes = [models.Index(fields=["municipality", "expires_at"])]

    def __str__(self) -> str:
        return f"support grant #{self.pk}"

    @property
    def active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


class ProvisionRecord(models.Model):
    class RecipientKind(models.TextChoices):
        SCHOOL = "school", _("A school (of another board, or private)")
        BOARD = "board", _("Another board of education")
        PUBLIC_BODY = "public", _("Another public body")
        OTHER = "other", _("Another organisation")

    class Basis(models.TextChoices):
        LAW = "law", _("Required by law")
        CONSENT = "consent", _("Consent of the person or their guardian")
        EXCEPTION = "exception", _("Another statutory exception")

    subject = kept_reference(settings.AUTH_USER_MODEL, null=False, verbose_name=_("person concerned"))
    recipient = models.CharField(_("recipient organisation"), max_length=150)
    recipient_kind = models.CharField(_("kind of recipient"), max_length=10, choices=RecipientKind.choices)
    provided_at = models.DateTimeField(_("provided at"), default=timezone.now)
    # What was provided, as data-inventory codes ("cards.Card.text", ...).
    items = models.JSONField(default=list, verbose_name=_("items provided"))
    basis = models.CharField(_("legal basis"), max_length=10, choices=Basis.choices)
    # The consent form's number or the legal provision, e.g. "Consent form 2026-031" or
    # "School Education Act Enforcement Regulations art. 24".
    reference = models.CharField(_("reference (consent form or legal provision)"), max_length=120)
    recorded_by = kept_reference(settings.AUTH_USER_MODEL, null=True, verbose_name=_("recorded by"))
    municipality = kept_reference("tenancy.Municipality", null=False)
    school = kept_reference("tenancy.School", null=True)

    class Meta:
        verbose_name = _("Provision record")
        ordering = ["-provided_at", "-id"]
        indexes = [
            models.Index(fields=["municipality", "provided_at"]),
            models.Index(fields=["subject", "provided_at"]),
        ]

    def __str__(self) -> str:
        return f"provision record #{self.pk}"


# --- Data inventory (classnote.privacy.inventory) ------------------------------------------------

_inv.declare(
    SupportGrant,
    personal={
        who: _inv.personal(
            _C.ACCOUNT,
            purposes=[_P.SECURITY],
            retention=_inv.WHILE_TENANT,
            audience=[_A.MUNICIPAL_ADMINS],
        )
        for who in ("granted_by", "revoked_by")
    },
    not_personal=["id", "municipality", "reference", "reason", "granted_at", "expires_at", "revoked_at"],
    subject=[_inv.link("granted_by", _inv.Erase.DETACH), _inv.link("revoked_by", _inv.Erase.DETACH)],
)

_PROVIDED = "3 years after the provision (APPI: record of provision to a third party); ids only, no names"
_KEPT = "APPI requires the record of provision to a third party to be kept for 3 years; it holds ids, no names"


def _provision() -> _inv.Personal:
    return _inv.personal(
        _C.ACCOUNT,
        purposes=[_P.PROVISION_RECORD],
        basis=_B.LEGAL_OBLIGATION,
        retention=_PROVIDED,
        audience=[_A.SELF, _A.SCHOOL_ADMINS, _A.MUNICIPAL_ADMINS],
    )


_inv.declare(
    ProvisionRecord,
    personal={
        name: _provision()
        for name in (
            "subject",
            "recipient",
            "recipient_kind",
            "provided_at",
            "items",
            "basis",
            "reference",
            "recorded_by",
        )
    },
    not_personal=["id", "municipality", "school"],
    subject=[_inv.link("subject", _inv.Erase.KEEP, _KEPT), _inv.link("recorded_by", _inv.Erase.KEEP, _KEPT)],
)
