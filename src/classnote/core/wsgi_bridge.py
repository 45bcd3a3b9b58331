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
"""

from __future__ import annotations

import asyncio
import contextvars
import io
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from a2wsgi.wsgi import WSGIResponder, build_environ

MAX_BUFFERED_BODY = 1024 * 1024  # forms and JSON are far below; uploads stream
Message = dict[str, Any]


def _headers(response_headers: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    return [(name.strip().encode("latin1").lower(), value.strip().encode("latin1")) for name, value in response_headers]


class BufferedWSGI:
    def __init__(self, app: Callable[..., Iterable[bytes]], *, workers: int) -> None:
        self.app = app
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="WSGI")

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
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
        if more:  # a large upload: the view reads the rest from the loop as it goes
            await self._streaming(scope, receive, send, b"".join(chunks))
            return
        environ = build_environ(scope, io.BytesIO(b"".join(chunks)))  # type: ignore[arg-type]
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()
        result = await loop.run_in_executor(self.executor, lambda: context.run(self._respond, environ, loop, send))
        if result is not None:
            start, body = result
            await send(start)
            await send({"type": "http.response.body", "body": body})

    def _respond(self, environ: Any, loop: asyncio.AbstractEventLoop, send: Any) -> tuple[Message, bytes] | None:
        """In a request thread: the whole response, or None once a streaming one has been sent."""
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
