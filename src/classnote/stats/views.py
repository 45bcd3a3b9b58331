from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from classnote.base.inventory import Purpose
from classnote.base.requests import AuthedRequest
from classnote.base.roles import SCHOOL_MANAGER_ROLES
from classnote.privacy import purposes
from classnote.stats import figures
from classnote.tenancy.access import audience


@audience(*SCHOOL_MANAGER_ROLES)
@require_GET
def statistics(request: AuthedRequest) -> HttpResponse:
    """Per school and class of the admin's own tenant; small groups suppressed (figures.py)."""
    purposes.check_reads(request.user, Purpose.STATISTICS, figures.READS)
    report = figures.report_for(request.user)
    context = {"report": report, "minimum": figures.minimum_group_size()}
    return render(request, "stats/statistics.html", context)
