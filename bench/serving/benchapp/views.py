import asyncio
import json
import os
import time

from asgiref.sync import sync_to_async
from django.db import connections
from django.http import JsonResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt

from .bus import bus
from .models import Item


def minimal(request):
    """Minimal unauthenticated JSON view (still runs the full middleware stack)."""
    return JsonResponse({"ok": True})


def authed(request):
    """'Bare authenticated view': session cookie -> DB session -> user, plus one PK read."""
    if not request.user.is_authenticated:
        return JsonResponse({"error": "unauthenticated"}, status=401)
    item = Item.objects.get(pk=1)
    return JsonResponse({"user": request.user.username, "item": {"id": item.pk, "title": item.title}})


@csrf_exempt
def publish(request):
    """Sync view that publishes to the in-process bus (runs in a WSGI thread in config C)."""
    if request.method != "POST":
        return JsonResponse({"error": "POST only"}, status=405)
    if not request.user.is_authenticated:
        return JsonResponse({"error": "unauthenticated"}, status=401)
    try:
        message = json.loads(request.body or b"{}")
    except ValueError:
        return JsonResponse({"error": "bad json"}, status=400)
    receivers = bus.publish(message)
    return JsonResponse({"receivers": receivers})


RELEASE_THREAD = os.environ.get("BENCH_SSE_RELEASE_THREAD") == "1"


def _release_request_thread():
    """Let go of this request's dedicated sync thread (asgiref internals!).

    Django's ASGIHandler runs each request in an asgiref ThreadSensitiveContext;
    the first sync_to_async hop (every MiddlewareMixin middleware makes some)
    creates a one-thread executor for that context, which lives as long as the
    request. For an SSE stream that means one idle OS thread per open stream.
    Once middleware is done and the body is streaming, nothing in this
    stream needs it: shut it down. A later hop (response.close, signals) just
    creates a fresh executor that the context's exit shuts down.
    """
    from asgiref.sync import SyncToAsync

    ctx = SyncToAsync.thread_sensitive_context.get(None)
    if ctx is not None:
        executor = SyncToAsync.context_to_thread_executor.pop(ctx, None)
        if executor is not None:
            executor.shutdown(wait=False)


async def events(request):
    """Async SSE view: StreamingHttpResponse over an async generator.

    Emits a `tick` event every `interval` seconds when idle and a `bus` event
    for every message published on the in-process bus.
    """
    user = await request.auser()
    if not user.is_authenticated:
        return JsonResponse({"error": "unauthenticated"}, status=401)
    # A stream lives for minutes/hours: do not pin a DB connection for it.
    await sync_to_async(connections.close_all)()
    interval = float(request.GET.get("interval", "5"))
    limit = int(request.GET.get("n", "0"))  # 0 = until the client disconnects

    async def stream():
        sub = bus.subscribe()
        _, queue = sub
        sent = 0
        if RELEASE_THREAD:
            _release_request_thread()
        try:
            yield "retry: 3000\n: connected\n\n"
            while True:
                try:
                    message = await asyncio.wait_for(queue.get(), timeout=interval)
                    yield f"event: bus\ndata: {json.dumps(message)}\n\n"
                except TimeoutError:
                    yield f"event: tick\ndata: {json.dumps({'t': time.time()})}\n\n"
                sent += 1
                if limit and sent >= limit:
                    return
        finally:
            bus.unsubscribe(sub)

    response = StreamingHttpResponse(stream(), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response
