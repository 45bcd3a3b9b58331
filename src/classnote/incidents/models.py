"""The incident register: leaks, losses and damage of personal information, and suspected ones, with
the facts the report to the Personal Information Protection Commission asks for (APPI Art. 26 and
68, PPC rules Art. 7-8) and the report deadlines counted from discovery.

An incident is written by the operator's privacy officer and describes an event, not people: no
field is meant to hold a pupil's or anyone's personal information (the free-text fields say so).
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
from classnote.tenancy.models import Municipality

TEXT_MAX_LENGTH = 5000
NO_NAMES = _("Describe facts, roles and numbers; do not write pupils' or other people's names.")

# PPC rules Art. 7: a report is required when the incident involves special-care-required personal
# information, may cause financial harm, may have been made for an unauthorised purpose, or concerns
# more than 1,000 persons.
REPORTABLE_PERSONS = 1000


class Incident(models.Model):
    class Kind(models.TextChoices):
        LEAK = "leak", _("Leak")
        LOSS = "loss", _("Loss")
        DAMAGE = "damage", _("Damage")
        SUSPECTED = "suspected", _("Suspected leak")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    class DataCategory(models.TextChoices):
        # The categories of the data inventory (classnote.privacy.inventory.Category).
        IDENTIFIER = "identifier", _("Names and IDs")
        CREDENTIAL = "credential", _("Passwords, login cards and tokens")
        CONTACT = "contact", _("Contact details")
        LEARNING_RECORD = "learning record", _("Learning records (cards, submissions, comments)")
        MEDIA = "media", _("Photos and files")
        ACCOUNT = "account data", _("Account data (roles, classes)")
        TECHNICAL = "technical", _("Technical data (IP addresses, sessions)")
        CASE = "case record", _("Complaints and enquiries")

    class Notification(models.TextChoices):
        NOT_YET = "not_yet", _("Not yet notified")
        IN_PROGRESS = "in_progress", _("Being notified")
        DONE = "done", _("Notified")
        PUBLISHED = "published", _("Published instead (persons cannot be reached)")
        NOT_REQUIRED = "not_required", _("Not required")

    reference = models.CharField(max_length=20, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.OPEN)
    discovered_at = models.DateTimeField(_("discovered at"))
    occurred_at = models.DateTimeField(_("occurred at"), null=True, blank=True)
    summary = models.TextField(_("summary"), max_length=TEXT_MAX_LENGTH, help_text=NO_NAMES)
    data_items = models.TextField(
        _("data items concerned"),
        max_length=TEXT_MAX_LENGTH,
        blank=True,
        help_text=_("E.g. display name, student ID, class, submitted cards."),
    )
    data_categories = models.JSONField(_("categories of data"), default=list, blank=True)
    persons_affected = models.PositiveIntegerField(_("persons affected (approx.)"), default=0)
    special_care = models.BooleanField(_("special-care-required personal information involved"), default=False)
    financial_harm_risk = models.BooleanField(_("risk of financial harm"), default=False)
    unauthorised_purpose = models.BooleanField(_("unauthorised purpose suspected"), default=False)
    cause = models.TextField(_("cause"), max_length=TEXT_MAX_LENGTH, blank=True, help_text=NO_NAMES)
    secondary_damage = models.TextField(
        _("risk of secondary damage"), max_length=TEXT_MAX_LENGTH, blank=True, help_text=NO_NAMES
    )
    notification = models.CharField(
        _("notification of the persons"), max_length=20, choices=Notification.choices, default=Notification.NOT_YET
    )
    measures = models.TextField(_("measures taken"), max_length=TEXT_MAX_LENGTH, blank=True, help_text=NO_NAMES)
    recurrence_prevention = models.TextField(
        _("recurrence prevention"), max_length=TEXT_MAX_LENGTH, blank=True, help_text=NO_NAMES
    )
    municipalities = models.ManyToManyField(
        Municipality, verbose_name=_("affected boards of education"), related_name="incidents", blank=True
    )
    preliminary_report_at = models.DateTimeField(_("preliminary report filed"), null=True, blank=True)
    final_report_at = models.DateTimeField(_("final report filed"), null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)  # retention counts from here
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("Incident")
        ordering = ["-discovered_at", "-id"]

    def __str__(self) -> str:
        return f"incident {self.reference}"

    @property
    def preliminary_due(self) -> datetime:
        return self.discovered_at + timedelta(hours=settings.INCIDENT_PRELIMINARY_REPORT_HOURS)

    @property
    def final_due(self) -> datetime:
        days = (
            settings.INCIDENT_FINAL_REPORT_DAYS_UNAUTHORISED
            if self.unauthorised_purpose
            else settings.INCIDENT_FINAL_REPORT_DAYS
        )
        return self.discovered_at + timedelta(days=days)

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def preliminary_overdue(self) -> bool:
        return self.is_open and self.preliminary_report_at is None and self.preliminary_due < timezone.now()

    @property
    def final_overdue(self) -> bool:
        return self.is_open and self.final_report_at is None and self.final_due < timezone.now()

    @property
    def reportable(self) -> bool:
        """Whether the facts meet one of the PPC's criteria for a mandatory report."""
        return (
            self.special_care
            or self.financial_harm_risk
            or self.unauthorised_purpose
            or self.persons_affected > REPORTABLE_PERSONS
        )

    def category_labels(self) -> list[str]:
        labels = dict(self.DataCategory.choices)
        return [str(labels.get(value, value)) for value in self.data_categories]


# --- Data inventory (classnote.privacy.inventory) ------------------------------------------------
# The register describes events, not people. The free-text fields are written by the privacy officer
# under the rule "no names" (their help text says so); because free text can slip, they are declared
# as case records anyway, readable by the officer and the affected boards' administrators.

RETENTION = (
    "until the incident is closed + 5 years (the record of the report to the regulator; the operator may set "
    "another period); then deleted by the nightly retention job"
)
_FREE_TEXT = _inv.personal(
    _C.CASE,
    purposes=[_P.INCIDENTS],
    basis=_B.LEGAL_OBLIGATION,
    retention=RETENTION,
    audience=[_A.PRIVACY_OFFICER, _A.MUNICIPAL_ADMINS],
)
_inv.declare(
    Incident,
    personal=dict.fromkeys(("summary", "cause", "secondary_damage", "measures", "recurrence_prevention"), _FREE_TEXT),
    not_personal=[
        "id",
        "reference",
        "kind",
        "status",
        "discovered_at",
        "occurred_at",
        "data_items",
        "data_categories",
        "persons_affected",
        "special_care",
        "financial_harm_risk",
        "unauthorised_purpose",
        "notification",
        "preliminary_report_at",
        "final_report_at",
        "closed_at",
        "created_at",
        "updated_at",
    ],
    unlinked=(
        "describes an event, written by the privacy officer without names; it belongs to no account "
        "and is found by its reference"
    ),
)
