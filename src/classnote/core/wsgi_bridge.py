"""ASGI → Django's WSGI handler for request/response, without a request thread waiting on the event loop.

a2wsgi (the usual bridge) hands each request to a thread that then asks the event loop, and waits
for it, four times per request: for the body, to start the response, for each body chunk and to
end it. Under load the event loop gets the GIL only every few milliseconds (the request threads
hold it), so each of those waits cost up to a GIL switch interval; at the bell, threads spent a
third of their time parked there and submissions queued for a second with the CPU 25 % idle
(py-spy of `bench.classroom --classes 25`, docs/performance.md). Here the loop reads the whole
body before the thread starts, and the thread hands back the whole response in one piece: the
only hand-over is the thread's completion. Bodies above MAX_BUFFERED_BODY (file uploads) and
streaming responses (downloads) take a2wsgi's streaming path instead, as before.

Deadlines (issue 13). Each request has a deadline, REQUEST_TIMEOUT after it arrived; the thread
runs it under that deadline (classnote.base.deadlines), so every wait on a backend ends by then.
A request still queued at its deadline is answered 503 from the event loop and never runs; one
that reaches a thread with (almost) nothing left is answered 503 the same way. At most
REQUEST_QUEUE_MAX requests wait for a thread; past that a new one is answered 503 at once.
Before, the queue was unbounded: a hung database held every thread, the queue grew for as long
as it hung, and nobody got an answer. The refusals carry Retry-After and the translated page of
classnote.core.unavailable (JSON for the API), and nothing of them was run.
"""

from __future__ import annotations

import asyncio
import contextvars
import io
import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from a2wsgi.wsgi import WSGIResponder, build_environ
from django.http.cookie import parse_cookie

from classnote.base import deadlines, outages
from classnote.core import metrics, unavailable

logger = logging.getLogger(__name__)

MAX_BUFFERED_BODY = 1024 * 1024  # forms and JSON are far below; uploads stream
# A request that reaches its thread with less than this left is refused rather than started.
MIN_TIME_TO_START = 0.5
Message = dict[str, Any]
QUEUE_FULL = outages.Outage(outages.SERVER, outages.BUSY, retry_after=10)
QUEUED_TOO_LONG = outages.Outage(outages.SERVER, outages.TIMEOUT, retry_after=10)


def _headers(response_headers: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    return [(name.strip().encode("latin1").lower(), value.strip().encode("latin1")) for name, value in response_headers]


class Refused(Exception):
    """Raised in a request thread for a request that must not start (its deadline has come)."""


def _header(scope: dict[str, Any], name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value).decode("latin1")
    return ""


def refusal(scope: dict[str, Any], outage: outages.Outage) -> tuple[Message, bytes]:
    """The 503 of a request that was not run, in the language its page was in."""
    language = unavailable.language_of(parse_cookie(_header(scope, b"cookie")), _header(scope, b"accept-language"))
    as_json = (
        scope.get("path", "").startswith("/api/")
        or "application/json" in _header(scope, b"accept")
        or _header(scope, b"content-type").startswith("application/json")
    )
    body, content_type = unavailable.body(outage, language, as_json)
    headers = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(outage.retry_after).encode()),
        (b"cache-control", b"no-store"),
        (b"content-language", language.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"same-origin"),
        (b"content-security-policy", b"default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'"),
    ]
    return {"type": "http.response.start", "status": outage.status, "headers": headers}, body


class RefusalLog:
    """Refusals are counted and logged at most once per LOG_EVERY seconds: an overload must not
    also flood the log."""

    LOG_EVERY = 10.0

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.last = 0.0
        self.lock = threading.Lock()

    def add(self, why: str) -> None:
        with self.lock:
            self.counts[why] = self.counts.get(why, 0) + 1
            now = time.monotonic()
            if now - self.last < self.LOG_EVERY:
                return
            counts, self.counts, self.last = self.counts, {}, now
        summary = ", ".join(f"{reason}: {count}" for reason, count in sorted(counts.items()))
        logger.warning("requests refused with 503 (%s)", summary)


class BufferedWSGI:
    def __init__(
        self, app: Callable[..., Iterable[bytes]], *, workers: int, timeout: float = 15.0, queue_max: int = 200
    ) -> None:
        self.app = app
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="WSGI")
        self.timeout = timeout
        self.queue_max = queue_max
        self.queued = 0  # submitted to the pool, not yet started
        self._queued_lock = threading.Lock()
        self.refusals = RefusalLog()

    def _count_queued(self, change: int) -> None:
        with self._queued_lock:
            self.queued += change

    async def _refuse(self, scope: dict[str, Any], send: Any, outage: outages.Outage, why: str) -> None:
        self.refusals.add(why)
        metrics.record_refusal("queue_full" if outage is QUEUE_FULL else "queued_too_long")
        start, body = refusal(scope, outage)
        await send(start)
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        arrived = time.monotonic()
        chunks: list[bytes] = []
        size = 0
        more = True
        while more and size <= MAX_BUFFERED_BODY:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body = message.get("body", b"")
            chunks.append(body)
            size += len(body)
            more = message.get("more_body", False)
        if self.queued >= self.queue_max:
            await self._refuse(scope, send, QUEUE_FULL, "queue full")
            return
        deadline = arrived + self.timeout
        if more:  # a large upload: the view reads the rest from the loop as it goes
            # No request deadline: the body arrives at the pace of the pupil's network; each wait
            # on a backend keeps its own limit (DATABASE_WAIT_SECONDS, the storage's timeouts).
            await self._streaming(scope, receive, send, b"".join(chunks))
            return
        environ = build_environ(scope, io.BytesIO(b"".join(chunks)))  # type: ignore[arg-type]
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()
        self._count_queued(+1)
        work = self.executor.submit(context.run, self._respond, environ, loop, send, deadline)
        expired: list[bool] = []

        def expire() -> None:
            # At the deadline a request still queued is cancelled (it never runs); one that is
            # running is waited for: its own waits end by the deadline.
            if work.cancel():
                expired.append(True)

        # One timer, not wait_for(shield(...)): a task and two futures fewer per request.
        timer = loop.call_at(loop.time() + max(0.0, deadline - time.monotonic()), expire)
        try:
            result = await asyncio.wrap_future(work)
        except asyncio.CancelledError:
            if not expired:
                raise  # the connection's own cancellation
            self._count_queued(-1)
            await self._refuse(scope, send, QUEUED_TOO_LONG, "deadline passed in the queue")
            return
        except Refused:
            await self._refuse(scope, send, QUEUED_TOO_LONG, "deadline passed in the queue")
            return
        finally:
            timer.cancel()
        if result is not None:
            start, body = result
            await send(start)
            await send({"type": "http.response.body", "body": body})

    def _respond(
        self, environ: Any, loop: asyncio.AbstractEventLoop, send: Any, deadline: float
    ) -> tuple[Message, bytes] | None:
        """In a request thread: the whole response, or None once a streaming one has been sent."""
        self._count_queued(-1)
        if deadline - time.monotonic() < MIN_TIME_TO_START:
            raise Refused
        with deadlines.until(deadline):
            return self._run(environ, loop, send)

    def _run(self, environ: Any, loop: asyncio.AbstractEventLoop, send: Any) -> tuple[Message, bytes] | None:
        start: Message = {}
        written: list[bytes] = []

        def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            start.update(type="http.response.start", status=int(status.split(" ", 1)[0]))
            start["headers"] = _headers(response_headers)
            return written.append  # WSGI's legacy write(); Django does not use it

        iterable = self.app(environ, start_response)
        try:
            if getattr(iterable, "streaming", False):  # FileResponse, StreamingHttpResponse: chunk by chunk

                def blocking(message: Message) -> None:
                    asyncio.run_coroutine_threadsafe(send(message), loop).result()

                blocking(start)
                for chunk in [*written, *iterable]:
                    blocking({"type": "http.response.body", "body": chunk, "more_body": True})
                blocking({"type": "http.response.body", "body": b""})
                return None
            body = b"".join([*written, *iterable])
        finally:
            close = getattr(iterable, "close", None)
            if close is not None:
                close()
        return start, body

    async def _streaming(self, scope: dict[str, Any], receive: Any, send: Any, first: bytes) -> None:
        replay: Message | None = {"type": "http.request", "body": first, "more_body": True}

        async def receive_rest() -> Message:
            nonlocal replay
            if replay is not None:
                message, replay = replay, None
                return message
            return dict(await receive())

        await WSGIResponder(self.app, self.executor, 16)(scope, receive_rest, send)  # type: ignore[arg-type]
