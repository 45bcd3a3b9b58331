from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from classnote.accounts import access as account_access
from classnote.accounts.models import User
from classnote.accounts.stepup import require_recent_login
from classnote.base.errors import ActionError
from classnote.base.inventory import Purpose
from classnote.base.requests import AuthedRequest
from classnote.base.roles import SCHOOL_MANAGER_ROLES, Role
from classnote.privacy import access as privacy_access
from classnote.privacy import actions, deadlines, policy, purposes, who_viewed
from classnote.privacy.forms import SupportGrantForm
from classnote.tenancy import access
from classnote.tenancy.access import AUTHENTICATED, audience
from classnote.tenancy.models import School, SchoolClass


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


# --- Operator support access ----------------------------------------------------------------------
# The fields the operator sees during support; Purpose.SUPPORT is declared on exactly these.
SUPPORT_READS: dict[type, list[str]] = {
    School: ["name", "code"],
    SchoolClass: ["name", "school_year"],
    User: ["display_name", "role"],
}


@audience(Role.MUNICIPAL_ADMIN, Role.OPERATOR)
@require_http_methods(["GET", "POST"])
def support(request: AuthedRequest) -> HttpResponse:
    """A municipal admin grants and revokes support access; an operator sees the grants that let them in."""
    user = request.user
    if user.role == Role.OPERATOR:
        if request.method == "POST":
            raise PermissionDenied
        grants = privacy_access.active_support_grants(user).order_by("expires_at")
        return render(request, "privacy/support_operator.html", {"grants": grants})
    form = SupportGrantForm()
    status = 200
    if request.method == "POST":
        require_recent_login(request)  # lets the operator into the board's data
        form = SupportGrantForm(request.POST)
        status = 400
        if form.is_valid():
            try:
                actions.grant_support(user, **form.cleaned_data)
            except ActionError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("Support access has been granted."))
                return redirect("privacy_support")
    grants = privacy_access.manageable_support_grants(user).order_by("-granted_at")[:50]
    return render(request, "privacy/support.html", {"form": form, "grants": grants}, status=status)


@audience(Role.MUNICIPAL_ADMIN)
@require_POST
def support_revoke(request: AuthedRequest, grant_id: int) -> HttpResponse:
    actions.revoke_support(request.user, grant_id)
    messages.success(request, _("Support access has ended."))
    return redirect("privacy_support")


@audience(Role.OPERATOR)
@require_GET
def support_tenant(request: AuthedRequest, municipality_id: int) -> HttpResponse:
    """What support may see while a grant runs: schools, classes, and people's display names and
    roles — never lesson content. Every opening is recorded in the tenant's audit log."""
    user = request.user
    grant = privacy_access.get_support_grant_of(user, municipality_id)
    municipality = grant.municipality
    purposes.check_reads(
        user,
        Purpose.SUPPORT,
        SUPPORT_READS,
        record_as="support.viewed",
        target=municipality,
        municipality_id=municipality.pk,
        grant=grant.pk,
    )
    schools = privacy_access.supported_schools(user).filter(municipality=municipality).order_by("name")
    classes = privacy_access.supported_classes(user).filter(school__municipality=municipality)
    people = privacy_access.supported_users(user).filter(municipality=municipality).order_by("role", "display_name")
    context = {
        "grant": grant,
        "municipality": municipality,
        "schools": [
            {"school": school, "classes": [c for c in classes if c.school_id == school.pk]} for school in schools
        ],
        "people": Paginator(people, 200).get_page(request.GET.get("page")),
    }
    response = render(request, "privacy/support_tenant.html", context)
    response["Cache-Control"] = "private, no-store"
    return response


# --- Who viewed my work ---------------------------------------------------------------------------


@audience(AUTHENTICATED)
@require_GET
def my_views(request: AuthedRequest) -> HttpResponse:
    """Who (name and role), when and what: every read and export of my data by someone else."""
    page, rows = who_viewed.page_for(request.user, request.user, request.GET.get("page"))
    provisions = privacy_access.readable_provision_records(request.user).filter(subject_id=request.user.pk)
    return render(
        request,
        "privacy/who_viewed.html",
        {"page": page, "rows": rows, "person": None, "provisions": provisions},
    )


@audience(*SCHOOL_MANAGER_ROLES)
@require_GET
def user_views(request: AuthedRequest, user_id: int) -> HttpResponse:
    """The same list for a person the admin manages ("for a young pupil, the school")."""
    person = account_access.get_user_for(request.user, user_id, manage=True)
    page, rows = who_viewed.page_for(person, request.user, request.GET.get("page"))
    provisions = privacy_access.readable_provision_records(request.user).filter(subject_id=person.pk)
    return render(
        request,
        "privacy/who_viewed.html",
        {"page": page, "rows": rows, "person": person, "provisions": provisions},
    )


# --- Provision to other organisations -------------------------------------------------------------


def _with_names(user: User, records: list[Any]) -> list[Any]:
    """Name the records' subjects the user may still see (a deleted pupil shows as an id only)."""
    names = dict(
        account_access.manageable_users(user)
        .filter(pk__in={r.subject_id for r in records})
        .values_list("pk", "display_name")
    )
    for record in records:
        record.subject_name = names.get(record.subject_id, "")
    return records


@audience(*SCHOOL_MANAGER_ROLES)
@require_GET
def provisions(request: AuthedRequest) -> HttpResponse:
    """The tenant's provision records: the school's for a school admin, the board's for a municipal admin."""
    page = Paginator(privacy_access.readable_provision_records(request.user), 100).get_page(request.GET.get("page"))
    records = _with_names(request.user, list(page))
    return render(
        request, "privacy/provisions.html", {"page": page, "records": records, "show_person": True, "person": None}
    )


@audience(*SCHOOL_MANAGER_ROLES)
@require_GET
def user_provisions(request: AuthedRequest, user_id: int) -> HttpResponse:
    """One person's provision records: what the person may ask to be disclosed."""
    person = account_access.get_user_for(request.user, user_id, manage=True)
    records = list(privacy_access.readable_provision_records(request.user).filter(subject_id=person.pk))
    return render(
        request, "privacy/provisions.html", {"page": None, "records": records, "show_person": False, "person": person}
    )


# --- The privacy policy ---------------------------------------------------------------------------


@audience(access.PUBLIC)
@require_GET
def privacy_policy(request: HttpRequest) -> HttpResponse:
    """The privacy policy, generated from the data inventory and the tenant's settings: a signed-in
    user's own board of education; otherwise a listed one chosen with ?tenant=<id>, or the generic one."""
    user = request.user
    choices = None
    if user.is_authenticated and getattr(user, "municipality_id", None):
        municipality = user.municipality
    else:
        chosen = request.GET.get("tenant", "")
        municipality = access.get_listed_municipality(chosen) if chosen else None
        choices = access.listed_municipalities().order_by(
            "region__country__sort_order", "region__country__name", "name"
        )
    context = policy.context(municipality, get_language())
    context["choices"] = choices
    return render(request, "privacy/policy.html", context)
