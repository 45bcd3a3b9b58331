"""Cross-cutting middleware: request ids, security headers, per-user language."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers

from classnote.base import deadlines
from classnote.core.logging import request_id_var

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    """Tags every request with an id (from a trusted proxy's X-Request-ID, else a new one)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        trusted = settings.ALLAUTH_TRUSTED_PROXY_COUNT > 0 and _VALID_REQUEST_ID.match(incoming)
        request_id = incoming if trusted else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = request_id
        return response


class DeadlineMiddleware:
    """A view marked ``@slow_view`` (classnote.base.deadlines) gets SLOW_REQUEST_TIMEOUT from when
    it starts instead of the request's REQUEST_TIMEOUT."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view: Callable[..., HttpResponse], *args: object) -> None:
        if getattr(view, "classnote_slow", False):
            deadlines.extend(settings.SLOW_REQUEST_TIMEOUT)


class SecurityHeadersMiddleware:
    """Headers Django does not set itself."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        # Django's XFrameOptionsMiddleware sits deep in the stack: responses made before it
        # (CommonMiddleware's slash redirects, for one) would go out without the header.
        response.setdefault("X-Frame-Options", settings.X_FRAME_OPTIONS)
        response.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            # Pages of signed-in users hold personal data: keep them out of shared caches and
            # out of the back button of a shared tablet after logout. (The offline copies the
            # service worker keeps are another store, of marked pages only: base/offline.py.)
            response.setdefault("Cache-Control", "private, no-store")
        if getattr(request, "classnote_signed_out", False):
            # A logout (accounts.sessions): the browser's HTTP cache of this site goes too. Not
            # "storage": that would also delete drafts not yet sent (card.js) and the worker.
            response["Clear-Site-Data"] = '"cache"'
        return response


class UserLanguageMiddleware:
    """Language: the user's choice, else the tenant's default, else the browser's (Accept-Language)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = self.language_for(request)
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        patch_vary_headers(response, ("Accept-Language", "Cookie"))
        translation.deactivate()
        return response

    @staticmethod
    def language_for(request: HttpRequest) -> str:
        supported = {code for code, _name in settings.LANGUAGES}
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            if user.language in supported:
                return str(user.language)
            tenant_language = user.tenant_language()
            if tenant_language in supported:
                return tenant_language
        cookie = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if cookie in supported:
            return str(cookie)
        return translation.get_language_from_request(request, check_path=False)
