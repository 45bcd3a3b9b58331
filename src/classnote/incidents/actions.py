"""Every write of the incident register (the privacy officer only); each is recorded in the audit log
with the names of the changed fields, never their text."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from classnote.accounts.models import User
from classnote.audit.log import record
from classnote.base.errors import ActionError
from classnote.base.roles import Role
from classnote.incidents import access as incident_access
from classnote.incidents.models import Incident
from classnote.tenancy.models import Municipality

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base 32
# The fields the officer edits (everything but the reference, the report dates and timestamps).
FIELDS = (
    "kind",
    "status",
    "discovered_at",
    "occurred_at",
    "summary",
    "data_items",
    "data_categories",
    "persons_affected",
    "special_care",
    "financial_harm_risk",
    "unauthorised_purpose",
    "cause",
    "secondary_damage",
    "notification",
    "measures",
    "recurrence_prevention",
)
REPORTS = {"preliminary": "preliminary_report_at", "final": "final_report_at"}


def _require_officer(actor: User) -> None:
    if actor.role != Role.PRIVACY_OFFICER:
        raise ActionError(_("Only the privacy officer keeps the incident register."))


def _check(values: dict[str, Any]) -> None:
    now = timezone.now()
    discovered, occurred = values.get("discovered_at"), values.get("occurred_at")
    if discovered is not None and discovered > now:
        raise ActionError(_("The time of discovery cannot be in the future."))
    if occurred is not None and discovered is not None and occurred > discovered:
        raise ActionError(_("An incident cannot have occurred after it was discovered."))


def _apply_status(incident: Incident) -> None:
    if incident.status == Incident.Status.CLOSED:
        incident.closed_at = incident.closed_at or timezone.now()
    else:
        incident.closed_at = None


def create_incident(actor: User, *, municipalities: Iterable[Municipality] = (), **values: Any) -> Incident:
    _require_officer(actor)
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise ValueError(f"not fields of an incident: {sorted(unknown)}")
    _check(values)
    for _attempt in range(5):
        try:
            with transaction.atomic():
                incident = Incident(reference=f"I-{timezone.now().year}-{_random(6)}", **values)
                _apply_status(incident)
                incident.save()
                incident.municipalities.set(list(municipalities))
                record(
                    actor,
                    "incident.created",
                    target=incident,
                    kind=incident.kind,
                    municipalities=sorted(m.pk for m in municipalities),
                )
            return incident
        except IntegrityError:  # the same random reference twice: draw again
            continue
    raise ActionError(_("The incident could not be registered. Please try again."))  # pragma: no cover


def _random(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def update_incident(
    actor: User, incident_id: int, *, municipalities: Iterable[Municipality] | None = None, **values: Any
) -> Incident:
    _require_officer(actor)
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise ValueError(f"not fields of an incident: {sorted(unknown)}")
    with transaction.atomic():
        found = incident_access.get_incident_for(actor, incident_id, manage=True)
        incident = Incident.objects.select_for_update().get(pk=found.pk)
        _check({"discovered_at": incident.discovered_at, "occurred_at": incident.occurred_at, **values})
        changed = sorted(name for name, value in values.items() if getattr(incident, name) != value)
        for name in changed:
            setattr(incident, name, values[name])
        before = set(incident.municipalities.values_list("pk", flat=True))
        after = before if municipalities is None else {m.pk for m in municipalities}
        if not changed and before == after:
            return incident
        _apply_status(incident)
        incident.save()
        if after != before:
            incident.municipalities.set(list(after))
        record(
            actor,
            "incident.updated",
            target=incident,
            fields=changed,
            municipalities_added=sorted(after - before),
            municipalities_removed=sorted(before - after),
        )
    return incident


def file_report(actor: User, incident_id: int, report: str, filed_at: datetime | None = None) -> Incident:
    """Record that the preliminary or the final report was filed with the regulator."""
    _require_officer(actor)
    if report not in REPORTS:
        raise ActionError(_("Choose the preliminary or the final report."))
    filed_at = filed_at or timezone.now()
    if filed_at > timezone.now():
        raise ActionError(_("A report cannot be filed in the future."))
    with transaction.atomic():
        found = incident_access.get_incident_for(actor, incident_id, manage=True)
        incident = Incident.objects.select_for_update().get(pk=found.pk)
        if filed_at < incident.discovered_at:
            raise ActionError(_("A report cannot be filed before the incident was discovered."))
        setattr(incident, REPORTS[report], filed_at)
        incident.save(update_fields=[REPORTS[report], "updated_at"])
        record(actor, "incident.report_filed", target=incident, report=report, filed_at=filed_at.isoformat())
    return incident
