"""The roster import's pages: upload -> preview line by line -> confirm -> first passwords."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from classnote.accounts.stepup import require_recent_login
from classnote.base.deadlines import slow_view
from classnote.base.errors import ActionError
from classnote.base.requests import AuthedRequest
from classnote.base.roles import SCHOOL_MANAGER_ROLES
from classnote.roster import actions, reader
from classnote.roster.forms import RosterUploadForm
from classnote.tenancy import access
from classnote.tenancy.access import audience
from classnote.tenancy.models import School


@slow_view
@audience(*SCHOOL_MANAGER_ROLES)
@require_http_methods(["GET", "POST"])
def roster_import(request: AuthedRequest, school_id: int) -> HttpResponse:
    school = access.get_school_for(request.user, school_id, manage=True)
    require_recent_login(request)  # new credentials for many pupils at once, as printing login cards
    years = reader.school_years(request.user, school)
    form = RosterUploadForm(years=years)
    status = 200
    if request.method == "POST" and "plan" in request.POST:
        return _roster_confirm(request, school, years)
    if request.method == "POST":
        status = 400
        form = RosterUploadForm(request.POST, request.FILES, years=years)
        if getattr(request, "classnote_upload_too_large", False):
            form.add_error("file", str(reader.too_large()))
        elif form.is_valid():
            try:
                data = form.cleaned_data["file"].read(reader.MAX_BYTES + 1)
                parsed = reader.read(data)
                plan = reader.plan(request.user, school, form.cleaned_data["school_year"], parsed)
            except ActionError as error:
                form.add_error("file", str(error))
            else:
                return _roster_preview(request, plan)
    return render(request, "tenancy/roster_upload.html", {"school": school, "form": form}, status=status)


def _roster_preview(request: AuthedRequest, plan: reader.Plan, *, status: int = 200) -> HttpResponse:
    signed = reader.sign(request.user, plan) if plan.actionable else ""
    context = {"school": plan.school, "plan": plan, "counts": plan.counts, "signed": signed}
    response = render(request, "tenancy/roster_preview.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response


def _roster_confirm(request: AuthedRequest, school: School, years: list[int]) -> HttpResponse:
    try:
        year, digest, parsed = reader.unsign(request.user, school, request.POST.get("plan", ""))
        plan = reader.plan(request.user, school, year, parsed)
        if plan.digest() != digest:
            messages.warning(request, _("The school's roster changed since the preview. Check the lines again."))
            return _roster_preview(request, plan, status=409)
        if not plan.actionable:
            raise ActionError(_("There is nothing to import."))
        imported = actions.import_roster(request.user, school, plan)
    except ActionError as error:
        context = {"school": school, "form": RosterUploadForm(years=years), "error": str(error)}
        return render(request, "tenancy/roster_upload.html", context, status=400)
    response = render(request, "tenancy/roster_done.html", {"school": school, "imported": imported}, status=201)
    response["Cache-Control"] = "no-store"
    return response
