"""The answer when a dependency is out (classnote.base.outages): 503 with Retry-After, or 507 for a
full disk, as a translated page or as JSON for the API and for scripts that read JSON.

Rendered from a template of its own without the request context: the database, the session and
the user may be what failed. The request thread pool's own refusal (a full queue, a request that
waited past its deadline, classnote.core.wsgi_bridge) uses the same page.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation.trans_real import parse_accept_lang_header

from classnote.base.outages import CACHE, DATABASE, DISK, DISK_FULL, SERVER, STORAGE, Outage


def message(outage: Outage) -> str:
    if outage.reason == DISK_FULL:
        return _(
            "The server has no room left to save this, so nothing was saved. "
            "Your earlier work is safe. Please tell your school's administrator."
        )
    if outage.dependency == STORAGE:
        return _(
            "Files are temporarily unavailable. Nothing is lost, and the lesson can go on; "
            "please try this file again in a few minutes."
        )
    if outage.dependency in (DATABASE, CACHE, DISK, SERVER):
        return _(
            "The service is temporarily unavailable. If you were saving, it may not have been saved: "
            "please try again in a moment (nothing is saved twice)."
        )
    return _("The service is temporarily unavailable. Please try again in a moment.")


def language_of(cookies: Mapping[str, str], accept_language: str) -> str:
    """The language for a page made without the user: the language cookie, else the browser's."""
    supported = {code for code, _name in settings.LANGUAGES}
    for name in (settings.LANGUAGE_COOKIE_NAME, "classnote_language", "__Host-classnote_language"):
        if cookies.get(name) in supported:
            return str(cookies[name])
    for code, _quality in parse_accept_lang_header(accept_language or ""):
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE


@functools.lru_cache(maxsize=128)
def body(outage: Outage, language: str, as_json: bool) -> tuple[bytes, str]:
    """The response body and its content type (usable outside a request: the WSGI bridge). Made
    once per outage, language and form: under overload the same refusal goes out many times."""
    with translation.override(language):
        text = message(outage)
        if as_json:
            response = JsonResponse({"detail": text, "unavailable": outage.dependency, "reason": outage.reason})
            return response.content, response["Content-Type"]
        page = loader.render_to_string(
            "errors/unavailable.html", {"message": text, "status": outage.status, "LANGUAGE_CODE": language}
        )
    return page.encode(), "text/html; charset=utf-8"


def response(outage: Outage, language: str, as_json: bool) -> HttpResponse:
    content, content_type = body(outage, language, as_json)
    answer = HttpResponse(content, status=outage.status, content_type=content_type)
    answer["Retry-After"] = str(outage.retry_after)
    answer["Cache-Control"] = "no-store"
    answer["Content-Language"] = language
    return answer
