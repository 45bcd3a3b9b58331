"""The public complaint form and status page, and the privacy officer's queue and case page."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from classnote.base.errors import ActionError
from classnote.base.requests import AuthedRequest
from classnote.base.roles import Role
from classnote.complaints import access as complaint_access
from classnote.complaints import actions, spam
from classnote.complaints.forms import CaseForm, ComplaintForm, NoteForm, StatusForm
from classnote.complaints.models import Complaint
from classnote.tenancy.access import PUBLIC, audience

_SPAM_MESSAGES = {
    spam.Refusal.HONEYPOT: gettext_lazy("Your form could not be accepted. Please open the form again and send it."),
    spam.Refusal.BAD_TOKEN: gettext_lazy("Your form could not be accepted. Please open the form again and send it."),
    spam.Refusal.TOO_FAST: gettext_lazy("The form was sent too quickly. Please check your message and send it again."),
    spam.Refusal.TOO_OLD: gettext_lazy(
        "The form was open for more than a day. Please check your message and send it again."
    ),
}


def _status_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("complaint_status"))


def _refused(request: HttpRequest, message: str, status: int) -> HttpResponse:
    return render(request, "complaints/refused.html", {"message": message}, status=status)


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response


@audience(PUBLIC)
@require_http_methods(["GET", "POST"])
def complaint_new(request: HttpRequest) -> HttpResponse:
    """Anyone may send a complaint, a consultation or a question about personal information."""
    if request.method == "GET":
        context = {"form": ComplaintForm(), "token": spam.form_token(), "honeypot": spam.HONEYPOT_FIELD}
        return render(request, "complaints/new.html", context)
    if spam.submissions_exhausted(request):
        message = _("Too many enquiries were sent from your network in the last hour. Please try again later.")
        return _refused(request, message, 429)
    form = ComplaintForm(request.POST)
    refusal = spam.check_form(request.POST)
    if refusal is not None:
        spam.count_submission(request)
        form.is_valid()  # keep what the person wrote, with any other mistakes marked
        form.add_error(None, str(_SPAM_MESSAGES[refusal]))
    if refusal is not None or not form.is_valid():
        context = {"form": form, "token": spam.form_token(), "honeypot": spam.HONEYPOT_FIELD}
        return render(request, "complaints/new.html", context, status=400)
    if not spam.take_submission(request):  # counted atomically before the case is opened
        message = _("Too many enquiries were sent from your network in the last hour. Please try again later.")
        return _refused(request, message, 429)
    data = form.cleaned_data
    try:
        opened = actions.open_case(
            kind=data["kind"],
            municipality=data["municipality"],
            message=data["message"],
            name=data["name"],
            email=data["email"],
            language=translation.get_language() or "en",
            status_url=_status_url(request),
        )
    except ActionError as error:
        return _refused(request, str(error), 409)
    context = {"complaint": opened.complaint, "access_code": opened.access_code}
    return _no_store(render(request, "complaints/received.html", context, status=201))


@audience(PUBLIC)
@never_cache
@require_http_methods(["GET", "POST"])
def complaint_status(request: HttpRequest) -> HttpResponse:
    """The submitter sees their case with its reference and access code (sent by POST, never in a URL)."""
    if request.method == "GET":
        return render(request, "complaints/status.html", {"form": StatusForm()})
    form = StatusForm(request.POST)
    if not form.is_valid():
        return render(request, "complaints/status.html", {"form": form}, status=400)
    reference = form.cleaned_data["reference"]
    if spam.code_attempts_exhausted(request, reference):
        return _refused(request, _("Too many wrong access codes. Please try again in an hour."), 429)
    complaint = actions.find_by_code(reference, form.cleaned_data["access_code"])
    if complaint is None:
        spam.count_wrong_code(request, reference)
        form.add_error(None, _("No case matches this reference and access code."))
        return render(request, "complaints/status.html", {"form": form}, status=404)
    return _no_store(render(request, "complaints/status.html", {"form": StatusForm(), "complaint": complaint}))


@audience(Role.PRIVACY_OFFICER)
@require_GET
def complaint_queue(request: AuthedRequest) -> HttpResponse:
    """Open cases first by deadline; ?show=all lists the answered and closed ones too."""
    show_all = request.GET.get("show") == "all"
    cases = complaint_access.readable_complaints(request.user)
    if not show_all:
        cases = cases.filter(status__in=Complaint.OPEN_STATUSES)
    return render(
        request, "complaints/queue.html", {"cases": cases.order_by("received_at", "id"), "show_all": show_all}
    )


@audience(Role.PRIVACY_OFFICER)
@require_http_methods(["GET", "POST"])
def complaint_detail(request: AuthedRequest, complaint_id: int) -> HttpResponse:
    complaint = complaint_access.get_complaint_for(request.user, complaint_id)
    note_form = NoteForm(prefix="note")
    case_form = CaseForm(prefix="case", initial={"status": complaint.status, "outcome": complaint.outcome})
    status = 200
    if request.method == "POST":
        status = 400
        try:
            if request.POST.get("action") == "note":
                note_form = NoteForm(request.POST, prefix="note")
                if note_form.is_valid():
                    actions.add_note(request.user, complaint.pk, note_form.cleaned_data["text"])
                    messages.success(request, _("The note has been added."))
                    return redirect("complaint_detail", complaint_id=complaint.pk)
            elif request.POST.get("action") == "update":
                case_form = CaseForm(request.POST, prefix="case")
                if case_form.is_valid():
                    actions.update_case(
                        request.user,
                        complaint.pk,
                        status=case_form.cleaned_data["status"],
                        outcome=case_form.cleaned_data["outcome"],
                        status_url=_status_url(request),
                    )
                    messages.success(request, _("The case has been updated."))
                    return redirect("complaint_detail", complaint_id=complaint.pk)
            else:
                messages.error(request, _("The request could not be understood."))
        except ActionError as error:
            messages.error(request, str(error))
            status = 409
    complaint = actions.view_case(request.user, complaint.pk)
    context = {
        "complaint": complaint,
        "notes": complaint.notes.select_related("author"),
        "note_form": note_form,
        "case_form": case_form,
    }
    return render(request, "complaints/case.html", context, status=status)
