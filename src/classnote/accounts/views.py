from __future__ import annotations

import segno
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from classnote.accounts import access as account_access
from classnote.accounts import actions, credentials, throttling
from classnote.accounts.forms import CardLoginForm, StudentLoginForm
from classnote.accounts.stepup import require_recent_login
from classnote.base.deadlines import slow_view
from classnote.base.errors import NotFound
from classnote.base.headers import uses_camera
from classnote.base.requests import AuthedRequest
from classnote.base.roles import Role
from classnote.core import security_log
from classnote.tenancy import access
from classnote.tenancy.access import AUTHENTICATED, PUBLIC, audience

TEACHING_STAFF = (Role.TEACHER, Role.SCHOOL_ADMIN, Role.MUNICIPAL_ADMIN)


@audience(PUBLIC)
@sensitive_post_parameters("password")
@never_cache
@require_http_methods(["GET", "POST"])
def student_login(request: HttpRequest) -> HttpResponse:
    # Bound on every POST, even an empty one: `request.POST or None` would show a blank form, no error.
    form = StudentLoginForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        school_code = form.cleaned_data["school_code"].strip().lower()
        key = f"{school_code}/{form.cleaned_data['student_number'].strip().lower()}"
        attempt = throttling.count_attempt(request, "student_login_failed", key)  # before the password check
        if attempt is None:
            security_log.throttled("student")
            form.add_error(None, _("Too many failed attempts. Please wait a few minutes or ask your teacher."))
            return _student_login_page(request, form, 429)
        user = authenticate(
            request,
            school_code=school_code,
            student_number=form.cleaned_data["student_number"],
            password=form.cleaned_data["password"],
        )
        if user is None:
            form.add_error(None, _("The school code, student ID or password is not right."))
            return _student_login_page(request, form, 400)
        attempt.rollback()  # a successful login is not a failure
        login(request, user)
        return redirect("home")
    return _student_login_page(request, form, 400 if form.errors else 200)


def _student_login_page(request: HttpRequest, form: StudentLoginForm, status: int) -> HttpResponse:
    # The same twelve pictures for everyone: the page tells nothing about any account.
    context = {"form": form, "pictures": credentials.PICTURES}
    return render(request, "accounts/student_login.html", context, status=status)


@audience(PUBLIC)
@never_cache
@uses_camera
@require_http_methods(["GET", "POST"])
def card_login(request: HttpRequest) -> HttpResponse:
    """QR login cards carry their secret after '#', which browsers never send in a request: the
    page's script posts it, so the secret stays out of server and proxy logs."""
    if request.method == "POST":
        form = CardLoginForm(request.POST)
        attempt = throttling.count_attempt(request, "card_login_failed")  # before the card is looked up
        if attempt is None:
            security_log.throttled("card")
            return render(
                request,
                "accounts/card_login.html",
                {"error": _("Too many failed attempts. Please wait a few minutes.")},
                status=429,
            )
        user = authenticate(request, login_card_token=form.data.get("token", "")) if form.is_valid() else None
        if user is None:
            return render(
                request,
                "accounts/card_login.html",
                {"error": _("This login card does not work. Ask your teacher for a new one.")},
                status=400,
            )
        attempt.rollback()
        login(request, user)
        return redirect("home")
    return render(request, "accounts/card_login.html")


@audience(PUBLIC)
@require_http_methods(["GET", "POST"])
def password_forgotten(request: HttpRequest) -> HttpResponse:
    """In place of allauth's reset-by-mail form (/accounts/password/reset/), which mailed any
    address typed into it: accounts have no e-mail address. A school administrator (a teacher, for
    their pupils) makes a new password on the person's page (``reset_password`` below). A POST
    gets the same page and sends nothing."""
    return render(request, "accounts/password_forgotten.html")


@audience(AUTHENTICATED)
@require_http_methods(["GET", "POST"])
def email_addresses(request: AuthedRequest) -> HttpResponse:
    """In place of allauth's e-mail page, where any signed-in user could add an address, and have a
    confirmation mailed to it: classnote keeps no e-mail address of an account."""
    raise NotFound


@audience(AUTHENTICATED)
@require_http_methods(["GET"])
def account_settings(request: AuthedRequest) -> HttpResponse:
    return render(request, "accounts/settings.html")


@audience(AUTHENTICATED)
@require_POST
def logout_everywhere(request: AuthedRequest) -> HttpResponse:
    actions.logout_everywhere(request.user)
    logout(request)
    messages.success(request, _("You have been logged out on every device."))
    return redirect("account_login")


@slow_view
@audience(*TEACHING_STAFF)
@require_http_methods(["GET", "POST"])
def login_cards(request: AuthedRequest, class_id: int) -> HttpResponse:
    """GET asks for confirmation; POST issues new cards and shows them once, ready to print."""
    school_class = access.get_class_for(request.user, class_id)
    if request.method == "GET":
        return render(request, "accounts/login_cards_confirm.html", {"school_class": school_class})
    require_recent_login(request)  # new credentials for every pupil of the class
    if request.POST.get("new_passwords"):
        issued = actions.issue_login_cards_with_passwords(request.user, school_class)
    else:
        issued = [(student, token, "") for student, token in actions.issue_login_cards(request.user, school_class)]
    base = request.build_absolute_uri(reverse("card_login"))
    cards = []
    for student, token, password in issued:
        # A viewBox and no fixed size (omitsize), so that CSS scales the whole code instead of
        # clipping it; the quiet zone of four modules that the QR standard asks for (border=4).
        # segno renders only our own URL as SVG paths: no user text enters the markup.
        svg = segno.make(f"{base}#{token}", error="m").svg_inline(border=4, omitsize=True, svgclass="qr-code")
        cards.append({"student": student, "qr_svg": mark_safe(svg), "password": password})  # noqa: S308 - segno SVG of our own URL (above)
    response = render(request, "accounts/login_cards.html", {"school_class": school_class, "cards": cards})
    response["Cache-Control"] = "no-store"
    return response


@audience(*TEACHING_STAFF)
@require_POST
def revoke_login_card(request: AuthedRequest, user_id: int) -> HttpResponse:
    target = actions.revoke_login_cards(request.user, user_id)
    messages.success(request, _("The login card of %(name)s no longer works.") % {"name": target.display_name})
    return redirect("user_detail", user_id=target.pk)


@audience(*TEACHING_STAFF)
@require_POST
def reset_password(request: AuthedRequest, user_id: int) -> HttpResponse:
    account_access.get_user_for(request.user, user_id, manage=True)
    require_recent_login(request)
    target, password = actions.reset_password(request.user, user_id)
    response = render(request, "accounts/new_password.html", {"target": target, "password": password})
    response["Cache-Control"] = "no-store"
    return response
