"""The incident register: the privacy officer keeps it; a municipal admin reads the incidents that
affect their board of education."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from classnote.audit.log import record
from classnote.base.errors import ActionError
from classnote.base.requests import AuthedRequest
from classnote.base.roles import Role
from classnote.incidents import access as incident_access
from classnote.incidents import actions
from classnote.incidents.forms import IncidentForm, ReportForm
from classnote.incidents.models import Incident
from classnote.tenancy.access import audience


def _affected(request: AuthedRequest, incident: Incident) -> list[Any]:
    return list(incident_access.affected_boards(request.user, incident))


@audience(Role.PRIVACY_OFFICER, Role.MUNICIPAL_ADMIN)
@require_GET
def incident_list(request: AuthedRequest) -> HttpResponse:
    incidents = incident_access.readable_incidents(request.user).order_by("-discovered_at", "-id")
    context = {"incidents": incidents, "officer": request.user.role == Role.PRIVACY_OFFICER}
    return render(request, "incidents/list.html", context)


@audience(Role.PRIVACY_OFFICER)
@require_http_methods(["GET", "POST"])
def incident_new(request: AuthedRequest) -> HttpResponse:
    form = IncidentForm()
    status = 200
    if request.method == "POST":
        form = IncidentForm(request.POST)
        status = 400
        if form.is_valid():
            data = dict(form.cleaned_data)
            municipalities = data.pop("municipalities")
            try:
                incident = actions.create_incident(request.user, municipalities=municipalities, **data)
            except ActionError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("The incident has been registered."))
                return redirect("incident_detail", incident_id=incident.pk)
    return render(request, "incidents/new.html", {"form": form}, status=status)


@audience(Role.PRIVACY_OFFICER, Role.MUNICIPAL_ADMIN)
@require_http_methods(["GET", "POST"])
def incident_detail(request: AuthedRequest, incident_id: int) -> HttpResponse:
    """Everyone allowed sees the facts and deadlines; only the privacy officer edits them."""
    incident = incident_access.get_incident_for(request.user, incident_id)
    officer = request.user.role == Role.PRIVACY_OFFICER
    if request.method == "POST" and not officer:
        raise PermissionDenied
    form = None
    status = 200
    if request.method == "POST":
        form = IncidentForm(request.POST, instance=Incident.objects.get(pk=incident.pk))
        status = 400
        if form.is_valid():
            data = dict(form.cleaned_data)
            municipalities = data.pop("municipalities")
            try:
                actions.update_incident(request.user, incident.pk, municipalities=municipalities, **data)
            except ActionError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("The incident has been saved."))
                return redirect("incident_detail", incident_id=incident.pk)
    if not officer:
        record(request.user, "incident.viewed", target=incident)
    return _detail_page(request, incident, form=form, status=status)


def _detail_page(
    request: AuthedRequest,
    incident: Incident,
    *,
    form: IncidentForm | None = None,
    report_form: ReportForm | None = None,
    status: int = 200,
) -> HttpResponse:
    officer = request.user.role == Role.PRIVACY_OFFICER
    if officer and form is None:
        form = IncidentForm(instance=incident)
    forms = {
        which: report_form if report_form is not None and report_form.prefix == which else None
        for which in actions.REPORTS
    }
    context = {
        "incident": incident,
        "affected": _affected(request, incident),
        "officer": officer,
        "form": form,
        "preliminary_form": forms["preliminary"] or ReportForm(initial={"report": "preliminary"}, prefix="preliminary"),
        "final_form": forms["final"] or ReportForm(initial={"report": "final"}, prefix="final"),
    }
    return render(request, "incidents/detail.html", context, status=status)


@audience(Role.PRIVACY_OFFICER)
@require_POST
def incident_report(request: AuthedRequest, incident_id: int) -> HttpResponse:
    """Mark the preliminary or the final report to the regulator as filed."""
    incident = incident_access.get_incident_for(request.user, incident_id, manage=True)
    which = request.POST.get("which", "")
    form = ReportForm(request.POST, prefix=which if which in actions.REPORTS else "preliminary")
    if not form.is_valid():
        form.add_error(None, _("Enter the date and time the report was filed."))
        return _detail_page(request, incident, report_form=form, status=400)
    try:
        actions.file_report(request.user, incident.pk, form.cleaned_data["report"], form.cleaned_data["filed_at"])
    except ActionError as error:
        form.add_error(None, str(error))
        return _detail_page(request, incident, report_form=form, status=400)
    messages.success(request, _("The report has been recorded as filed."))
    return redirect("incident_detail", incident_id=incident.pk)
