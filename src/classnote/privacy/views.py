from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from classnote.accounts.models import Role
from classnote.core.types import AuthedRequest
from classnote.privacy import deadlines
from classnote.tenancy.access import audience


@audience(Role.PRIVACY_OFFICER)
@require_GET
def officer_dashboard(request: AuthedRequest) -> HttpResponse:
    """Every open deadline (requests, complaints, incidents), soonest first; the overdue flagged."""
    items = deadlines.open_deadlines(request.user)
    context = {
        "deadlines": items,
        "overdue": sum(1 for item in items if item.overdue),
        "queues": deadlines.queues(),
    }
    return render(request, "privacy/officer.html", context)
