"""Config C: one ASGI process serving both worlds.

/events/...  -> Django's ASGI handler (async SSE views, on the event loop)
everything   -> Django's WSGI handler, run in a thread pool by a2wsgi
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchproj.settings")

from a2wsgi import WSGIMiddleware  # noqa: E402
from django.core.asgi import get_asgi_application  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402

ASYNC_PREFIXES = ("/events/",)
WSGI_THREADS = int(os.environ.get("BENCH_WSGI_THREADS", "10"))  # a2wsgi default is 10

django_asgi = get_asgi_application()
django_wsgi = WSGIMiddleware(get_wsgi_application(), workers=WSGI_THREADS)


def _as_coroutine(receive):
    """a2wsgi reads request bodies with run_coroutine_threadsafe(receive()),
    which requires a real coroutine. Granian's receive() returns a Rust
    awaitable, so without this wrapper every request *with a body* (POST,
    PUT...) fails under granian with "TypeError: A coroutine object is
    required". Uvicorn's receive is a coroutine function and works either way.
    """

    async def wrapped():
        return await receive()

    return wrapped


async def application(scope, receive, send):
    kind = scope["type"]
    if kind == "http":
        if scope["path"].startswith(ASYNC_PREFIXES):
            await django_asgi(scope, receive, send)
        else:
            await django_wsgi(scope, _as_coroutine(receive), send)
    elif kind == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    else:  # websocket: not served here
        await send({"type": "websocket.close", "code": 1000})
