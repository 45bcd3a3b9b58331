"""The web's one handler of refusals (classnote.base.errors.ActionError), so views do not catch them.

* ``NotFound`` is the 404 page and ``Refused`` the 403 page, as if the view had raised Http404 or
  PermissionDenied (the same pages, the same security log entry).
* Any other refusal of a JSON request (a JSON body, or a view marked ``@answers_json`` like the card
  editor's autosave) is ``{"detail": ...}`` with the refusal's status.
* Any other refusal of a page is a message on the page the form was on: the same-site page named by
  the Referer (the browser sends it for same-origin requests: SECURE_REFERRER_POLICY), else the page
  the view names with :func:`back_to`, else home. Nothing was written: the action refused before its
  transaction or rolled it back.

A view still catches an ActionError where it shows the message beside the form field it concerns
(a taken school code, a roster file that cannot be read).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme

from classnote.base.errors import ActionError

V = TypeVar("V", bound=Callable[..., Any])
MAX_BACK_LENGTH = 500


def back_to(url_name: str, *kwarg_names: str) -> Callable[[V], V]:
    """Name the page a refusal of this view returns to when the request names none (no Referer):
    ``@back_to("lesson_detail", "lesson_id")`` reverses it with the view's own URL arguments."""

    def decorate(view: V) -> V:
        view.classnote_back = (url_name, kwarg_names)  # type: ignore[attr-defined]
        return view

    return decorate


def answers_json(view: V) -> V:
    """Mark a view whose client reads JSON (the card editor's autosave): its refusals are JSON too."""
    view.classnote_json = True  # type: ignore[attr-defined]
    return view


def safe_path(request: HttpRequest, target: str) -> str | None:
    """TARGET if it is a path of this site (not another host, not a scheme), else None."""
    ok = (
        target.startswith("/")
        and not target.startswith("//")
        and len(target) <= MAX_BACK_LENGTH
        and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
    )
    return target if ok else None


def _referer_path(request: HttpRequest) -> str | None:
    referer = request.headers.get("Referer", "")
    if not referer or not url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return None
    scheme_and_host = f"{request.scheme}://{request.get_host()}"
    if not referer.startswith(scheme_and_host + "/"):
        return None
    return safe_path(request, referer[len(scheme_and_host) :])


def _declared_back(request: HttpRequest) -> str | None:
    match = request.resolver_match
    declared = getattr(match.func, "classnote_back", None) if match else None
    if match is None or declared is None:
        return None
    url_name, kwarg_names = declared
    try:
        return reverse(url_name, kwargs={name: match.kwargs[name] for name in kwarg_names})
    except (KeyError, NoReverseMatch):
        return None


def _wants_json(request: HttpRequest) -> bool:
    match = request.resolver_match
    return bool(match and getattr(match.func, "classnote_json", False)) or request.content_type == "application/json"


class RefusalMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, ActionError):
            return None
        message = str(exception)
        if exception.status == 404:
            raise Http404 from exception
        if exception.status == 403:
            refusal = PermissionDenied(message)
            refusal.message = message  # type: ignore[attr-defined]  # shown on the 403 page
            raise refusal from exception
        if _wants_json(request):
            return JsonResponse({"detail": message}, status=exception.status)
        messages.error(request, message)
        return HttpResponseRedirect(_referer_path(request) or _declared_back(request) or reverse("home"))
