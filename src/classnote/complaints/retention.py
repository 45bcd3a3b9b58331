"""Retention of complaint cases: deleted PRIVACY_COMPLAINT_RETENTION_DAYS (3 years by default) after
they were answered or closed. The nightly retention job calls ``purge``; ``expired`` is its dry run."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet

from classnote.audit.log import record
from classnote.complaints.models import Complaint, ComplaintNote


def expired(now: datetime) -> QuerySet[Complaint]:
    """Cases past retention: concluded (answered or closed) longer ago than the retention period."""
    cutoff = now - timedelta(days=settings.PRIVACY_COMPLAINT_RETENTION_DAYS)
    return Complaint.objects.filter(status__in=Complaint.CONCLUDED_STATUSES, concluded_at__lt=cutoff)


def purge(now: datetime, dry_run: bool = False) -> dict[str, int]:
    """Delete the cases past retention with their notes; return how many of each (would be) deleted."""
    with transaction.atomic():
        cases = expired(now)
        ids = list(cases.values_list("pk", flat=True))
        counts = {
            "complaints.Complaint": len(ids),
            "complaints.ComplaintNote": ComplaintNote.objects.filter(complaint_id__in=ids).count(),
        }
        if not dry_run and ids:
            Complaint.objects.filter(pk__in=ids).delete()
            record(None, "complaint.purged", cases=len(ids), notes=counts["complaints.ComplaintNote"])
    return counts
