"""Writes per person: at most WRITE_RATE_PER_MINUTE changes (POST, PUT, PATCH, DELETE) by one signed-in
user in a minute, pages and API alike; beyond it 429 with Retry-After until the minute is over.

Normal use stays far below it (a card's autosave is one write every few seconds while typing, a lesson
a few dozen); a script that floods cards, uploads, submissions or exports from one account is stopped
without affecting anyone else. Counted in the cache: per process on the embedded default, in Redis
(shared, atomic INCR) in scale-out — in the database while Redis is down (classnote.core.cache).
Login, logout and the public forms have their own limits (allauth's and the complaint form's)."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from classnote.core import security_log

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
EXEMPT = ("/accounts/logout/",)  # leaving is always possible


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get("Content-Type", "")


class Throttled(Exception):
    """Too many writes: wait RETRY_AFTER seconds (the API answers 429 with Retry-After)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after

    @property
    def message(self) -> str:
        return _("Too many changes in a short time. Please wait a minute and try again.")


def spend(request: HttpRequest, user_id: int) -> None:
    """Count one write of the user; Throttled if it is over this minute's limit."""
    limit = settings.WRITE_RATE_PER_MINUTE
    if not limit or request.method not in WRITES or request.path.startswith(EXEMPT):
        return
    now = time.time()
    key = f"rate:writes:{user_id}:{int(now // 60)}"
    if cache.add(key, 1, 90):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, 90)
            count = 1
    if count > limit:
        if count_logged(user_id):
            security_log.event("write.throttled", "writes refused: too many in a minute", user_id=user_id)
        raise Throttled(int(60 - now % 60) + 1)


class WriteRateMiddleware:
    """The limit for browser sessions (API tokens are counted when the API authenticates them)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            try:
                spend(request, user.pk)
            except Throttled as refusal:
                return self.refuse(request, refusal)
        return self.get_response(request)

    @staticmethod
    def refuse(request: HttpRequest, refusal: Throttled) -> HttpResponse:
        response: HttpResponse
        if _wants_json(request):
            response = JsonResponse({"detail": refusal.message}, status=429)
        else:
            context = {"status": 429, "message": refusal.message}
            response = render(request, "errors/error.html", context, status=429)
        response["Retry-After"] = str(refusal.retry_after)
        return response


def count_logged(user_id: int) -> bool:
    """Log the first refusal of a user per minute only (a flood must not flood the log)."""
    return bool(cache.add(f"rate:writes:logged:{user_id}:{int(time.time() // 60)}", 1, 90))
