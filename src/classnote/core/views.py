from __future__ import annotations

import logging
import re
import sys

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from classnote.accounts import actions as account_actions
from classnote.accounts.forms import LanguageForm
from classnote.base import outages
from classnote.base.offline import keep_offline
from classnote.base.requests import AuthedRequest, wants_json
from classnote.base.roles import Role
from classnote.core import health, metrics, security_log, unavailable
from classnote.lessons import queries as lesson_queries
from classnote.tenancy import access
from classnote.tenancy.access import AUTHENTICATED, PUBLIC, audience

logger = logging.getLogger(__name__)

_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


@audience(PUBLIC)
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    return render(request, "core/index.html")


@audience(PUBLIC)
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is alive."""
    return JsonResponse({"status": "ok"})


@audience(PUBLIC)
@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Each dependency answers, within READY_CHECK_TIMEOUT (classnote.core.health). Served from the
    event loop by `classnote serve`; this view answers the same for other servers and the tests."""
    ready, answer = health.readiness()
    return JsonResponse(answer, status=200 if ready else 503)


@audience(PUBLIC)
@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics, for the bearer of METRICS_TOKEN (classnote.core.metrics); no database, no
    session. Served from the event loop by `classnote serve`; this view answers the same elsewhere."""
    status = metrics.check(request.headers.get("Authorization", ""))
    if status == metrics.UNKNOWN:
        raise Http404
    if status != metrics.OK:
        language = unavailable.language_of({}, request.headers.get("Accept-Language", ""))
        refused = HttpResponse(metrics.refusal(status, language), status=status, content_type="application/json")
        if status == metrics.NO_TOKEN:
            refused["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return refused
    return HttpResponse(metrics.render(), content_type=metrics.CONTENT_TYPE)


@audience(PUBLIC)
@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Language for this browser; for a signed-in user it is also saved as their own choice."""
    from django.conf import settings

    form = LanguageForm(request.POST)
    target = request.POST.get("next", "")
    # Only a path of this site: redirect() would take anything else for a view name (a 500), and
    # control characters (NUL, newlines) cannot go into a Location header.
    if (
        not target.startswith("/")
        or len(target) > 500
        or _CONTROL_CHARACTERS.search(target)
        or not url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        target = "/"
    response = HttpResponseRedirect(target)
    if form.is_valid():
        language = form.cleaned_data["language"]
        if request.user.is_authenticated:
            account_actions.set_language(request.user, language)
        if language:
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                language,
                max_age=365 * 24 * 3600,
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        else:
            response.delete_cookie(settings.LANGUAGE_COOKIE_NAME)
    return response


@audience(AUTHENTICATED)
@require_GET
@keep_offline
def home(request: AuthedRequest) -> HttpResponse:

    user = request.user
    if user.role == Role.PRIVACY_OFFICER:
        return redirect("privacy_officer")
    context = {
        "classes": access.readable_classes(user).filter(archived=False),
        "schools": access.manageable_schools(user),
        "municipalities": access.readable_municipalities(user),
        "prompts": lesson_queries.lesson_prompts(user),
    }
    return render(request, "core/home.html", context)


# --- Error pages: never internals ----------------------------------------------------------------


def _api_error(request: HttpRequest, status: int) -> JsonResponse | None:
    """Clients of the JSON API get their errors as JSON, also for URLs the API does not know."""
    if not request.path.startswith("/api/"):
        return None
    details = {
        400: _("The request is not valid."),
        403: _("You do not have access to this."),
        404: _("Not found."),
        500: _("Something went wrong"),
        503: _("The server is busy. Please try again shortly."),
    }
    return JsonResponse({"detail": details[status]}, status=status)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _api_error(request, 400) or render(request, "errors/error.html", {"status": 400}, status=400)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    security_log.access_refused(request, 403)
    # A refusal that explains itself (classnote.privacy.purposes.PurposeRefused) shows its message.
    message = str(getattr(exception, "message", "") or "")
    context = {"status": 403, "message": message}
    return _api_error(request, 403) or render(request, "errors/error.html", context, status=403)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _api_error(request, 404) or render(request, "errors/error.html", {"status": 404}, status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    error = sys.exc_info()[1]
    outage = outages.classify(error)
    if outage is not None:
        return unavailable_response(request, outage)
    # Rendered without the request context: the failure may be the database itself.
    from django.template import loader

    page = loader.get_template("errors/500.html").render()
    return _api_error(request, 500) or HttpResponse(page, status=500)


def unavailable_response(request: HttpRequest, outage: outages.Outage) -> HttpResponse:
    """503 (507 for a full disk) with Retry-After, in the language of the page the user was on."""
    language = getattr(request, "LANGUAGE_CODE", "") or unavailable.language_of(
        request.COOKIES, request.headers.get("Accept-Language", "")
    )
    return unavailable.response(outage, language, wants_json(request))


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return _api_error(request, 403) or render(request, "errors/error.html", {"status": 403, "csrf": True}, status=403)
