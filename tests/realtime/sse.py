"""A browser's EventSource in-process, for the stream tests: one GET of /events/... through the ASGI
application that `classnote serve` runs, its body read as it arrives, every wait bounded (TIMEOUT)."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from asgiref.sync import sync_to_async
from asgiref.testing import ApplicationCommunicator
from django.conf import settings
from django.test import Client

from classnote.accounts.models import User
from classnote.asgi import application
from classnote.cards.actions import create_card
from classnote.realtime.bus import get_bus
from tests.conftest import Tenant, login_as

TIMEOUT = 10.0  # the longest one wait on a stream may take before its test fails
SCENARIO_TIMEOUT = 60.0  # the longest a whole scenario may take
T = TypeVar("T")


# --- A browser's EventSource, in-process ---------------------------------------------------------------


@dataclass
class EventStream:
    """One GET of an event stream through the ASGI application: the response's status and headers,
    then its body as it arrives, split into SSE blocks ("retry:", events, ": ping" comments)."""

    path: str
    cookie: str | None = None
    last_event_id: str | None = None
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""  # everything received so far
    ended: bool = False  # the server ended the response
    _communicator: ApplicationCommunicator | None = None

    async def open(self) -> EventStream:
        path, _, query = self.path.partition("?")
        headers = [(b"host", b"testserver"), (b"accept", b"text/event-stream"), (b"cache-control", b"no-cache")]
        if self.cookie is not None:
            headers.append((b"cookie", self.cookie.encode()))
        if self.last_event_id is not None:
            headers.append((b"last-event-id", self.last_event_id.encode()))
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
        }
        self._communicator = ApplicationCommunicator(application, scope)
        await self._communicator.send_input({"type": "http.request", "body": b"", "more_body": False})
        start = await self._receive("the start of the response")
        assert start["type"] == "http.response.start", start
        self.status = start["status"]
        self.headers = {name.decode("latin1").lower(): value.decode("latin1") for name, value in start["headers"]}
        if self.status != 200:  # a refusal: its whole body, which ends
            await self.read_until(lambda stream: stream.ended, "the end of the refusal")
        return self

    async def _receive(self, what: str, timeout: float = TIMEOUT) -> dict[str, Any]:
        assert self._communicator is not None
        try:
            return await self._communicator.receive_output(timeout=timeout)
        except TimeoutError:
            raise AssertionError(
                f"{self.path}: {what} did not come within {TIMEOUT:g} s; received so far: {self.body!r}"
            ) from None

    async def read_until(self, done: Callable[[EventStream], object], what: str) -> None:
        """Read the body until `done(self)` holds; fail after TIMEOUT, or when the response ends first."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + TIMEOUT
        while not done(self):
            if self.ended:
                raise AssertionError(f"{self.path}: the response ended before {what}; received: {self.body!r}")
            message = await self._receive(what, max(deadline - loop.time(), 0.001))
            if message["type"] == "http.response.body":
                self.body += message.get("body", b"").decode()
                self.ended = not message.get("more_body", False)

    async def read_for(self, seconds: float) -> None:
        """Read what arrives within SECONDS, or until the response ends; unlike a wait that fails,
        this leaves the request running (asgiref cancels the application when a read times out)."""
        assert self._communicator is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while not self.ended and (left := deadline - loop.time()) > 0:
            try:
                message = await asyncio.wait_for(self._communicator.output_queue.get(), left)
            except TimeoutError:
                return
            if message["type"] == "http.response.body":
                self.body += message.get("body", b"").decode()
                self.ended = not message.get("more_body", False)

    async def wait_events(self, count: int) -> list[dict[str, Any]]:
        await self.read_until(lambda stream: len(stream.events) >= count, f"{count} event(s)")
        return self.events

    @property
    def blocks(self) -> list[dict[str, str]]:
        """The complete blocks received so far, each as {field: value} (a comment as {"": text})."""
        complete = self.body.split("\n\n")[:-1]
        parsed = []
        for block in complete:
            fields: dict[str, str] = {}
            for line in block.split("\n"):
                name, _, value = line.partition(":")
                fields[name] = value.removeprefix(" ")
            parsed.append(fields)
        return parsed

    @property
    def events(self) -> list[dict[str, Any]]:
        """The events received so far: {"id": int, "event": kind, "data": the decoded data line}."""
        return [
            {"id": int(block["id"]), "event": block["event"], "data": json.loads(block["data"])}
            for block in self.blocks
            if "event" in block and "id" in block
        ]

    def kinds(self) -> list[tuple[int, str]]:
        return [(event["id"], event["event"]) for event in self.events]

    async def close(self) -> None:
        """Disconnect, as a closed tab does, and wait for the application to finish the request."""
        communicator = self._communicator
        if communicator is None or communicator.future.done():
            return
        await communicator.send_input({"type": "http.disconnect"})
        await communicator.wait(TIMEOUT)


class Screens:
    """The streams a scenario opens; all are closed at its end, whatever happens."""

    def __init__(self) -> None:
        self.opened: list[EventStream] = []

    async def open(self, path: str, cookie: str | None, *, last_event_id: str | None = None) -> EventStream:
        stream = EventStream(path, cookie, last_event_id)
        self.opened.append(stream)
        return await stream.open()

    async def close_all(self) -> None:
        for stream in self.opened:
            await stream.close()


def subscriptions() -> int:
    """How many stream queues the bus of this process holds (the bus has no public count: only tests ask)."""
    return sum(len(queues) for queues in get_bus()._subscribers.values())


def run(scenario: Callable[[Screens], Awaitable[None]]) -> None:
    """Run a scenario on a fresh event loop, bounded; afterwards no stream is left subscribed to the bus."""
    connections_before = subscriptions()

    async def main() -> None:
        screens = Screens()
        try:
            await asyncio.wait_for(scenario(screens), SCENARIO_TIMEOUT)
        finally:
            await screens.close_all()
        assert subscriptions() == connections_before, "a closed stream is still subscribed"

    asyncio.run(main())


async def act(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Carry out a lesson action off the event loop, as a request thread does."""
    return await sync_to_async(function)(*args, **kwargs)


# --- Helpers (all before the event loop runs: they do database work) ------------------------------------


def session_cookie(user: User) -> str:
    client = login_as(Client(), user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def lesson_page(user: User, tenant: Tenant) -> tuple[str, int]:
    """The stream's URL and the sequence number the page was rendered at (data-stream, data-since)."""
    response = login_as(Client(), user).get(f"/lessons/{tenant.lesson.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    stream = re.search(r'data-stream="([^"]+)"', page)
    since = re.search(r'data-since="(\d+)"', page)
    assert stream and since, "the lesson page names its event stream and where it starts"
    return stream.group(1), int(since.group(1))


def new_card(tenant: Tenant, title: str) -> int:
    return create_card(tenant.teacher, kind="text", lesson_id=tenant.lesson.pk, title=title, text=f"{title} text").pk


def mine(event: dict[str, Any]) -> list[int] | None:
    """The ids of the cards in the event's slice for its reader ("mine"), None without a slice."""
    slice_ = event["data"]["data"].get("mine")
    return None if slice_ is None else [card["id"] for card in slice_]
