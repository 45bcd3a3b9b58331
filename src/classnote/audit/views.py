from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from classnote.accounts import access as account_access
from classnote.audit.access import readable_entries
from classnote.base.requests import AuthedRequest
from classnote.base.roles import SCHOOL_MANAGER_ROLES
from classnote.tenancy.access import audience


@audience(*SCHOOL_MANAGER_ROLES)
@require_GET
def audit_log(request: AuthedRequest) -> HttpResponse:
    """The tenant's audit log: the school's for a school admin, the board's for a municipal admin."""
    user = request.user
    page = Paginator(readable_entries(user).order_by("-id"), 100).get_page(request.GET.get("page"))
    actors = account_access.readable_users(user).filter(pk__in=[e.actor_id for e in page if e.actor_id])
    people = {person.pk: person for person in actors}
    rows = [{"entry": e, "actor": people.get(e.actor_id or 0)} for e in page]
    return render(request, "audit/log.html", {"page": page, "rows": rows})
