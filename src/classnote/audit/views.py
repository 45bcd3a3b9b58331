from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from classnote.accounts import access as account_access
from classnote.audit import labels
from classnote.audit.access import readable_entries
from classnote.base.requests import AuthedRequest
from classnote.base.roles import SCHOOL_MANAGER_ROLES, Role
from classnote.tenancy.access import audience


@audience(*SCHOOL_MANAGER_ROLES)
@require_GET
def audit_log(request: AuthedRequest) -> HttpResponse:
    """The tenant's audit log: the school's for a school admin, the board's for a municipal admin."""
    user = request.user
    page = Paginator(readable_entries(user).order_by("-id"), 100).get_page(request.GET.get("page"))
    person_ids = {e.actor_id for e in page if e.actor_id} | {
        int(e.target_id) for e in page if e.target_type == "User" and e.target_id.isdigit()
    }
    people = {person.pk: person for person in account_access.readable_users(user).filter(pk__in=person_ids)}
    rows = [
        {
            "entry": e,
            "actor": people.get(e.actor_id or 0),
            "role": Role(e.actor_role).label if e.actor_role in Role.values else e.actor_role,
            "action": labels.action_label(e.action),
            "target": labels.target_label(e.target_type),
            # A person the reader may see is named; anything else by what it is and its number.
            "target_person": people.get(int(e.target_id))
            if e.target_type == "User" and e.target_id.isdigit()
            else None,
        }
        for e in page
    ]
    return render(request, "audit/log.html", {"page": page, "rows": rows})
