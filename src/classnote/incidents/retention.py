"""Retention of the incident register: a closed incident is deleted INCIDENT_RETENTION_DAYS (5 years
by default) after it was closed. The nightly retention job calls ``purge``; ``expired`` is its dry run."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet

from classnote.audit.log import record
from classnote.incidents.models import Incident


def expired(now: datetime) -> QuerySet[Incident]:
    cutoff = now - timedelta(days=settings.INCIDENT_RETENTION_DAYS)
    return Incident.objects.filter(status=Incident.Status.CLOSED, closed_at__lt=cutoff)


def purge(now: datetime, dry_run: bool = False) -> dict[str, int]:
    """Delete the incidents past retention; return how many were (or would be) deleted."""
    with transaction.atomic():
        ids = list(expired(now).values_list("pk", flat=True))
        if not dry_run and ids:
            Incident.objects.filter(pk__in=ids).delete()
            record(None, "incident.purged", incidents=len(ids))
    return {"incidents.Incident": len(ids)}
