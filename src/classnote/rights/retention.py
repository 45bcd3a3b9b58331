"""Retention: the nightly job that deletes what has been kept long enough, with receipts.

* A pupil's data: the tenant's ``graduate_retention_days`` after the day they graduated or left
  (``User.left_on``).
* A tenant's data: ``contract_end_retention_days`` after ``contract_ends_on`` — but never before
  the operator has handed the tenant its export (``export_offered_at``); such tenants are reported.
* Lesson events: ``REALTIME_EVENT_RETENTION_DAYS`` (they exist only to replay to a reconnecting device).
* Expired sessions; provision records after 3 years; closed complaint cases and incident records
  past their retention; idempotency keys after ``IDEMPOTENCY_KEY_HOURS`` (also purged hourly,
  core/tasks.py).

``classnote retention --dry-run`` shows what would be deleted; the job runs nightly (rights/tasks.py).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from classnote.accounts.models import User
from classnote.base.roles import Role
from classnote.core import models as idempotency_keys
from classnote.lessons.models import Lesson
from classnote.privacy.models import ProvisionRecord
from classnote.realtime.models import Channel, Event
from classnote.rights import erasure
from classnote.rights.models import DeletionReceipt
from classnote.rights.subjects import find
from classnote.tenancy.models import Municipality, School, SchoolClass

PROVISION_RECORD_DAYS = 3 * 365 + 1


@dataclass
class Report:
    dry_run: bool
    graduates: int = 0
    tenants: list[int] = field(default_factory=list)
    tenants_waiting_for_export: list[int] = field(default_factory=list)
    plan: erasure.Plan = field(default_factory=erasure.Plan)
    tenant_structure: Counter[str] = field(default_factory=Counter)
    events: int = 0
    sessions: int = 0
    other: Counter[str] = field(default_factory=Counter)
    receipts: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        verb = "would delete" if self.dry_run else "deleted"
        out = [
            f"graduated or departed pupils past retention: {self.graduates}",
            f"tenants past contract-end retention: {len(self.tenants)} {self.tenants}",
        ]
        if self.tenants_waiting_for_export:
            out.append(
                "tenants past retention but kept until their export is offered: "
                f"{self.tenants_waiting_for_export} (classnote retention --export-offered <id>)"
            )
        for label, count in sorted((self.plan.deleted + self.tenant_structure).items()):
            out.append(f"  {verb} {count:>7} {label}")
        for label, count in sorted(self.plan.unlinked.items()):
            out.append(f"  {'would unlink' if self.dry_run else 'unlinked'} {count:>7} {label}")
        out.append(f"  {verb} {self.plan.files:>7} stored files (with their thumbnails)")
        out.append(f"  {verb} {self.events:>7} lesson events older than {settings.REALTIME_EVENT_RETENTION_DAYS} days")
        out.append(f"  {verb} {self.sessions:>7} expired sessions")
        for label, count in sorted(self.other.items()):
            out.append(f"  {verb} {count:>7} {label}")
        if self.receipts:
            out.append(f"receipts: {len(self.receipts)} (first {self.receipts[0]})")
        return out


def graduates_due(today: dt.date) -> list[User]:
    due: list[User] = []
    for municipality in Municipality.objects.all():
        cutoff = today - timedelta(days=municipality.graduate_retention_days)
        due += list(
            User.objects.filter(
                municipality=municipality, role=Role.STUDENT, left_on__isnull=False, left_on__lte=cutoff
            )
        )
    return due


def tenants_due(today: dt.date) -> tuple[list[Municipality], list[Municipality]]:
    """(tenants to delete, tenants past retention whose export was not offered yet)."""
    ready: list[Municipality] = []
    waiting: list[Municipality] = []
    for municipality in Municipality.objects.filter(contract_ends_on__isnull=False):
        if municipality.contract_ends_on is None:
            continue
        if municipality.contract_ends_on + timedelta(days=municipality.contract_end_retention_days) > today:
            continue
        (ready if municipality.export_offered_at else waiting).append(municipality)
    return ready, waiting


def _tenant_structure(municipality: Municipality) -> dict[str, Any]:
    classes = SchoolClass.objects.filter(school__municipality=municipality)
    lessons = Lesson.objects.filter(school_class__in=classes)
    channels = Channel.objects.filter(name__in=[Lesson.channel_name(pk) for pk in lessons.values_list("pk", flat=True)])
    # Order matters: what protects comes last.
    return {
        "realtime.Channel": channels,
        "lessons.Lesson": lessons,
        "tenancy.SchoolClass": classes,
        "cards.Card": apps.get_model("cards", "Card").objects.filter(school__municipality=municipality),
        "files.StoredFile": apps.get_model("files", "StoredFile").objects.filter(school__municipality=municipality),
        "tenancy.School": School.objects.filter(municipality=municipality),
        "tenancy.Municipality": Municipality.objects.filter(pk=municipality.pk),
    }


def _apply(report: Report, person: User, reason: str, *, dry_run: bool) -> None:
    """Plan (and unless dry_run, carry out) one person's deletion, looking their rows up once."""
    found = find(person)
    report.plan.add(erasure.plan(person, found))
    if not dry_run:
        receipt = erasure.erase(person, actor=None, reason=reason, found=found)
        report.receipts.append(receipt.reference)


def run(*, dry_run: bool, today: dt.date | None = None) -> Report:
    now = timezone.now()
    today = today or timezone.localdate()
    report = Report(dry_run=dry_run)
    # Pupils past retention after graduation
    graduates = graduates_due(today)
    report.graduates = len(graduates)
    for person in graduates:
        _apply(report, person, DeletionReceipt.Reason.GRADUATION, dry_run=dry_run)
    # Tenants past retention after contract end
    ready, waiting = tenants_due(today)
    report.tenants = [m.pk for m in ready]
    report.tenants_waiting_for_export = [m.pk for m in waiting]
    for municipality in ready:
        people = list(User.objects.filter(municipality=municipality).order_by("-role"))
        for person in people:
            _apply(report, person, DeletionReceipt.Reason.CONTRACT_END, dry_run=dry_run)
        for label, queryset in _tenant_structure(municipality).items():
            if dry_run:
                report.tenant_structure[label] += queryset.count()
            else:
                with transaction.atomic():
                    _, per_model = queryset.delete()
                report.tenant_structure.update({k: v for k, v in per_model.items() if v})
    # Replay events and sessions
    from django.contrib.sessions.models import Session

    old_events = Event.objects.filter(created_at__lt=now - timedelta(days=settings.REALTIME_EVENT_RETENTION_DAYS))
    expired = Session.objects.filter(expire_date__lt=now)
    if dry_run:
        report.events, report.sessions = old_events.count(), expired.count()
    else:
        report.events = old_events.delete()[0]
        report.sessions = expired.delete()[0]
    # Provision records: APPI asks to keep them 3 years (Enforcement Rules Art. 21); then they go.
    old_records = ProvisionRecord.objects.filter(provided_at__lt=now - timedelta(days=PROVISION_RECORD_DAYS))
    report.other["privacy.ProvisionRecord"] = old_records.count() if dry_run else old_records.delete()[0]
    # Idempotency keys (core/idempotency.py): purged hourly by core/tasks.py, here too for the report.
    old_keys = idempotency_keys.expired(now)
    report.other["core.IdempotencyKey"] = old_keys.count() if dry_run else old_keys.delete()[0]
    # Complaint cases and incident records past their retention
    from importlib import import_module

    for app in ("complaints", "incidents"):
        if apps.is_installed(f"classnote.{app}"):
            result = import_module(f"classnote.{app}.retention").purge(now, dry_run=dry_run)
            report.other.update({str(k): int(v) for k, v in dict(result).items()})
    return report
