from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods

from classnote.accounts import access as account_access
from classnote.accounts.stepup import require_recent_login
from classnote.base.deadlines import slow_view
from classnote.base.errors import ActionError
from classnote.base.inventory import Purpose
from classnote.base.requests import AuthedRequest
from classnote.base.roles import SCHOOL_MANAGER_ROLES, Role
from classnote.portfolio import actions
from classnote.portfolio.export import READS, build_zip, submissions_of
from classnote.privacy import purposes
from classnote.privacy.forms import ProvisionForm
from classnote.tenancy.access import audience


@audience(Role.STUDENT)
@require_GET
def my_portfolio(request: AuthedRequest) -> HttpResponse:
    return render(
        request,
        "portfolio/portfolio.html",
        {"student": request.user, "submissions": submissions_of(request.user)},
    )


def _zip_response(student: object, body: bytes) -> HttpResponse:
    response = HttpResponse(body, content_type="application/zip")
    response["Content-Disposition"] = 'attachment; filename="portfolio.zip"'
    response["Cache-Control"] = "no-store"
    return response


@slow_view
@audience(Role.STUDENT)
@require_GET
def my_portfolio_zip(request: AuthedRequest) -> HttpResponse:
    student = request.user
    # The pupil's own export is recorded too ("every export"); it is not shown as someone else's
    # read on their "who viewed my work" page.
    purposes.check_reads(
        student, Purpose.PORTFOLIO, READS, record_as="portfolio.exported", target=student, subject=student
    )
    return _zip_response(student, build_zip(student))


@slow_view
@audience(Role.SCHOOL_ADMIN, Role.MUNICIPAL_ADMIN)
@require_GET
def student_portfolio_zip(request: AuthedRequest, user_id: int) -> HttpResponse:
    """The school exports a pupil's portfolio, e.g. when they transfer or graduate."""
    student = account_access.get_user_for(request.user, user_id, manage=True)
    if student.role != Role.STUDENT:
        from django.http import Http404

        raise Http404
    require_recent_login(request)
    purposes.check_reads(
        request.user,
        Purpose.PORTFOLIO,
        READS,
        record_as="portfolio.exported",
        target=student,
        subject=student,
        school_id=student.school_id,
    )
    return _zip_response(student, build_zip(student))


@audience(*SCHOOL_MANAGER_ROLES)
@require_http_methods(["GET", "POST"])
def provide_to_organisation(request: AuthedRequest, user_id: int) -> HttpResponse:
    """Hand a pupil's portfolio to another organisation: only with a recorded legal basis."""
    student = account_access.get_user_for(request.user, user_id, manage=True)
    if student.role != Role.STUDENT:
        raise Http404
    form = ProvisionForm()
    status = 200
    if request.method == "POST":
        require_recent_login(request)
        form = ProvisionForm(request.POST)
        status = 400
        if form.is_valid():
            try:
                provision, body = actions.provide_portfolio(request.user, student.pk, **form.cleaned_data)
            except ActionError as error:
                form.add_error(None, str(error))
            else:
                response = HttpResponse(body, content_type="application/zip")
                response["Content-Disposition"] = f'attachment; filename="portfolio-provision-{provision.pk}.zip"'
                response["Cache-Control"] = "no-store"
                return response
    return render(request, "privacy/provide.html", {"person": student, "form": form}, status=status)
