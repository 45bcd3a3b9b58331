"""Run real `classnote serve` processes for end-to-end tests, and talk to them like a browser."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]


def wait_until(predicate: Callable[[], object], timeout: float, message: str | Callable[[], str]) -> None:
    """Poll `predicate` until it is true; fail with `message` (a string, or a function that describes
    the state at the deadline) when it is still false after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            text = message() if callable(message) else message
            raise AssertionError(f"not within {timeout:g} s: {text}")
        time.sleep(0.02)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    url: str
    home: Path
    process: subprocess.Popen[bytes]
    log: Path

    def logins(self) -> list[tuple[str, str, str, str]]:
        rows = (self.home / "demo-logins.txt").read_text(encoding="utf-8").splitlines()
        return [tuple(row.split("\t")) for row in rows if row]  # type: ignore[misc]

    def login_of(self, role: str, where: str = "港小学校", index: int = 0) -> tuple[str, str]:
        matching = [(login, pw) for w, r, login, pw in self.logins() if r == role and w == where]
        return matching[index]

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


def server_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CLASSNOTE_"))}
    for name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY"):
        env.pop(name, None)
    env.update({"CLASSNOTE_HOME": str(home), "CLASSNOTE_ENV": "development", "LOG_LEVEL": "warning"})
    # No status prober of the server's own unless a test asks (it would add a user every minute).
    env["STATUS_PROBE_SCHEDULED"] = "false"
    env.update(extra)
    return env


def start(home: Path, *args: str, port: int | None = None, **env: str) -> Server:
    port = port or free_port()
    home.mkdir(parents=True, exist_ok=True)
    log = home / f"server-{port}.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "classnote", "serve", "--port", str(port), *args],
        env=server_env(home, **env),
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
        cwd=ROOT,
    )
    server = Server(f"http://127.0.0.1:{port}", home, process, log)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text(errors='replace')[-3000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                return server
        time.sleep(0.2)
    server.kill()
    raise RuntimeError(f"server did not start: {log.read_text(errors='replace')[-3000:]}")


ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


@contextlib.contextmanager
def postgres_database(prefix: str) -> Iterator[str]:
    """A fresh PostgreSQL database for real servers, dropped afterwards (even with them still
    connected); yields its name. The caller checks that PostgreSQL is there (require_service)."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def running(home: Path, *args: str, **env: str) -> Iterator[Server]:
    server = start(home, *args, **env)
    try:
        yield server
    finally:
        if server.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.process.pid, signal.SIGTERM)
            try:
                server.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()


CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Browser:
    """A cookie jar with the habits of a browser: it reads the CSRF token from the page it posts."""

    def __init__(self, base_url: str) -> None:
        self.client = httpx.Client(base_url=base_url, follow_redirects=False, timeout=20)
        self.csrf = ""

    def get(self, path: str) -> httpx.Response:
        response = self.client.get(path)
        match = CSRF_FIELD.search(response.text) if "text/html" in response.headers.get("content-type", "") else None
        if match:
            self.csrf = match.group(1)
        return response

    def post(
        self, path: str, data: dict[str, Any] | None = None, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> httpx.Response:
        if not self.csrf:
            self.get("/login/student/")
        return self.client.post(
            path,
            data={"csrfmiddlewaretoken": self.csrf, **(data or {})},
            headers={"Referer": str(self.client.base_url), **(headers or {})},
            **kwargs,
        )

    def post_json(self, path: str, payload: Any) -> httpx.Response:
        return self.client.post(
            path, json=payload, headers={"X-CSRFToken": self.csrf, "Referer": str(self.client.base_url)}
        )

    def login_staff(self, login: str, password: str) -> None:
        self.get("/accounts/login/")
        response = self.post("/accounts/login/", {"login": login, "password": password})
        assert response.status_code == 302, response.text[:500]
        self.get("/home/")

    def login_student(self, login: str, password: str) -> None:
        code, number = login.split(" / ")
        self.get("/login/student/")
        response = self.post("/login/student/", {"school_code": code, "student_number": number, "password": password})
        assert response.status_code == 302, response.text[:500]
        self.get("/home/")


@dataclass
class Stream:
    """An EventSource-like reader of /events/... that collects events in a background thread."""

    browser: Browser
    path: str
    last_id: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    connected: threading.Event = field(default_factory=threading.Event)
    _client: Any = None
    status: int | None = None  # the HTTP status the stream answered with (None: no answer)
    body: str = ""  # the start of the body of an answer other than 200
    error: BaseException | None = None  # why the connection failed or ended, if it did
    headers: dict[str, str] = field(default_factory=dict)  # the answer's headers
    ended_at: float | None = None  # when the stream ended (time.monotonic()), None while open

    def start(self) -> Stream:
        """Connect in the background, without waiting for the answer (`connected` is set on it)."""
        self._stop.clear()
        self.connected.clear()
        self.status, self.body, self.error, self.ended_at = None, "", None, None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def open(self) -> Stream:
        self.start()
        assert self.connected.wait(10), f"the event stream {self.path} did not answer within 10 s"
        if self.status != 200:
            raise AssertionError(
                f"the event stream {self.path} answered {self.status} instead of 200"
                + (f": {self.body!r}" if self.status is not None else f" ({self.error!r})")
            )
        return self

    def _run(self) -> None:
        import json

        headers = {"Accept": "text/event-stream"}
        if self.last_id is not None:
            headers["Last-Event-ID"] = self.last_id
        # Its own connection, so close() can cut it from another thread.
        self._client = httpx.Client(
            base_url=self.browser.client.base_url,
            cookies=self.browser.client.cookies,
            timeout=httpx.Timeout(5, read=None),
        )
        try:
            with self._client.stream("GET", self.path, headers=headers) as response:
                self.status = response.status_code
                self.headers = dict(response.headers)
                if response.status_code != 200:
                    self.body = response.read()[:2000].decode(errors="replace")
                    return
                self.connected.set()
                event: dict[str, Any] = {}
                for line in response.iter_lines():
                    if self._stop.is_set():
                        return
                    if line.startswith("id: "):
                        event["id"] = line[4:]
                    elif line.startswith("event: "):
                        event["event"] = line[7:]
                    elif line.startswith("data: "):
                        event["data"] = json.loads(line[6:])
                    elif line == "" and "event" in event:
                        self.events.append(event)
                        self.last_id = event.get("id", self.last_id)
                        event = {}
        except (httpx.HTTPError, RuntimeError, ValueError, OSError) as error:
            self.error = error  # close() cutting the connection ends up here too
        finally:
            self.ended_at = time.monotonic()
            self.connected.set()  # (also when it failed: open() reports the status)

    def wait_for(self, kind: str, count: int = 1, timeout: float = 10) -> list[dict[str, Any]]:
        def found() -> list[dict[str, Any]]:
            return [e for e in self.events if e["event"] == kind]

        wait_until(
            lambda: len(found()) >= count, timeout, lambda: f"expected {count} {kind!r} events, got {self.events}"
        )
        return found()

    @property
    def ended(self) -> bool:
        """The server ended the stream (or the connection failed)."""
        return self._thread is not None and not self._thread.is_alive()

    def wait_ended(self, timeout: float = 10) -> None:
        wait_until(lambda: self.ended, timeout, lambda: f"{self.path} did not end; events: {self.events}")

    def close(self) -> None:
        self._stop.set()
        with contextlib.suppress(Exception):
            self._client.close()
        if self._thread is not None:
            self._thread.join(timeout=5)


def first(pattern: str, text: str) -> str:
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not found"
    return match.group(1)
