"""The public status page (issue 15): /status/, its Atom feed and summary.json. Anonymous, no
session, nothing personal; cacheable for a short time. The data is the Summary
(classnote.status.queries.summary) rendered by classnote.status.public, the same as the static
snapshot's. While the database is down, /status/ shows the last published snapshot and its age.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.templatetags.static import static
from django.urls import NoReverseMatch, reverse
from django.utils.translation import get_language, override
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from classnote.base import outages
from classnote.status import public, queries, snapshot
from classnote.status import summary as s
from classnote.tenancy.access import PUBLIC, audience

logger = logging.getLogger(__name__)

MAX_AGE = 30
SUPPORTED = {code for code, _name in settings.LANGUAGES}


def _language(request: HttpRequest) -> str:
    """?lang= when it names one of ours (links between the languages, feed readers), else the
    language the middleware chose (cookie, Accept-Language)."""
    asked = request.GET.get("lang", "").lower().replace("_", "-")
    return asked if asked in SUPPORTED else (get_language() or settings.LANGUAGE_CODE)


def _cacheable(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Public and cacheable for MAX_AGE, for anonymous visitors; a signed-in user's answers keep the
    site's rule for every signed-in page (private, no-store: core.middleware)."""
    if not request.user.is_authenticated:
        response["Cache-Control"] = f"public, max-age={MAX_AGE}"
    return response


def page_url(request: HttpRequest) -> str:
    return settings.STATUS_PUBLIC_URL or request.build_absolute_uri(reverse("status_page"))


def subscribe_url() -> str:
    try:
        return reverse("status_subscribe")
    except NoReverseMatch:  # the subscriptions' pages (i15-incidents) not mounted yet
        return "/status/subscribe/"


def _summary() -> s.Summary | None:
    """The current Summary, or the last snapshot's while the database is down (None: neither)."""
    try:
        return queries.shared_summary()
    except Exception as error:
        outage = outages.classify(error)
        if outage is None or outage.dependency != outages.DATABASE:
            raise
        logger.warning("status page: database down, showing the last snapshot (%s)", outages.describe(error))
        return snapshot.last()


@require_safe
@audience(PUBLIC)
def page(request: HttpRequest) -> HttpResponse:
    language = _language(request)
    summary = _summary()
    if summary is None:
        with override(language):
            response = HttpResponse(
                _no_snapshot_text(), status=503, content_type="text/plain; charset=utf-8", headers={"Retry-After": "30"}
            )
        return response
    here = reverse("status_page")
    links = {
        "feed": f"{reverse('status_feed')}?lang={language}",
        "json": reverse("status_summary_json"),
        "subscribe": subscribe_url(),
        "languages": {code: f"{here}?lang={code}" for code in SUPPORTED},
    }
    assets = {
        "css": static("classnote/status.css"),
        "js": static("classnote/status.js"),
        "icon": static("classnote/favicon.svg"),
    }
    html = public.render_page(summary, language, assets, links)
    response = HttpResponse(html, status=200 if summary.snapshot_age_seconds is None else 503)
    response["Content-Language"] = language
    if summary.snapshot_age_seconds is not None:
        response["Retry-After"] = "30"
        response["Cache-Control"] = "no-store"
        return response
    return _cacheable(request, response)


def _no_snapshot_text() -> str:
    return _("The status page is unavailable right now, and no snapshot of it has been published yet.")


@require_safe
@audience(PUBLIC)
def feed(request: HttpRequest) -> HttpResponse:
    language = _language(request)
    here = page_url(request)
    feed_url = request.build_absolute_uri(reverse("status_feed"))
    body = public.as_atom(queries.shared_summary(), here, feed_url, language)
    response = HttpResponse(body, content_type="application/atom+xml; charset=utf-8")
    response["Content-Language"] = language
    return _cacheable(request, response)


@require_safe
@audience(PUBLIC)
def summary_json(request: HttpRequest) -> HttpResponse:
    """summary.json (described in the API's OpenAPI document as GET /api/status/summary.json, the
    same document)."""
    with override(_language(request)):
        data = public.as_json(queries.shared_summary(), page_url(request))
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False})
    response["Access-Control-Allow-Origin"] = "*"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return _cacheable(request, response)
