"""Pages of data-subject requests: the list with deadlines, opening one, and handling it."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from classnote.accounts import access as account_access
from classnote.accounts.models import User
from classnote.accounts.stepup import require_recent_login
from classnote.base.deadlines import slow_view
from classnote.base.errors import ActionError
from classnote.base.requests import AuthedRequest
from classnote.base.roles import SCHOOL_MANAGER_ROLES, Role
from classnote.rights import access as rights_access
from classnote.rights import workflow
from classnote.rights.forms import CloseForm, CorrectionForm, DeleteForm, OpenRequestForm
from classnote.rights.models import DataSubjectRequest
from classnote.tenancy.access import audience

HANDLERS = SCHOOL_MANAGER_ROLES
EVERYONE = (Role.TEACHER, Role.SCHOOL_ADMIN, Role.MUNICIPAL_ADMIN, Role.PRIVACY_OFFICER)


@audience(*EVERYONE)
@require_GET
def request_list(request: AuthedRequest) -> HttpResponse:
    """Open requests with their deadlines (overdue first), then the closed ones."""
    requests = rights_access.readable_requests(request.user).select_related("subject").order_by("status", "due_at")
    show_subject = request.user.role in HANDLERS
    receipts = rights_access.readable_receipts(request.user)[:50]
    return render(
        request,
        "rights/list.html",
        {
            "requests": requests[:500],
            "show_subject": show_subject,
            "receipts": receipts,
            "overdue": sum(1 for r in requests if r.overdue),
        },
    )


def _people(user: User) -> list[tuple[int, str]]:
    """Whom the user may open a request about: themselves, and (admins) the people they manage."""
    me = [(user.pk, str(_("Myself")))]
    if user.role not in HANDLERS:
        return me
    managed = account_access.manageable_users(user).exclude(pk=user.pk).order_by("role", "school", "display_name")
    labels = [(u.pk, f"{u.display_name} ({u.get_role_display()} {u.student_number})") for u in managed[:5000]]
    return me + [(pk, label.replace(" )", ")")) for pk, label in labels]


@audience(Role.TEACHER, Role.SCHOOL_ADMIN, Role.MUNICIPAL_ADMIN)
@require_http_methods(["GET", "POST"])
def request_new(request: AuthedRequest) -> HttpResponse:
    form = OpenRequestForm(request.POST or None, people=_people(request.user))
    if request.method == "POST":
        if form.is_valid():
            try:
                opened = workflow.open_request(
                    request.user,
                    subject_id=form.cleaned_data["subject"],
                    kind=form.cleaned_data["kind"],
                    requester=form.cleaned_data["requester"],
                    details=form.cleaned_data["details"],
                )
            except ActionError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("Request %(ref)s opened.") % {"ref": opened.reference})
                return redirect("request_detail", request_id=opened.pk)
        return render(
            request, "rights/new.html", {"form": form, "days": settings.PRIVACY_REQUEST_RESPONSE_DAYS}, status=400
        )
    return render(request, "rights/new.html", {"form": form, "days": settings.PRIVACY_REQUEST_RESPONSE_DAYS})


@audience(*HANDLERS, Role.TEACHER)
@require_GET
def request_detail(request: AuthedRequest, request_id: int) -> HttpResponse:
    return _detail(request, request_id)


def _detail(request: AuthedRequest, request_id: int, *, error: str = "", status: int = 200) -> HttpResponse:
    item: DataSubjectRequest = rights_access.get_request_for(request.user, request_id)
    can_handle = request.user.role in HANDLERS and item.subject_id != request.user.pk
    context = {
        "item": item,
        "error": error,
        "can_handle": can_handle and item.is_open and item.subject_id is not None,
        "close_form": CloseForm(),
        "delete_form": DeleteForm(),
        "receipts": item.receipts.all(),
    }
    if item.kind == DataSubjectRequest.Kind.CORRECTION and item.subject is not None:
        person = item.subject
        context["correction_form"] = CorrectionForm(
            initial={
                "display_name": person.display_name,
                "student_number": person.student_number,
                "name_reading": person.name_reading,
            }
        )
        context["show_reading"] = bool(person.municipality and person.municipality.collect_name_reading)
    return render(request, "rights/detail.html", context, status=status)


def _refused(request: AuthedRequest, request_id: int, error: ActionError) -> HttpResponse:
    """A refused step: the request's page again, with the reason, as a 400."""
    return _detail(request, request_id, error=str(error), status=400)


@slow_view
@audience(*HANDLERS)
@require_POST
def request_export(request: AuthedRequest, request_id: int) -> HttpResponse:
    """The disclosure export (a step-up: the administrator confirms their identity first)."""
    rights_access.get_request_for(request.user, request_id, handle=True)
    require_recent_login(request)
    try:
        item, body = workflow.disclose(request.user, request_id)
    except ActionError as error:
        return _refused(request, request_id, error)
    response = HttpResponse(body, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="disclosure-{item.reference}.zip"'
    response["Cache-Control"] = "no-store"
    return response


@audience(*HANDLERS)
@require_POST
def request_correct(request: AuthedRequest, request_id: int) -> HttpResponse:
    form = CorrectionForm(request.POST)
    if not form.is_valid():
        problems = " ".join(
            f"{form.fields[name].label}: {error}" for name, errors in form.errors.items() for error in errors
        )
        return _refused(
            request, request_id, ActionError(_("Check the corrected values. %(problems)s") % {"problems": problems})
        )
    try:
        workflow.correct(request.user, request_id, {k: v for k, v in form.cleaned_data.items() if k in request.POST})
    except ActionError as error:
        return _refused(request, request_id, error)
    messages.success(request, _("The correction was saved. Close the request with what the person is told."))
    return redirect("request_detail", request_id=request_id)


@audience(*HANDLERS)
@require_POST
def request_cease(request: AuthedRequest, request_id: int) -> HttpResponse:
    rights_access.get_request_for(request.user, request_id, handle=True)
    require_recent_login(request)
    try:
        workflow.cease(request.user, request_id)
    except ActionError as error:
        return _refused(request, request_id, error)
    messages.success(request, _("The account was deactivated."))
    return redirect("request_detail", request_id=request_id)


@audience(*HANDLERS)
@require_POST
def request_delete(request: AuthedRequest, request_id: int) -> HttpResponse:
    rights_access.get_request_for(request.user, request_id, handle=True)
    require_recent_login(request)
    form = DeleteForm(request.POST)
    try:
        if not form.is_valid():
            raise ActionError(_("Type the request's reference to confirm the deletion."))
        receipt = workflow.delete_person(request.user, request_id, form.cleaned_data["confirmation"])
    except ActionError as error:
        return _refused(request, request_id, error)
    messages.success(request, _("The person's data was deleted. Receipt %(ref)s.") % {"ref": receipt.reference})
    return redirect("request_detail", request_id=request_id)


@audience(*HANDLERS)
@require_POST
def request_close(request: AuthedRequest, request_id: int) -> HttpResponse:
    form = CloseForm(request.POST)
    try:
        if not form.is_valid():
            raise ActionError(_("Write what the person is told."))
        workflow.close(
            request.user, request_id, status=form.cleaned_data["status"], outcome=form.cleaned_data["outcome"]
        )
    except ActionError as error:
        return _refused(request, request_id, error)
    messages.success(request, _("The request was closed."))
    return redirect("request_detail", request_id=request_id)
