"""The benchmark's client side: request statistics (with a user's retries), an EventSource-like
stream reader that reconnects with Last-Event-ID, and samplers of server CPU/RSS and client lag."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import ssl
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx

CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
SINCE = re.compile(r'data-since="(\d+)"')
ATTEMPTS = 3  # a failed request (connection error or 5xx) is tried again like a user pressing again
ATTEMPT_PAUSE = 1.0


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def csrf_of(text: str) -> str:
    match = CSRF_FIELD.search(text)
    return match.group(1) if match else ""


def since_of(text: str) -> str:
    match = SINCE.search(text)
    return f"?since={match.group(1)}" if match else ""


# One TLS context for all clients (used through the scale-out proxy only). httpx builds a new one per
# client otherwise, loading the CA bundle: ~30 ms of CPU that stalls this event loop per student.
_TLS = ssl.create_default_context()


def new_client(url: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=url, follow_redirects=False, timeout=httpx.Timeout(60), verify=_TLS)


# --- request statistics --------------------------------------------------------------------------


@dataclass
class Stats:
    """Every answered request (end time, latency) and every failure (time) per request type, so a
    scenario can report a window of the run (the steady scenario reports only its steady part)."""

    samples: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    failures: dict[str, list[float]] = field(default_factory=dict)
    error_samples: list[str] = field(default_factory=list)
    reconnects: int = 0  # event streams opened again after they ended or failed
    duplicates: int = 0  # events seen twice (a replay after a reconnect) and ignored

    def ok(self, kind: str, seconds: float) -> None:
        self.samples.setdefault(kind, []).append((time.monotonic(), seconds))

    def fail(self, kind: str, why: str) -> None:
        self.failures.setdefault(kind, []).append(time.monotonic())
        self.samples.setdefault(kind, [])
        if len(self.error_samples) < 20:
            self.error_samples.append(f"{kind}: {why}"[:300])

    async def request(
        self,
        client: httpx.AsyncClient,
        kind: str,
        method: str,
        url: str,
        expect: tuple[int, ...],
        keep: tuple[int, ...] = (),
        **kw: Any,
    ) -> httpx.Response | None:
        """The response if its status is in `expect` (or in `keep`: counted as an error, returned to
        the caller), else None. Connection errors and 5xx are tried again (ATTEMPTS in all,
        ATTEMPT_PAUSE apart); every failed attempt counts as an error of `kind`."""
        for attempt in range(ATTEMPTS):
            if attempt:
                await asyncio.sleep(ATTEMPT_PAUSE)
            start = time.perf_counter()
            try:
                response = await client.request(method, url, **kw)
            except httpx.HTTPError as error:
                self.fail(kind, f"{type(error).__name__} {error}")
                continue
            if response.status_code in expect:
                self.ok(kind, time.perf_counter() - start)
                return response
            self.fail(kind, f"HTTP {response.status_code}")
            if response.status_code in keep:
                return response
            if response.status_code < 500:
                return None
        return None

    def count(self, t0: float = 0.0, t1: float = float("inf")) -> int:
        return sum(1 for rows in self.samples.values() for t, _ in rows if t0 <= t <= t1)

    def errors(self, t0: float = 0.0, t1: float = float("inf")) -> int:
        return sum(1 for rows in self.failures.values() for t in rows if t0 <= t <= t1)

    def table(self, seconds: float, t0: float = 0.0, t1: float = float("inf")) -> dict[str, dict[str, Any]]:
        out = {}
        for kind in sorted(self.samples):
            values = [s for t, s in self.samples[kind] if t0 <= t <= t1]
            errors = sum(1 for t in self.failures.get(kind, []) if t0 <= t <= t1)
            if not values and not errors:
                continue
            out[kind] = {
                "count": len(values),
                "errors": errors,
                "per_s": round(len(values) / seconds, 1) if seconds else None,
                **{f"p{p}_ms": ms(pct(values, p)) for p in (50, 95, 99)},
                "max_ms": ms(max(values) if values else None),
            }
        return out


# --- event streams -------------------------------------------------------------------------------


class OnEvent(Protocol):
    def __call__(self, kind: str, data: str, t: float) -> None: ...


class EventStream:
    """Reads a Server-Sent Events stream on its own connection, like a browser's EventSource: when
    the stream ends or fails (server gone, proxy 502) it connects again after the server's `retry:`
    value with `Last-Event-ID`, until `deadline` or close(). An event whose id was already seen (a
    replay) is not passed on twice. The first connection is given ATTEMPTS tries; a 4xx answer
    ends the stream for good. `connected` is set once it is open (or has given up: `failed`)."""

    def __init__(self, client: httpx.AsyncClient, path: str, on_event: OnEvent, stats: Stats, deadline: float) -> None:
        self.client, self.path, self.on_event, self.stats, self.deadline = client, path, on_event, stats, deadline
        self.connected = asyncio.Event()
        self.failed = False
        self.opened = False
        self.retry = 3.0
        self.last_id: str | None = None
        self.seen: set[str] = set()
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        tries = 0
        while True:
            kind = "stream_reconnect" if self.opened else "stream_open"
            headers = {"Accept": "text/event-stream"}
            if self.last_id is not None:
                headers["Last-Event-ID"] = self.last_id
            tries += 1
            start = time.perf_counter()
            listening = False
            try:
                async with self.client.stream(
                    "GET", self.path, headers=headers, timeout=httpx.Timeout(30, read=None)
                ) as response:
                    if response.status_code != 200:
                        self.stats.fail(kind, f"HTTP {response.status_code}")
                        if response.status_code < 500:
                            return self._give_up()
                    else:
                        self.stats.ok(kind, time.perf_counter() - start)
                        if self.opened:
                            self.stats.reconnects += 1
                        self.opened = listening = True
                        self.connected.set()
                        await self._read(response)
                        self.stats.fail("stream_dropped", "ended by the server")
            except asyncio.CancelledError:
                raise
            except (httpx.HTTPError, OSError) as error:
                self.stats.fail("stream_dropped" if listening else kind, f"{type(error).__name__} {error}")
            if (not self.opened and tries >= ATTEMPTS) or time.monotonic() + self.retry > self.deadline:
                return self._give_up()
            await asyncio.sleep(self.retry)

    def _give_up(self) -> None:
        if not self.opened:
            self.failed = True
        self.connected.set()

    async def _read(self, response: httpx.Response) -> None:
        event: dict[str, str] = {}
        async for line in response.aiter_lines():
            if line == "":
                if "event" in event:
                    self._dispatch(event)
                event = {}
            elif line.startswith(":"):
                continue
            else:
                name, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                if name == "retry" and value.isdigit():
                    self.retry = int(value) / 1000
                elif name in ("id", "event", "data"):
                    event[name] = value

    def _dispatch(self, event: dict[str, str]) -> None:
        event_id = event.get("id")
        if event_id is not None:
            if event_id in self.seen:
                self.stats.duplicates += 1
                return
            self.seen.add(event_id)
            self.last_id = event_id
        self.on_event(event["event"], event.get("data", ""), time.monotonic())

    async def close(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self.task


# --- samplers ------------------------------------------------------------------------------------


def _read_proc(pid: int) -> tuple[float, int] | None:
    """(CPU seconds, RSS bytes) of one process, all its threads; None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        cpu = (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
        rss = 0
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) * 1024
        return cpu, rss
    except (OSError, IndexError, ValueError):
        return None


class ProcessSampler:
    """CPU seconds and RSS summed over some processes (e.g. all app processes of the scale-out),
    from /proc, sampled every 0.5 s. A process that ends keeps the CPU time it had used."""

    def __init__(self, pids: list[int]) -> None:
        self.pids = [pid for pid in pids if pid]
        self.last_cpu: dict[int, float] = {}
        self.peak_rss = 0
        self.samples: list[tuple[float, float, int]] = []
        self._task: asyncio.Task[None] | None = None

    def read(self) -> tuple[float, int]:
        rss_total = 0
        for pid in self.pids:
            now = _read_proc(pid)
            if now is not None:
                self.last_cpu[pid] = now[0]
                rss_total += now[1]
        return sum(self.last_cpu.values()), rss_total

    async def _loop(self) -> None:
        while True:
            cpu, rss = self.read()
            self.peak_rss = max(self.peak_rss, rss)
            self.samples.append((time.monotonic(), cpu, rss))
            await asyncio.sleep(0.5)

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop())

    def peak_rss_between(self, t0: float, t1: float) -> int:
        return max((rss for t, _, rss in self.samples if t0 <= t <= t1), default=0)

    def peak_cores(self, window: float = 2.0, t0: float = 0.0, t1: float = float("inf")) -> float:
        """The highest CPU use over any `window` seconds, in cores (1.0 = one core busy)."""
        samples = [s for s in self.samples if t0 <= s[0] <= t1]
        best = 0.0
        j = 0
        for i, (t, cpu, _rss) in enumerate(samples):
            while j < i and t - samples[j][0] > window:
                j += 1
            ta, cpu_a, _ = samples[j]
            if t - ta >= window * 0.75:
                best = max(best, (cpu - cpu_a) / (t - ta))
        return round(best, 2)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


class LoopLag:
    """How late this client's event loop wakes up (sleeps of 0.1 s): if it lags, the client, not the
    server, is part of the latencies measured."""

    def __init__(self) -> None:
        self.lags: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _loop(self) -> None:
        while True:
            began = time.perf_counter()
            await asyncio.sleep(0.1)
            self.lags.append(time.perf_counter() - began - 0.1)

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> dict[str, float | None]:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        return {
            "p50_ms": ms(pct(self.lags, 50)),
            "p99_ms": ms(pct(self.lags, 99)),
            "max_ms": ms(max(self.lags) if self.lags else None),
        }
