"""The stored result of each patch check (nightly or "check now"), so the operator's page shows the
last report after a restart and a finding without a published date keeps the day it was first seen."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from classnote.base import inventory as _inv


class PatchReport(models.Model):
    class Trigger(models.TextChoices):
        NIGHTLY = "nightly", "nightly"
        MANUAL = "manual", "manual"

    checked_at = models.DateTimeField(default=timezone.now, db_index=True)
    trigger = models.CharField(max_length=10, choices=Trigger.choices)
    # Feed names as classnote.security.patches.display() writes them: no credentials, no query.
    feeds = models.JSONField(default=list)
    # Why the feed could not be read (then no findings); empty when the check ran.
    error = models.TextField(blank=True)
    packages_checked = models.PositiveIntegerField(default=0)
    affected = models.PositiveIntegerField(default=0)
    overdue = models.PositiveIntegerField(default=0)
    # classnote.security.patches.Finding.as_dict() of each finding: packages and advisories, nobody's data.
    findings = models.JSONField(default=list)

    class Meta:
        ordering = ["-checked_at", "-id"]

    def __str__(self) -> str:
        return f"patch report {self.checked_at:%Y-%m-%d %H:%M}"


_inv.declare(
    PatchReport,
    not_personal=[
        "id",
        "checked_at",
        "trigger",
        "feeds",
        "error",
        "packages_checked",
        "affected",
        "overdue",
        "findings",
    ],
)
