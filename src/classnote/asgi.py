"""The ASGI entry point that `classnote serve` runs.

Request/response traffic goes to Django's WSGI handler on a thread pool
(classnote.core.wsgi_bridge, on a2wsgi): on these machines that is several times
cheaper than Django's ASGI handler, which hops threads for every sync part of the
request cycle (docs/architecture.md has the measurements). Only long-lived streams
(paths under STREAM_PREFIXES) go to Django's ASGI handler (StreamHandler), where async
views hold thousands of idle connections without a thread each.
"""

from __future__ import annotations

import gc
import os
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "classnote.settings")

import django  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.handlers.asgi import ASGIHandler  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.urls import get_resolver  # noqa: E402

from classnote import env  # noqa: E402
from classnote.core import health, metrics  # noqa: E402
from classnote.core.wsgi_bridge import BufferedWSGI  # noqa: E402

STREAM_PREFIXES = ("/events/",)


class StreamHandler(ASGIHandler):
    """Django's ASGI handler, the full middleware stack included, minus the thread per request.

    Django runs each ASGI request in its own ThreadSensitiveContext: the request's sync parts
    (the sync middleware, session and user loading, the view's `_db` calls) get a thread of their
    own, kept until the response ends. For an event stream that is an idle OS thread held for
    hours (~100 KiB and one more thread per open screen). Here the sync parts of all streams run
    on asgiref's one shared thread instead, one after the other: a stream does sync work only at
    connect, to fill a gap and at its periodic session re-check, and nothing while it waits.
    """

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Streams are HTTP only, not {scope['type']}.")
        await self.handle(scope, receive, send)


django.setup(set_prefix=False)
django_asgi = StreamHandler()
django_wsgi = BufferedWSGI(
    get_wsgi_application(),
    workers=env.integer("WSGI_THREADS", 4, minimum=1, maximum=256),
    timeout=settings.REQUEST_TIMEOUT,
    queue_max=settings.REQUEST_QUEUE_MAX,
)

# What is loaded by now (Django, the apps, every view through the URL configuration) lives as long
# as the process. Out of the garbage collector's sight, a full collection looks only at what the
# requests made since: 100–340 ms per full collection before, which were the slowest 1 % of pages
# while drawings arrived (docs/performance.md, *Drawing renders*).
get_resolver().url_patterns  # noqa: B018 - imports every view now
gc.collect()
gc.freeze()


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] == "http" and scope["path"] == "/readyz" and scope["method"] in ("GET", "HEAD"):
        await health.asgi_readyz(scope, receive, send)  # off the request threads (issue 13)
        return
    metrics_scrape = scope["type"] == "http" and scope["path"] == "/metrics" and scope["method"] in ("GET", "HEAD")
    if metrics_scrape and settings.METRICS_TOKEN:
        await metrics.asgi_metrics(scope, send)  # no thread, session or database (issue 15)
        return
    if scope["type"] == "http" and scope["path"].startswith(STREAM_PREFIXES):
        await django_asgi(scope, receive, send)
        return
    await django_wsgi(scope, receive, send)
