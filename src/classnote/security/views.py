from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from classnote.base.errors import ActionError
from classnote.base.requests import AuthedRequest
from classnote.base.roles import Role
from classnote.security import actions, patches, reports
from classnote.security.models import PatchReport
from classnote.tenancy.access import audience

SEVERITY_LABELS = {
    patches.Severity.CRITICAL: gettext_lazy("Critical"),
    patches.Severity.HIGH: gettext_lazy("High"),
    patches.Severity.MEDIUM: gettext_lazy("Medium"),
    patches.Severity.LOW: gettext_lazy("Low"),
    patches.Severity.UNKNOWN: gettext_lazy("Unknown"),
}


def _findings(report: PatchReport | None) -> list[dict[str, Any]]:
    if report is None:
        return []
    rows = []
    for data in report.findings:
        finding = patches.Finding.from_dict(data)
        rows.append(
            {
                "f": finding,
                "severity": SEVERITY_LABELS[finding.severity],
                "overdue_days": -(finding.days_left or 0) if finding.overdue else 0,
            }
        )
    return rows


def _page(request: AuthedRequest, *, error: str = "", status: int = 200) -> HttpResponse:
    last = reports.latest()
    shown = last if last is None or not last.error else reports.latest_successful()
    context = {
        "configured": bool(reports.configured_feeds()),
        "last": last,
        "report": shown,
        "rows": _findings(shown),
        "urgent_days": patches.URGENT_DAYS,
        "routine_days": patches.ROUTINE_DAYS,
        "refusal": error,
    }
    return render(request, "security/patches.html", context, status=status)


@audience(Role.OPERATOR)
@require_GET
def patches_page(request: AuthedRequest) -> HttpResponse:
    """The last patch check: affected packages, severities, fixes and deadlines, the overdue first."""
    return _page(request)


@audience(Role.OPERATOR)
@require_POST
def patches_check(request: AuthedRequest) -> HttpResponse:
    try:
        report = actions.check_patches_now(request.user)
    except ActionError as error:
        return _page(request, error=str(error), status=400)
    if report.error:
        messages.error(request, _("The vulnerability feed could not be read."))
    else:
        messages.success(request, _("The patch check has run."))
    return redirect("security_patches")
