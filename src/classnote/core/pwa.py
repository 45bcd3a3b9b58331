"""The offline shell (a Progressive Web App): the web app manifest, the service worker and the
offline page (docs/architecture.md, "Offline shell").

The worker's own code is core/sw.js; this module serves it from the root of the site (so its scope is
every page) with its settings in front: the files to keep, the offline page, and a version made from
the contents of those files, so that a deploy that changes any of them installs a new worker, which
replaces the old caches.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from classnote.base.offline import OFFLINE_HEADER
from classnote.tenancy.access import PUBLIC, audience

WORKER_SOURCE = Path(__file__).resolve().parent / "sw.js"
# Colours of app.css (--accent, --bg).
THEME_COLOR = "#1a66dc"
BACKGROUND_COLOR = "#f5f7fb"
# What every page needs, kept at install (cache first afterwards). Pictures and files of people
# are never among them.
PRECACHE = (
    "classnote/app.css",
    "classnote/app.js",
    "classnote/offline.js",
    "classnote/lesson.js",
    "classnote/card.js",
    "classnote/drawing.js",
    "classnote/drawing.css",
    "classnote/prompts.js",
    "classnote/present.js",
    "classnote/favicon.svg",
    "classnote/icons/icon-192.png",
)
ICONS = (
    ("classnote/icons/icon-192.png", "192x192", "any"),
    ("classnote/icons/icon-512.png", "512x512", "any"),
    ("classnote/icons/maskable-192.png", "192x192", "maskable"),
    ("classnote/icons/maskable-512.png", "512x512", "maskable"),
)


def _files() -> list[Path]:
    found = [finders.find(name) for name in PRECACHE]
    return [WORKER_SOURCE, *(Path(str(path)) for path in found if path)]


@cache
def _digest(stamp: tuple[tuple[str, int, int], ...]) -> str:
    h = hashlib.sha256()
    for name, _mtime, _size in stamp:
        h.update(name.encode())
        h.update(Path(name).read_bytes())
    return h.hexdigest()[:16]


def worker_version() -> str:
    """Changes whenever the worker or a file it keeps changes (read again only when one was touched)."""
    stamp = tuple((str(path), path.stat().st_mtime_ns, path.stat().st_size) for path in _files())
    urls = "|".join(static(name) for name in PRECACHE)  # hashed names in production
    return hashlib.sha256(f"{_digest(stamp)}|{urls}".encode()).hexdigest()[:16]


@audience(PUBLIC)
@never_cache
@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    config = {
        "version": worker_version(),
        "precache": [static(name) for name in PRECACHE],
        "offline": reverse("offline"),
        "staticUrl": settings.STATIC_URL,
        "keepHeader": OFFLINE_HEADER,
        "keepSeconds": settings.SESSION_COOKIE_AGE,
    }
    prelude = f"const CLASSNOTE = {json.dumps(config)};\n"
    body = prelude + WORKER_SOURCE.read_text(encoding="utf-8")
    return HttpResponse(body, content_type="text/javascript; charset=utf-8")


@audience(PUBLIC)
@never_cache
@require_GET
def manifest(request: HttpRequest) -> JsonResponse:
    """The web app manifest, in the language of the request (the page links it with credentials)."""
    site = settings.CLASSNOTE_SITE_NAME
    data = {
        "id": reverse("home"),
        "name": _("%(site)s — lessons and cards") % {"site": site},
        "short_name": site,
        "description": _("Cards, lessons and portfolios for the class, also on a tablet without a connection."),
        "lang": translation.get_language(),
        "dir": "rtl" if translation.get_language_bidi() else "ltr",
        "start_url": reverse("home"),
        "scope": "/",
        "display": "standalone",
        "theme_color": THEME_COLOR,
        "background_color": BACKGROUND_COLOR,
        "icons": [
            {"src": static(name), "sizes": sizes, "type": "image/png", "purpose": purpose}
            for name, sizes, purpose in ICONS
        ],
    }
    return JsonResponse(data, content_type="application/manifest+json", json_dumps_params={"ensure_ascii": False})


@audience(PUBLIC)
@never_cache
@require_GET
def offline(request: HttpRequest) -> HttpResponse:
    """Shown by the worker for a page it never kept. Kept at install, beside the static files, so it
    shows nobody's name: rendered as for a visitor who is not signed in."""
    request.user = AnonymousUser()
    return render(request, "core/offline.html")
