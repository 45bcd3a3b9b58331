"""Pages a signed-in user may find again offline (the service worker, core/static/classnote/sw.js).

The worker keeps a copy of a page only when the server marks its answer with OFFLINE_HEADER: the
lesson, the user's own cards, the home page. Everything else (account, privacy, audit, admin and
export pages, the API, event streams, files) is never marked, so it never reaches the worker's page
cache, whatever the worker's own list of excluded paths says. The copies are deleted at logout and
at any login (docs/architecture.md, "Offline shell").
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse

OFFLINE_HEADER = "X-Classnote-Offline"
KEEP = "keep"


def keep(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Mark a page (a 200 HTML answer to a signed-in user) as one the worker may keep."""
    user = getattr(request, "user", None)
    if (
        user is not None
        and user.is_authenticated
        and response.status_code == 200
        and response.get("Content-Type", "").startswith("text/html")
    ):
        response[OFFLINE_HEADER] = KEEP
    return response


def keep_offline(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Decorator form of keep() for views whose every page may be kept."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return keep(request, view(request, *args, **kwargs))

    return wrapper
