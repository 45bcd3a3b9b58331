from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from classnote.audit.models import AuditEntry
from classnote.base.requests import AuthedRequest
from classnote.base.roles import Role
from classnote.tenancy import access
from classnote.tenancy.access import audience


@audience(Role.SCHOOL_ADMIN, Role.MUNICIPAL_ADMIN)
@require_GET
def audit_log(request: AuthedRequest) -> HttpResponse:
    """The tenant's audit log: the school's for a school admin, the board's for a municipal admin."""
    user = request.user
    if user.role == Role.MUNICIPAL_ADMIN:
        entries = AuditEntry.objects.filter(municipality_id=user.municipality_id or 0)
    else:
        entries = AuditEntry.objects.filter(school_id=user.school_id or 0)
    page = Paginator(entries.order_by("-id"), 100).get_page(request.GET.get("page"))
    people = {u.pk: u for u in access.readable_users(user).filter(pk__in=[e.actor_id for e in page if e.actor_id])}
    rows = [{"entry": e, "actor": people.get(e.actor_id or 0)} for e in page]
    return render(request, "audit/log.html", {"page": page, "rows": rows})
