"""The ASGI entry point that `classnote serve` runs.

Request/response traffic goes to Django's WSGI handler on a thread pool (a2wsgi):
on these machines that is several times cheaper than Django's ASGI handler, which
hops threads for every sync part of the request cycle (docs/architecture.md has
the measurements). Only long-lived streams (paths under STREAM_PREFIXES) go to
Django's ASGI handler, where async views hold thousands of idle connections.
"""

from __future__ import annotations

import os
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "classnote.settings")

from a2wsgi import WSGIMiddleware  # noqa: E402
from django.core.asgi import get_asgi_application  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402

from classnote import env  # noqa: E402

STREAM_PREFIXES = ("/events/",)

django_asgi = get_asgi_application()
django_wsgi = WSGIMiddleware(
    get_wsgi_application(),  # type: ignore[arg-type]
    workers=env.integer("WSGI_THREADS", 4, minimum=1, maximum=256),
    send_queue_size=16,
)


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] == "http" and scope["path"].startswith(STREAM_PREFIXES):
        await django_asgi(scope, receive, send)
        return
    await django_wsgi(scope, receive, send)  # type: ignore[arg-type]
