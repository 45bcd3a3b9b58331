"""Complaints and consultations about personal information, sent by anyone through the public form
and worked by the operator's privacy officer (APPI Art. 40: handle complaints appropriately and
promptly).

A case belongs to no account: the submitter is a member of the public who follows the case with its
reference and a one-time access code (only the code's hash is stored).
"""

from __future__ import annotations

import hashlib
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
from classnote.tenancy.models import Municipality

MESSAGE_MAX_LENGTH = 5000
NOTE_MAX_LENGTH = 5000


def hash_code(code: str) -> str:
    """The stored form of an access code (codes carry 80 random bits, so a plain hash suffices)."""
    normalised = "".join(ch for ch in code.upper() if ch.isalnum())
    return hashlib.sha256(normalised.encode()).hexdigest()


class Complaint(models.Model):
    class Kind(models.TextChoices):
        COMPLAINT = "complaint", _("Complaint")
        CONSULTATION = "consultation", _("Consultation")
        QUESTION = "question", _("Question about personal information")

    class Status(models.TextChoices):
        NEW = "new", _("New")
        IN_PROGRESS = "in_progress", _("In progress")
        ANSWERED = "answered", _("Answered")
        CLOSED = "closed", _("Closed")

    OPEN_STATUSES = (Status.NEW, Status.IN_PROGRESS)
    CONCLUDED_STATUSES = (Status.ANSWERED, Status.CLOSED)

    reference = models.CharField(max_length=20, unique=True)
    access_code_hash = models.CharField(max_length=64)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # The board of education the case concerns, when the submitter named one.
    municipality = models.ForeignKey(
        Municipality, null=True, blank=True, on_delete=models.SET_NULL, related_name="complaints"
    )
    message = models.TextField(max_length=MESSAGE_MAX_LENGTH, verbose_name=_("message"))
    name = models.CharField(max_length=100, blank=True, verbose_name=_("name of the person writing"))
    email = models.EmailField(max_length=254, blank=True, verbose_name=_("email address"))
    language = models.CharField(max_length=10)  # of the form's page: the language of our e-mails
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW)
    outcome = models.TextField(
        max_length=MESSAGE_MAX_LENGTH, blank=True, verbose_name=_("outcome")
    )  # what the submitter is told
    received_at = models.DateTimeField(default=timezone.now)
    concluded_at = models.DateTimeField(null=True, blank=True)  # answered or closed; retention counts from here
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("Complaint")
        ordering = ["received_at", "id"]
        indexes = [models.Index(fields=["status", "received_at"])]

    def __str__(self) -> str:
        return f"complaint {self.reference}"

    @property
    def respond_by(self) -> datetime:
        return self.received_at + timedelta(days=settings.PRIVACY_COMPLAINT_RESPONSE_DAYS)

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def overdue(self) -> bool:
        return self.is_open and self.respond_by < timezone.now()

    @property
    def concluded(self) -> bool:
        return self.status in self.CONCLUDED_STATUSES


class ComplaintNote(models.Model):
    """An internal note of the privacy officer on a case; never shown to the submitter."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("author")
    )
    text = models.TextField(max_length=NOTE_MAX_LENGTH, verbose_name=_("note"))
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("Note on a complaint")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"note #{self.pk} on {self.complaint_id}"


# --- Data inventory (classnote.privacy.inventory) ------------------------------------------------
# What a member of the public sends us is personal data of a person without an account.

CASE_RETENTION = (
    "until the case is answered or closed + 3 years (the operator may set another period); "
    "then deleted by the nightly retention job"
)
_UNLINKED = (
    "sent by members of the public without an account; found by the case reference (the submitter "
    "holds it with a one-time access code), not by a user"
)


def _case(category: _C, *, submitter_sees: bool = True, optional: bool = False) -> _inv.Personal:
    return _inv.personal(
        category,
        purposes=[_P.COMPLAINTS],
        basis=_B.LEGAL_OBLIGATION,
        retention=CASE_RETENTION,
        audience=[_A.PRIVACY_OFFICER, *([_A.SUBMITTER] if submitter_sees else [])],
        optional=optional,
    )


_inv.declare(
    Complaint,
    personal={
        "message": _case(_C.CASE),
        "name": _case(_C.IDENTIFIER, optional=True),
        "email": _case(_C.CONTACT, optional=True),
        "outcome": _case(_C.CASE),
    },
    not_personal=[
        "id",
        "reference",
        "access_code_hash",
        "kind",
        "municipality",
        "language",
        "status",
        "received_at",
        "concluded_at",
        "updated_at",
    ],
    unlinked=_UNLINKED,
)
_inv.declare(
    ComplaintNote,
    personal={
        "text": _case(_C.CASE, submitter_sees=False),
        "author": _inv.personal(
            _C.ACCOUNT,
            purposes=[_P.COMPLAINTS],
            basis=_B.LEGAL_OBLIGATION,
            retention=CASE_RETENTION,
            audience=[_A.PRIVACY_OFFICER],
        ),
    },
    not_personal=["id", "complaint", "created_at"],
    # The note's text is about the submitter (no account); the author is the officer, whose link is
    # cleared when their account is deleted.
    subject=[_inv.link("author", _inv.Erase.DETACH)],
    unlinked=_UNLINKED,
)
