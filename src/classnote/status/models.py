"""What the status page is computed from, and what operators tell the public through it.

* ``ProbeResult``: one raw observation — one component probed once, end to end, by a prober (the
  scheduled job of the embedded default, or ``classnote probe`` on another machine). Nobody's data:
  the probe tenant is synthetic. Kept raw for ``STATUS_RAW_DAYS`` (90), then as ``DailyAggregate``
  rows for ``STATUS_AGGREGATE_DAYS`` (730), so every published figure traces back to observations.
* ``StatusIncident`` / ``StatusUpdate`` / ``Maintenance``: the operators' posts. These are about the
  service, not about personal information: the privacy incident register is ``classnote.incidents``.
* ``Subscriber``: an e-mail address or a webhook that is told of new incidents, updates and
  maintenance (a subscription the person confirms and can end at any time).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from classnote.base import inventory as _inv
from classnote.status.components import COMPONENTS

COMPONENT_CHOICES = [(key, c.name) for key, c in COMPONENTS.items()]


class ProbeResult(models.Model):
    component = models.CharField(max_length=20, choices=COMPONENT_CHOICES)
    at = models.DateTimeField(default=timezone.now)  # when the probe of this component started
    # The service answered (any HTTP answer of the app, a 503 included): counts for uptime.
    answered = models.BooleanField()
    # The user's operation succeeded within the component's latency objective: counts for availability.
    ok = models.BooleanField()
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    # The step that failed ("login", "stream", "upload", ...) and why in a few words (a status code,
    # an exception class): never a response body, a name or an address.
    failed_step = models.CharField(max_length=40, blank=True)
    detail = models.CharField(max_length=200, blank=True)
    prober = models.CharField(max_length=100, blank=True)  # which prober: "embedded" or a host name

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["component", "at"], name="status_probe_component_at")]

    def __str__(self) -> str:
        return f"{self.component} {'ok' if self.ok else 'failed'} at {self.at:%Y-%m-%d %H:%M:%S}"


class DailyAggregate(models.Model):
    """One component's (or, with component "service", the whole service's) day, in seconds per state,
    computed from the raw probes by the method of docs/operations.md; kept after the raw rows go."""

    component = models.CharField(max_length=20)
    day = models.DateField()
    known_seconds = models.PositiveIntegerField(default=0)
    answered_seconds = models.PositiveIntegerField(default=0)
    available_seconds = models.PositiveIntegerField(default=0)
    maintenance_seconds = models.PositiveIntegerField(default=0)
    probes = models.PositiveIntegerField(default=0)
    failures = models.PositiveIntegerField(default=0)
    latency_p50_ms = models.PositiveIntegerField(null=True, blank=True)
    latency_p95_ms = models.PositiveIntegerField(null=True, blank=True)
    latency_p99_ms = models.PositiveIntegerField(null=True, blank=True)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["day", "component"]
        constraints = [models.UniqueConstraint(fields=["component", "day"], name="status_daily_one_per_day")]

    def __str__(self) -> str:
        return f"{self.component} {self.day}"


class Impact(models.TextChoices):
    NONE = "none", _("No impact")
    MINOR = "minor", _("Minor")
    MAJOR = "major", _("Major")
    CRITICAL = "critical", _("Critical")


class IncidentState(models.TextChoices):
    INVESTIGATING = "investigating", _("Investigating")
    IDENTIFIED = "identified", _("Identified")
    MONITORING = "monitoring", _("Monitoring")
    RESOLVED = "resolved", _("Resolved")


class StatusIncident(models.Model):
    title = models.CharField(_("title"), max_length=200)
    impact = models.CharField(_("impact"), max_length=10, choices=Impact.choices, default=Impact.MINOR)
    components = models.JSONField(_("affected components"), default=list)  # keys of COMPONENTS
    state = models.CharField(
        _("state"), max_length=15, choices=IncidentState.choices, default=IncidentState.INVESTIGATING
    )
    # Opened by the prober after STATUS_INCIDENT_AFTER_MINUTES of failures: a draft until a person
    # confirms it; drafts are never public.
    automatic = models.BooleanField(default=False)
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    # A draft an operator discarded: kept (never public) so that the same outage does not open
    # another automatic draft a minute later.
    discarded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("posted by"),
    )

    class Meta:
        verbose_name = _("status incident")
        verbose_name_plural = _("status incidents")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return self.title

    @property
    def is_draft(self) -> bool:
        return self.published_at is None

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None and self.discarded_at is None


class StatusUpdate(models.Model):
    incident = models.ForeignKey(StatusIncident, on_delete=models.CASCADE, related_name="updates")
    state = models.CharField(_("state"), max_length=15, choices=IncidentState.choices)
    body = models.TextField(_("update"), max_length=5000)
    at = models.DateTimeField(default=timezone.now)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("posted by"),
    )

    class Meta:
        verbose_name = _("status update")
        verbose_name_plural = _("status updates")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.incident_id} {self.state} {self.at:%Y-%m-%d %H:%M}"


class Maintenance(models.Model):
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("what will happen"), max_length=5000, blank=True)
    components = models.JSONField(_("affected components"), default=list)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    created_at = models.DateTimeField(default=timezone.now)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("posted by"),
    )

    class Meta:
        verbose_name = _("maintenance window")
        verbose_name_plural = _("maintenance windows")
        ordering = ["starts_at", "id"]

    def __str__(self) -> str:
        return self.title


class Subscriber(models.Model):
    class Kind(models.TextChoices):
        EMAIL = "email", _("E-mail")
        WEBHOOK = "webhook", _("Webhook")

    kind = models.CharField(max_length=10, choices=Kind.choices)
    address = models.CharField(
        _("e-mail address or webhook URL"), max_length=500
    )  # an e-mail address, or a webhook's https URL
    language = models.CharField(max_length=10, choices=settings.LANGUAGES, default="en")
    # SHA-256 of the token in the confirmation and unsubscribe links; the token itself is only mailed.
    token_hash = models.CharField(max_length=64, unique=True)
    # The key a webhook's deliveries are signed with (HMAC-SHA256), shown once to whoever set it up.
    secret = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    last_notified_at = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("status subscriber")
        verbose_name_plural = _("status subscribers")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} subscriber {self.pk}"


_inv.declare(
    ProbeResult,
    not_personal=["id", "component", "at", "answered", "ok", "latency_ms", "failed_step", "detail", "prober"],
)
_inv.declare(
    DailyAggregate,
    not_personal=[
        "id",
        "component",
        "day",
        "known_seconds",
        "answered_seconds",
        "available_seconds",
        "maintenance_seconds",
        "probes",
        "failures",
        "latency_p50_ms",
        "latency_p95_ms",
        "latency_p99_ms",
        "computed_at",
    ],
)
_OPERATOR = _inv.personal(
    _inv.Category.ACCOUNT,
    purposes=[_inv.Purpose.SECURITY],
    basis=_inv.Basis.LEGITIMATE_INTEREST,
    retention="while the post is kept; unlinked when the account is deleted",
    audience=[_inv.Audience.NOBODY],
)
_inv.declare(
    StatusIncident,
    personal={"created_by": _OPERATOR},
    not_personal=[
        "id",
        "title",
        "impact",
        "components",
        "state",
        "automatic",
        "started_at",
        "published_at",
        "resolved_at",
        "discarded_at",
        "created_at",
    ],
    subject=[_inv.link("created_by", _inv.Erase.DETACH)],
)
_inv.declare(
    StatusUpdate,
    personal={"author": _OPERATOR},
    not_personal=["id", "incident", "state", "body", "at"],
    subject=[_inv.link("author", _inv.Erase.DETACH)],
)
_inv.declare(
    Maintenance,
    personal={"created_by": _OPERATOR},
    not_personal=["id", "title", "body", "components", "starts_at", "ends_at", "created_at", "cancelled_at"],
    subject=[_inv.link("created_by", _inv.Erase.DETACH)],
)
_SUBSCRIPTION = "until the subscriber unsubscribes; an unconfirmed subscription is deleted after 7 days"
_inv.declare(
    Subscriber,
    personal={
        "address": _inv.personal(
            _inv.Category.CONTACT,
            purposes=[_inv.Purpose.STATUS_NOTICES],
            basis=_inv.Basis.CONSENT,
            retention=_SUBSCRIPTION,
            audience=[_inv.Audience.NOBODY],
        ),
    },
    not_personal=[
        "id",
        "kind",
        "language",
        "token_hash",
        "secret",
        "created_at",
        "confirmed_at",
        "last_notified_at",
        "failures",
    ],
    unlinked=(
        "a subscription of the public to the status page, found by the token in its links; it belongs to no account"
    ),
)
