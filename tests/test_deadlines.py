"""The request deadline (issue 13): classnote.core.wsgi_bridge answers 503 for a request that
would wait past its deadline or finds the queue full, without running it; a slow-by-design view
gets SLOW_REQUEST_TIMEOUT; the SQLite write queue waits no longer than its limit."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Iterable
from typing import Any

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import override_settings

from classnote.base import deadlines
from classnote.core.middleware import DeadlineMiddleware
from classnote.core.sqlite import base as sqlite_base
from classnote.core.wsgi_bridge import BufferedWSGI


class App:
    """A WSGI app whose requests block until released; records what ran and its deadline."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.ran: list[str] = []
        self.remaining: list[float | None] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        self.ran.append(environ["PATH_INFO"])
        self.remaining.append(deadlines.remaining())
        self.release.wait(10)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"done"]


def scope(path: str, **headers: str) -> dict[str, Any]:
    return {
        "type": "http",
        "method": "GET",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "scheme": "http",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 5000),
        "http_version": "1.1",
        "headers": [(name.replace("_", "-").lower().encode(), value.encode()) for name, value in headers.items()],
    }


async def call(bridge: BufferedWSGI, request_scope: dict[str, Any]) -> tuple[int, dict[bytes, bytes], bytes]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await bridge(request_scope, receive, send)
    return sent[0]["status"], dict(sent[0]["headers"]), b"".join(m.get("body", b"") for m in sent[1:])


def test_a_request_still_queued_at_its_deadline_is_refused_without_running() -> None:
    app = App()
    bridge = BufferedWSGI(app, workers=1, timeout=1.0)

    async def scenario() -> list[tuple[int, dict[bytes, bytes], bytes]]:
        busy = asyncio.ensure_future(call(bridge, scope("/busy/")))
        await asyncio.sleep(0.1)
        queued = await call(bridge, scope("/queued/", accept_language="ja"))
        app.release.set()
        return [await busy, queued]

    (first, _, _), (status, headers, body) = asyncio.run(scenario())
    assert first == 200
    assert status == 503 and headers[b"retry-after"]
    assert "一時的" in body.decode()  # translated: the language of the browser
    assert app.ran == ["/busy/"]  # the refused one never ran
    assert app.remaining[0] is not None and app.remaining[0] <= 1.0  # the deadline is counted from arrival


def test_a_full_queue_refuses_at_once_and_the_api_gets_json() -> None:
    app = App()
    bridge = BufferedWSGI(app, workers=1, timeout=5.0, queue_max=1)

    async def scenario() -> tuple[int, dict[bytes, bytes], bytes]:
        running = asyncio.ensure_future(call(bridge, scope("/running/")))
        await asyncio.sleep(0.1)
        waiting = asyncio.ensure_future(call(bridge, scope("/waiting/")))
        await asyncio.sleep(0.1)
        refused = await call(bridge, scope("/api/v1/lessons"))
        app.release.set()
        await asyncio.gather(running, waiting)
        return refused

    status, headers, body = asyncio.run(scenario())
    assert status == 503 and headers[b"content-type"].startswith(b"application/json")
    assert b'"unavailable": "server"' in body
    assert app.ran == ["/running/", "/waiting/"]


def test_a_slow_view_gets_its_own_deadline_from_its_start(settings: Any) -> None:
    settings.SLOW_REQUEST_TIMEOUT = 70

    def slow(request: HttpRequest) -> HttpResponse:
        return HttpResponse()

    slow = deadlines.slow_view(slow)
    middleware = DeadlineMiddleware(lambda request: HttpResponse())
    with deadlines.until(time.monotonic() + 1):
        middleware.process_view(HttpRequest(), lambda request: HttpResponse(), (), {})
        assert (deadlines.remaining() or 0) <= 1
        middleware.process_view(HttpRequest(), slow, (), {})
        assert (deadlines.remaining() or 0) > 60
    assert deadlines.remaining() is None


@override_settings(SQLITE_LOCK_TIMEOUT=1)
def test_the_sqlite_write_queue_is_waited_for_no_longer_than_its_limit() -> None:
    lock = sqlite_base._write_lock
    lock.acquire()
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            sqlite_base._take_write_lock()
        with deadlines.until(time.monotonic() + 0.05), pytest.raises(sqlite3.OperationalError):
            sqlite_base._take_write_lock()  # the request's deadline, when sooner
    finally:
        lock.release()
