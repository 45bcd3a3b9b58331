"""The operator's status pages (/operator/status/): incidents with their timelines, drafts opened by
the probes (confirmed or discarded by a person), maintenance windows, webhook subscribers. Every
view is for the operator's people only (``base.roles.OPERATOR_ROLES``); the actions check again."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from classnote.base.errors import ActionError
from classnote.base.requests import AuthedRequest
from classnote.base.roles import OPERATOR_ROLES
from classnote.status import access, actions
from classnote.status.components import COMPONENTS
from classnote.status.forms import IncidentForm, MaintenanceForm, PublishForm, UpdateForm, WebhookForm
from classnote.status.models import Maintenance, StatusIncident, Subscriber
from classnote.tenancy.access import audience


def _names(keys: list[str]) -> list[str]:
    return [str(COMPONENTS[key].name) for key in keys if key in COMPONENTS]


@audience(*OPERATOR_ROLES)
@require_GET
def incident_list(request: AuthedRequest) -> HttpResponse:
    """Drafts first (not public), then open incidents, then the resolved ones."""
    incidents = list(
        access.manageable_incidents(request.user).filter(discarded_at=None).order_by("-started_at", "-id")[:200]
    )
    drafts = [i for i in incidents if i.is_draft and i.resolved_at is None]
    open_ = [i for i in incidents if not i.is_draft and i.resolved_at is None]
    resolved = [i for i in incidents if i.resolved_at is not None]
    for incident in incidents:
        incident.component_names = _names(incident.components)  # type: ignore[attr-defined]
    context = {"drafts": drafts, "open": open_, "resolved": resolved}
    return render(request, "status/operator/incidents.html", context)


@audience(*OPERATOR_ROLES)
@require_http_methods(["GET", "POST"])
def incident_new(request: AuthedRequest) -> HttpResponse:
    form = IncidentForm()
    status = 200
    if request.method == "POST":
        form = IncidentForm(request.POST)
        status = 400
        if form.is_valid():
            try:
                incident = actions.open_incident(request.user, **form.cleaned_data)
            except ActionError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("The incident is open and public."))
                return redirect("status_operator_incident", status_incident_id=incident.pk)
    return render(request, "status/operator/incident_new.html", {"form": form}, status=status)


def _detail(
    request: AuthedRequest,
    incident: StatusIncident,
    *,
    update_form: UpdateForm | None = None,
    publish_form: PublishForm | None = None,
    status: int = 200,
) -> HttpResponse:
    incident.component_names = _names(incident.components)  # type: ignore[attr-defined]
    context: dict[str, Any] = {
        "incident": incident,
        "updates": incident.updates.order_by("-at", "-id"),
        "update_form": update_form or UpdateForm(initial={"state": incident.state}),
        "publish_form": publish_form
        or PublishForm(initial={"title": incident.title, "impact": incident.impact, "components": incident.components}),
    }
    return render(request, "status/operator/incident.html", context, status=status)


@audience(*OPERATOR_ROLES)
@require_http_methods(["GET", "POST"])
def incident_detail(request: AuthedRequest, status_incident_id: int) -> HttpResponse:
    """The timeline; POST posts an update."""
    incident = access.get_incident_for(request.user, status_incident_id)
    if request.method != "POST":
        return _detail(request, incident)
    form = UpdateForm(request.POST)
    if form.is_valid():
        try:
            actions.post_update(request.user, incident.pk, **form.cleaned_data)
        except ActionError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The update has been posted."))
            return redirect("status_operator_incident", status_incident_id=incident.pk)
    return _detail(request, incident, update_form=form, status=400)


@audience(*OPERATOR_ROLES)
@require_POST
def incident_resolve(request: AuthedRequest, status_incident_id: int) -> HttpResponse:
    incident = access.get_incident_for(request.user, status_incident_id)
    body = str(request.POST.get("body", ""))[:5000]
    try:
        actions.resolve_incident(request.user, incident.pk, body=body)
    except ActionError as error:
        messages.error(request, str(error))
        return _detail(request, incident, status=400)
    messages.success(request, _("The incident is resolved."))
    return redirect("status_operator_incident", status_incident_id=incident.pk)


@audience(*OPERATOR_ROLES)
@require_POST
def incident_publish(request: AuthedRequest, status_incident_id: int) -> HttpResponse:
    """A person confirms a draft: it becomes public."""
    incident = access.get_incident_for(request.user, status_incident_id)
    form = PublishForm(request.POST)
    if form.is_valid():
        try:
            actions.publish_draft(request.user, incident.pk, **form.cleaned_data)
        except ActionError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The incident is confirmed and public."))
            return redirect("status_operator_incident", status_incident_id=incident.pk)
    return _detail(request, incident, publish_form=form, status=400)


@audience(*OPERATOR_ROLES)
@require_POST
def incident_discard(request: AuthedRequest, status_incident_id: int) -> HttpResponse:
    incident = access.get_incident_for(request.user, status_incident_id)
    try:
        actions.discard_draft(request.user, incident.pk)
    except ActionError as error:
        messages.error(request, str(error))
        return _detail(request, incident, status=400)
    messages.success(request, _("The draft has been discarded."))
    return redirect("status_operator")


# --- Maintenance -----------------------------------------------------------------------------------


@audience(*OPERATOR_ROLES)
@require_GET
def maintenance_list(request: AuthedRequest) -> HttpResponse:
    now = timezone.now()
    windows = list(access.manageable_maintenance(request.user).order_by("-starts_at", "-id")[:200])
    for window in windows:
        window.component_names = _names(window.components)  # type: ignore[attr-defined]
        window.editable = window.cancelled_at is None and window.ends_at > now  # type: ignore[attr-defined]
    return render(request, "status/operator/maintenance.html", {"windows": windows, "now": now})


def _maintenance_form(request: AuthedRequest, window: Maintenance | None) -> HttpResponse:
    if window is not None:
        window.component_names = _names(window.components)  # type: ignore[attr-defined]
    editable = window is None or (window.cancelled_at is None and window.ends_at > timezone.now())
    initial: dict[str, Any] = {}
    if window is not None:
        initial = {
            "title": window.title,
            "body": window.body,
            "components": window.components,
            "starts_at": timezone.localtime(window.starts_at),
            "ends_at": timezone.localtime(window.ends_at),
        }
    form = MaintenanceForm(initial=initial)
    status = 200
    if request.method == "POST":
        form = MaintenanceForm(request.POST)
        status = 400
        if not editable:
            form.is_valid()
            form.add_error(None, _("This maintenance can no longer be changed."))
        elif form.is_valid():
            try:
                if window is None:
                    window = actions.announce_maintenance(request.user, **form.cleaned_data)
                    messages.success(request, _("The maintenance is announced."))
                else:
                    actions.change_maintenance(request.user, window.pk, **form.cleaned_data)
                    messages.success(request, _("The maintenance has been changed."))
            except ActionError as error:
                form.add_error(None, str(error))
            else:
                return redirect("status_operator_maintenance")
    context = {"form": form, "window": window, "editable": editable}
    return render(request, "status/operator/maintenance_form.html", context, status=status)


@audience(*OPERATOR_ROLES)
@require_http_methods(["GET", "POST"])
def maintenance_new(request: AuthedRequest) -> HttpResponse:
    return _maintenance_form(request, None)


@audience(*OPERATOR_ROLES)
@require_http_methods(["GET", "POST"])
def maintenance_edit(request: AuthedRequest, maintenance_id: int) -> HttpResponse:
    return _maintenance_form(request, access.get_maintenance_for(request.user, maintenance_id))


@audience(*OPERATOR_ROLES)
@require_POST
def maintenance_cancel(request: AuthedRequest, maintenance_id: int) -> HttpResponse:
    window = access.get_maintenance_for(request.user, maintenance_id)
    try:
        actions.cancel_maintenance(request.user, window.pk)
    except ActionError as error:
        messages.error(request, str(error))
        return redirect("status_operator_maintenance")
    messages.success(request, _("The maintenance is cancelled."))
    return redirect("status_operator_maintenance")


# --- Subscribers -----------------------------------------------------------------------------------


def _subscribers_page(
    request: AuthedRequest, form: WebhookForm, *, secret: str = "", status: int = 200
) -> HttpResponse:
    context = {
        "form": form,
        "webhooks": access.manageable_webhooks(request.user).order_by("created_at", "id"),
        "email_confirmed": Subscriber.objects.filter(kind=Subscriber.Kind.EMAIL).exclude(confirmed_at=None).count(),
        "email_pending": Subscriber.objects.filter(kind=Subscriber.Kind.EMAIL, confirmed_at=None).count(),
        "secret": secret,
    }
    response = render(request, "status/operator/subscribers.html", context, status=status)
    if secret:
        response["Cache-Control"] = "no-store"
    return response


@audience(*OPERATOR_ROLES)
@require_http_methods(["GET", "POST"])
def subscribers(request: AuthedRequest) -> HttpResponse:
    """Webhooks (set up here; the secret is shown once) and the number of e-mail subscribers."""
    if request.method != "POST":
        return _subscribers_page(request, WebhookForm())
    form = WebhookForm(request.POST)
    if form.is_valid():
        try:
            added = actions.add_webhook(request.user, form.cleaned_data["url"], translation.get_language() or "en")
        except ActionError as error:
            form.add_error("url", str(error))
        else:
            messages.success(request, _("The webhook is set up."))
            return _subscribers_page(request, WebhookForm(), secret=added.secret)
    return _subscribers_page(request, form, status=400)


@audience(*OPERATOR_ROLES)
@require_POST
def webhook_remove(request: AuthedRequest, subscriber_id: int) -> HttpResponse:
    actions.remove_webhook(request.user, subscriber_id)
    messages.success(request, _("The webhook has been removed."))
    return redirect("status_operator_subscribers")
