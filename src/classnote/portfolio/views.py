from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from classnote.accounts import access as account_access
from classnote.accounts.models import User
from classnote.accounts.stepup import require_recent_login
from classnote.base import schoolyear
from classnote.base.deadlines import slow_view
from classnote.base.errors import ActionError
from classnote.base.inventory import Purpose
from classnote.base.requests import AuthedRequest
from classnote.base.roles import SCHOOL_MANAGER_ROLES, TEACHING_ROLES, Role
from classnote.portfolio import access, actions, queries
from classnote.portfolio.export import READS, build_class_zip, build_zip
from classnote.privacy import purposes
from classnote.privacy.forms import ProvisionForm
from classnote.tenancy.access import audience
from classnote.tenancy.models import SchoolClass


def _year(request: AuthedRequest, default: int) -> int:
    """The school year named by ?year= (DEFAULT without one); a bad one is refused with a 400."""
    return _any_year(request) or default


def _any_year(request: AuthedRequest) -> int | None:
    """The school year named by ?year=, None without one (every year)."""
    raw = request.GET.get("year", "")
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit() and schoolyear.FIRST_YEAR <= int(raw) <= schoolyear.LAST_YEAR):
        raise ActionError(_("Choose a school year from the list."))
    return int(raw)


def _record_class_export(request: AuthedRequest, school_class: SchoolClass, pupil: User, year: int) -> None:
    """A class teacher's export of PUPIL's work in SCHOOL_CLASS for YEAR: checked against the purpose
    and recorded, so the pupil sees it on "who viewed my work"."""
    purposes.check_reads(
        request.user,
        Purpose.PORTFOLIO,
        READS,
        record_as="portfolio.exported",
        target=pupil,
        subject=pupil,
        school_id=school_class.school_id,
        class_id=school_class.pk,
        school_year=year,
    )


def _bad_year(request: AuthedRequest, error: ActionError) -> HttpResponse:
    return render(request, "errors/error.html", {"status": 400, "message": str(error)}, status=400)


@audience(Role.STUDENT)
@require_GET
def my_portfolio(request: AuthedRequest) -> HttpResponse:
    """The pupil's portfolio, one school year at a time: per lesson their cards and submissions
    with the teacher's comment and mark."""
    years = queries.years_of(request.user)
    try:
        year = _year(request, years[0] if years else schoolyear.current_school_year())
    except ActionError as error:
        return _bad_year(request, error)
    return render(
        request,
        "portfolio/portfolio.html",
        {
            "student": request.user,
            "years": years if year in years else sorted({*years, year}, reverse=True),
            "year": year,
            "lessons": queries.lessons_in(request.user, year),
        },
    )


def _zip_response(body: bytes, name: str = "portfolio") -> HttpResponse:
    response = HttpResponse(body, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{name}.zip"'
    response["Cache-Control"] = "no-store"
    return response


@slow_view
@audience(Role.STUDENT)
@require_GET
def my_portfolio_zip(request: AuthedRequest) -> HttpResponse:
    """The pupil's own portfolio: every year, or one school year with ?year=."""
    student = request.user
    try:
        year = _any_year(request)
    except ActionError as error:
        return _bad_year(request, error)
    # The pupil's own export is recorded too ("every export"); it is not shown as someone else's
    # read on their "who viewed my work" page.
    purposes.check_reads(
        student,
        Purpose.PORTFOLIO,
        READS,
        record_as="portfolio.exported",
        target=student,
        subject=student,
        school_year=year,
    )
    return _zip_response(build_zip(student, year), f"portfolio-{year}" if year else "portfolio")


@audience(*TEACHING_ROLES)
@require_GET
def class_portfolios(request: AuthedRequest, class_id: int) -> HttpResponse:
    """A class teacher's page of their pupils' portfolios: the class ZIP and one ZIP per pupil."""
    school_class = access.get_class_for_export(request.user, class_id)
    try:
        year = _year(request, school_class.school_year)
    except ActionError as error:
        return _bad_year(request, error)
    return render(
        request,
        "portfolio/class_portfolios.html",
        {
            "school_class": school_class,
            "year": year,
            "years": sorted({school_class.school_year, schoolyear.current_school_year(), year}, reverse=True),
            "pupils": access.pupils_of(school_class),
        },
    )


@slow_view
@audience(*TEACHING_ROLES)
@require_GET
def class_portfolios_zip(request: AuthedRequest, class_id: int) -> HttpResponse:
    """A class teacher exports their class's pupils' portfolios of a school year (the class's lessons)."""
    school_class = access.get_class_for_export(request.user, class_id)
    require_recent_login(request)
    try:
        year = _year(request, school_class.school_year)
    except ActionError as error:
        return _bad_year(request, error)
    pupils = list(access.pupils_of(school_class))
    for pupil in pupils:  # one entry per pupil, so each sees the export on "who viewed my work"
        _record_class_export(request, school_class, pupil, year)
    return _zip_response(build_class_zip(school_class, pupils, year), f"portfolios-{school_class.pk}-{year}")


@slow_view
@audience(*TEACHING_ROLES)
@require_GET
def class_pupil_portfolio_zip(request: AuthedRequest, class_id: int, user_id: int) -> HttpResponse:
    """A class teacher exports one of their pupils' portfolio of a school year (the class's lessons)."""
    school_class, pupil = access.get_pupil_for_export(request.user, class_id, user_id)
    require_recent_login(request)
    try:
        year = _year(request, school_class.school_year)
    except ActionError as error:
        return _bad_year(request, error)
    _record_class_export(request, school_class, pupil, year)
    return _zip_response(build_zip(pupil, year, school_class), f"portfolio-{year}")


@slow_view
@audience(Role.SCHOOL_ADMIN, Role.MUNICIPAL_ADMIN)
@require_GET
def student_portfolio_zip(request: AuthedRequest, user_id: int) -> HttpResponse:
    """The school exports a pupil's portfolio, e.g. when they transfer or graduate."""
    student = account_access.get_user_for(request.user, user_id, manage=True)
    if student.role != Role.STUDENT:
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
    return _zip_response(build_zip(student))


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
