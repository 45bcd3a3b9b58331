"""Report deadlines of open incidents on the privacy officer's dashboard (classnote.privacy.deadlines)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _

from classnote.base.roles import Role
from classnote.incidents import access as incident_access
from classnote.incidents.models import Incident
from classnote.privacy.deadlines import Deadline


def incident_deadlines(user: Any) -> Iterator[Deadline]:
    """The reports not yet filed for open incidents (the officer's deadlines, not the boards')."""
    if not getattr(user, "is_authenticated", False) or user.role != Role.PRIVACY_OFFICER:
        return
    open_incidents = incident_access.readable_incidents(user).filter(status=Incident.Status.OPEN)
    due = Q(preliminary_report_at__isnull=True) | Q(final_report_at__isnull=True)
    for incident in open_incidents.filter(due):
        url = reverse("incident_detail", args=[incident.pk])
        status = f"{incident.get_status_display()} · {incident.get_kind_display()}"
        reports = [
            (incident.preliminary_report_at, _("Preliminary report to the regulator"), incident.preliminary_due),
            (incident.final_report_at, _("Final report to the regulator"), incident.final_due),
        ]
        for filed, title, when in reports:
            if filed is None:
                yield Deadline(_("Incident"), incident.reference, title, when, status, url)
