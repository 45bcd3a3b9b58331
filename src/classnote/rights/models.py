"""Data-subject requests (disclosure, correction, deletion, cessation of use, disclosure of
provision records) with their legal deadlines, and the receipts of deletions.

A request is opened by a school or municipal admin on behalf of a pupil or guardian, or by a
staff member for themselves. A deletion receipt says what was deleted, when and by whom — and
holds no personal data: counts per table, never names or ids of the person."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from classnote.base import inventory as _inv
from classnote.base.inventory import Audience as _A
from classnote.base.inventory import Basis as _B
from classnote.base.inventory import Category as _C
from classnote.base.inventory import Purpose as _P
from classnote.base.inventory import kept_reference


def new_reference(prefix: str) -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
    return f"{prefix}-{timezone.now():%Y}-" + "".join(secrets.choice(alphabet) for _ in range(6))


class DataSubjectRequest(models.Model):
    class Kind(models.TextChoices):
        DISCLOSURE = "disclosure", _("Disclosure of the data held")
        CORRECTION = "correction", _("Correction")
        DELETION = "deletion", _("Deletion")
        CESSATION = "cessation", _("Cessation of use")
        PROVISION_RECORDS = "provision_records", _("Disclosure of third-party provision records")

    class Requester(models.TextChoices):
        PERSON = "person", _("The person themselves")
        GUARDIAN = "guardian", _("A parent or guardian")
        AGENT = "agent", _("An authorised representative")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        COMPLETED = "completed", _("Completed")
        REFUSED = "refused", _("Refused")

    reference = models.CharField(max_length=20, unique=True)
    kind = models.CharField(_("kind of request"), max_length=20, choices=Kind.choices)
    requester = models.CharField(_("made by"), max_length=10, choices=Requester.choices)
    # The person the request is about. Deleting them unlinks the request, which stays as the record
    # of how it was handled.
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="data_requests",
        verbose_name=_("person concerned"),
    )
    municipality = kept_reference("tenancy.Municipality")
    school = kept_reference("tenancy.School")
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    opened_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField(_("answer due"))
    # What is asked (e.g. which item to correct). Cleared when the person's data is deleted.
    details = models.TextField(_("details"), max_length=2000, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    # What was done or why it was refused: told to the person. No copies of their data.
    outcome = models.TextField(_("outcome"), max_length=2000, blank=True)

    class Meta:
        verbose_name = _("Data request")
        ordering = ["-opened_at"]
        indexes = [models.Index(fields=["status", "due_at"]), models.Index(fields=["municipality", "status"])]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def overdue(self) -> bool:
        return self.is_open and self.due_at < timezone.now()


class DeletionReceipt(models.Model):
    """Proof that a person's data was deleted: what (rows per table, files), when, by whom, why."""

    class Reason(models.TextChoices):
        REQUEST = "request", _("Data-subject request")
        GRADUATION = "graduation", _("Retention period after graduation or leaving ended")
        CONTRACT_END = "contract_end", _("Retention period after the contract ended")

    reference = models.CharField(max_length=20, unique=True)
    at = models.DateTimeField(default=timezone.now)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    performed_by = kept_reference(settings.AUTH_USER_MODEL)  # a staff member; None for the nightly job
    request = models.ForeignKey(DataSubjectRequest, on_delete=models.SET_NULL, null=True, related_name="receipts")
    municipality = kept_reference("tenancy.Municipality")
    school = kept_reference("tenancy.School")
    role = models.CharField(max_length=20)  # the deleted account's role (student, teacher, ...)
    deleted = models.JSONField(default=dict)  # {"cards.Card": 12, ...}
    unlinked = models.JSONField(default=dict)  # rows kept for others, with the link to the person removed
    kept = models.JSONField(default=dict)  # rows kept under a legal obligation (ids only)
    files_deleted = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return self.reference


# --- Data inventory (classnote.privacy.inventory) ------------------------------------------------

_REQUEST = _inv.personal(
    _C.ACCOUNT,
    purposes=[_P.RIGHTS],
    basis=_B.LEGAL_OBLIGATION,
    retention="3 years after the request is closed (record of handling); unlinked if the person is deleted",
    audience=[_A.SELF, _A.SCHOOL_ADMINS, _A.MUNICIPAL_ADMINS],
)
_inv.declare(
    DataSubjectRequest,
    personal={"subject": _REQUEST, "details": _REQUEST},
    not_personal=[
        "id",
        "reference",
        "kind",
        "requester",
        "municipality",
        "school",
        "opened_by",
        "opened_at",
        "due_at",
        "status",
        "closed_at",
        "closed_by",
        "outcome",
    ],
    subject=[_inv.link("subject", _inv.Erase.DETACH)],
)
_inv.declare(
    DeletionReceipt,
    not_personal=[
        "id",
        "reference",
        "at",
        "reason",
        "performed_by",
        "request",
        "municipality",
        "school",
        "role",
        "deleted",
        "unlinked",
        "kept",
        "files_deleted",
    ],
)
