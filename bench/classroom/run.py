"""The classroom load benchmark (issue 6): the bell, against a real `classnote serve` on 127.0.0.1.

One asyncio process (httpx) plays K teachers and 40·K students; the server is started by the
benchmark itself with a fresh CLASSNOTE_HOME (the embedded default: one process, SQLite) and
stopped at the end. Everything is bounded in time (`--max-seconds`). See README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import re
import resource
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
SERVING = ROOT / "bench" / "serving"
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
SINCE = re.compile(r'data-since="(\d+)"')
STUDENTS_PER_CLASS = 40


# --- measurement ---------------------------------------------------------------------------------


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    error_samples: list[str] = field(default_factory=list)

    def ok(self, kind: str, seconds: float) -> None:
        self.latencies.setdefault(kind, []).append(seconds)

    def fail(self, kind: str, why: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1
        self.latencies.setdefault(kind, [])
        if len(self.error_samples) < 20:
            self.error_samples.append(f"{kind}: {why}"[:300])

    async def request(
        self, client: httpx.AsyncClient, kind: str, method: str, url: str, expect: tuple[int, ...], **kw: Any
    ) -> httpx.Response | None:
        start = time.perf_counter()
        try:
            response = await client.request(method, url, **kw)
        except httpx.HTTPError as error:
            self.fail(kind, f"{type(error).__name__} {error}")
            return None
        elapsed = time.perf_counter() - start
        if response.status_code not in expect:
            self.fail(kind, f"HTTP {response.status_code}")
            return None
        self.ok(kind, elapsed)
        return response

    def table(self, seconds: float) -> dict[str, dict[str, Any]]:
        out = {}
        for kind in sorted(self.latencies):
            values = self.latencies[kind]
            out[kind] = {
                "count": len(values),
                "errors": self.errors.get(kind, 0),
                "per_s": round(len(values) / seconds, 1) if seconds else None,
                **{f"p{p}_ms": _ms(pct(values, p)) for p in (50, 95, 99)},
                "max_ms": _ms(max(values) if values else None),
            }
        return out


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


class ProcessSampler:
    """CPU seconds and RSS of one process (all its threads) from /proc, sampled every 0.5 s."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_rss = 0
        self.samples: list[tuple[float, float, int]] = []
        self._task: asyncio.Task[None] | None = None

    def read(self) -> tuple[float, int]:
        try:
            stat = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
            cpu = (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
            rss = 0
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1]) * 1024
            return cpu, rss
        except (OSError, IndexError, ValueError):
            return 0.0, 0

    async def _loop(self) -> None:
        while True:
            cpu, rss = self.read()
            self.peak_rss = max(self.peak_rss, rss)
            self.samples.append((time.monotonic(), cpu, rss))
            await asyncio.sleep(0.5)

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop())

    def peak_cores(self, window: float = 2.0) -> float:
        """The highest CPU use over any `window` seconds, in cores (1.0 = one core busy)."""
        best = 0.0
        j = 0
        for i, (t, cpu, _rss) in enumerate(self.samples):
            while j < i and t - self.samples[j][0] > window:
                j += 1
            t0, cpu0, _ = self.samples[j]
            if t - t0 >= window * 0.75:
                best = max(best, (cpu - cpu0) / (t - t0))
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
        return {"p50_ms": _ms(pct(self.lags, 50)), "p99_ms": _ms(pct(self.lags, 99)), "max_ms": _ms(max(self.lags))}


def machine() -> dict[str, Any]:
    load = os.getloadavg()
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg_1_5_15": [round(x, 2) for x in load],
        "date_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
    }


# --- servers -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    name: str
    url: str
    process: subprocess.Popen[bytes] | None  # None: a server this benchmark did not start
    log: Path
    pid: int = 0  # whose CPU and memory are sampled (0: not sampled)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CLASSNOTE_", "BENCH_"))}
    for name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG"):
        env.pop(name, None)
    env.update(extra)
    return env


def launch(name: str, cmd: list[str], env: dict[str, str], cwd: Path, log: Path, health: str) -> Server:
    process = subprocess.Popen(
        cmd, env=env, cwd=cwd, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True
    )
    port = cmd[cmd.index("--port") + 1]
    server = Server(name, f"http://127.0.0.1:{port}", process, log, process.pid)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited: {log.read_text(errors='replace')[-2000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(server.url + health, timeout=1).status_code < 500:
                return server
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"{name} did not start: {log.read_text(errors='replace')[-2000:]}")


def start_classnote(home: Path) -> Server:
    env = clean_env(CLASSNOTE_HOME=str(home), CLASSNOTE_ENV="development", LOG_LEVEL="warning")
    port = free_port()
    cmd = [sys.executable, "-m", "classnote", "serve", "--port", str(port), "--no-migrate"]
    return launch("classnote", cmd, env, ROOT, home / "server.log", "/healthz")


def setup_data(home: Path, classes: int, extra_env: dict[str, str] | None = None) -> dict[str, Any]:
    out = home / "setup.json"
    home.mkdir(parents=True, exist_ok=True)
    env = clean_env(CLASSNOTE_HOME=str(home), CLASSNOTE_ENV="development", LOG_LEVEL="warning")
    env.update(extra_env or {})
    subprocess.run(
        [sys.executable, "-m", "bench.classroom.setup_data", str(classes), str(STUDENTS_PER_CLASS), str(out)],
        env=env,
        cwd=ROOT,
        check=True,
        timeout=600,
    )
    return dict(json.loads(out.read_text(encoding="utf-8")))


# --- the bell ------------------------------------------------------------------------------------


def csrf_of(text: str) -> str:
    match = CSRF_FIELD.search(text)
    return match.group(1) if match else ""


@dataclass
class Delivery:
    lesson_id: int
    expected: int
    ready: int = 0
    all_ready: asyncio.Event = field(default_factory=asyncio.Event)
    sent: asyncio.Event = field(default_factory=asyncio.Event)
    request_started: float = 0.0
    acked: float = 0.0
    received: list[float] = field(default_factory=list)  # monotonic times at the students' streams
    submissions_seen: int = 0
    box_full_after: float | None = None

    def one_ready(self) -> None:
        self.ready += 1
        if self.ready >= self.expected:
            self.all_ready.set()


class EventStream:
    """An EventSource-like reader on its own connection; calls on_event(kind, data, t) per event."""

    def __init__(self, client: httpx.AsyncClient, path: str, on_event: Any, stats: Stats) -> None:
        self.client, self.path, self.on_event, self.stats = client, path, on_event, stats
        self.connected = asyncio.Event()
        self.failed = False
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        start = time.perf_counter()
        try:
            async with self.client.stream(
                "GET", self.path, headers={"Accept": "text/event-stream"}, timeout=httpx.Timeout(30, read=None)
            ) as response:
                if response.status_code != 200:
                    self.stats.fail("stream_open", f"HTTP {response.status_code}")
                    self.failed = True
                    self.connected.set()
                    return
                self.stats.ok("stream_open", time.perf_counter() - start)
                self.connected.set()
                event: dict[str, Any] = {}
                async for line in response.aiter_lines():
                    if line.startswith("event: "):
                        event["event"] = line[7:]
                    elif line.startswith("data: "):
                        event["data"] = line[6:]
                    elif line == "" and "event" in event:
                        self.on_event(event["event"], event.get("data", ""), time.monotonic())
                        event = {}
        except asyncio.CancelledError:
            raise
        except (httpx.HTTPError, OSError) as error:
            if not self.connected.is_set():
                self.stats.fail("stream_open", f"{type(error).__name__} {error}")
                self.failed = True
                self.connected.set()
            else:
                self.stats.fail("stream_dropped", f"{type(error).__name__} {error}")

    async def close(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self.task


# One TLS context for all clients (never used: 127.0.0.1 over HTTP). httpx builds a new one per
# client otherwise, loading the CA bundle: ~30 ms of CPU that stalls this event loop per student.
_TLS = ssl.create_default_context()


def new_client(url: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=url, follow_redirects=False, timeout=httpx.Timeout(60), verify=_TLS)


async def student(
    url: str,
    stats: Stats,
    school_code: str,
    password: str,
    cls: dict[str, Any],
    pupil: dict[str, str],
    delivery: Delivery,
    start_after: float,
    use_qr: bool,
    deadline: float,
    outcome: dict[str, int],
) -> None:
    await asyncio.sleep(start_after)
    lesson_id = cls["lesson_id"]
    got_card: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
    got_receipt = asyncio.Event()

    def on_event(kind: str, data: str, t: float) -> None:
        if kind == "cards.received" and not got_card.done():
            delivery.received.append(t)
            got_card.set_result(json.loads(data))
        elif kind == "submission.added":
            got_receipt.set()

    async with new_client(url) as client:
        stream = None
        ready_counted = False
        try:
            if use_qr:
                page = await stats.request(client, "login_page", "GET", "/login/card/", (200,))
                if page is None:
                    return
                done = await stats.request(
                    client,
                    "login_qr",
                    "POST",
                    "/login/card/",
                    (302,),
                    data={"csrfmiddlewaretoken": csrf_of(page.text), "token": pupil["token"]},
                    headers={"Referer": url + "/login/card/"},
                )
            else:
                page = await stats.request(client, "login_page", "GET", "/login/student/", (200,))
                if page is None:
                    return
                done = await stats.request(
                    client,
                    "login_password",
                    "POST",
                    "/login/student/",
                    (302,),
                    data={
                        "csrfmiddlewaretoken": csrf_of(page.text),
                        "school_code": school_code,
                        "student_number": pupil["number"],
                        "password": password,
                    },
                    headers={"Referer": url + "/login/student/"},
                )
            if done is None:
                return
            lesson = await stats.request(client, "lesson_page", "GET", f"/lessons/{lesson_id}/", (200,))
            if lesson is None:
                return
            csrf = csrf_of(lesson.text)
            since = SINCE.search(lesson.text)
            path = f"/events/lesson/{lesson_id}/" + (f"?since={since.group(1)}" if since else "")
            stream = EventStream(client, path, on_event, stats)
            await stream.connected.wait()
            delivery.one_ready()
            ready_counted = True
            if stream.failed:
                return
            try:
                payload = await asyncio.wait_for(got_card, timeout=max(1.0, deadline - time.monotonic()))
            except TimeoutError:
                outcome["lost_events"] += 1
                return
            card_id = payload["data"]["mine"][0]["id"]
            headers = {"X-CSRFToken": csrf, "Referer": url + f"/lessons/{lesson_id}/"}
            version = 1
            for n in range(2):
                await asyncio.sleep(random.uniform(0.5, 2.0))  # noqa: S311 - think time
                saved = await stats.request(
                    client,
                    "autosave",
                    "POST",
                    f"/cards/{card_id}/autosave/",
                    (200,),
                    json={"version": version, "fields": {"text": f"My answer, draft {n + 1}"}},
                    headers=headers,
                )
                if saved is None:
                    return
                version = int(saved.json()["version"])
            await asyncio.sleep(random.uniform(0.2, 1.0))  # noqa: S311
            submitted = await stats.request(
                client,
                "submit",
                "POST",
                f"/boxes/{cls['box_id']}/submit/",
                (302,),
                data={"csrfmiddlewaretoken": csrf, "card": str(card_id)},
                headers={"Referer": url + f"/lessons/{lesson_id}/"},
            )
            if submitted is None:
                return
            try:
                await asyncio.wait_for(got_receipt.wait(), timeout=max(1.0, deadline - time.monotonic()))
            except TimeoutError:
                outcome["lost_events"] += 1
                return
            outcome["completed"] += 1
        finally:
            if not ready_counted:
                delivery.one_ready()  # a student who never got a stream must not hold the send forever
            if stream is not None:
                await stream.close()


async def teacher(
    url: str, stats: Stats, password: str, cls: dict[str, Any], delivery: Delivery, ramp: float, deadline: float
) -> None:
    lesson_id = cls["lesson_id"]
    expected = len(cls["students"])

    def on_event(kind: str, data: str, t: float) -> None:
        if kind == "submission.added":
            delivery.submissions_seen += 1
            if delivery.submissions_seen >= expected and delivery.box_full_after is None:
                delivery.box_full_after = t - delivery.acked

    async with new_client(url) as client:
        page = await stats.request(client, "login_page", "GET", "/accounts/login/", (200,))
        if page is None:
            return
        done = await stats.request(
            client,
            "login_staff",
            "POST",
            "/accounts/login/",
            (302,),
            data={"csrfmiddlewaretoken": csrf_of(page.text), "login": cls["teacher"], "password": password},
            headers={"Referer": url + "/accounts/login/"},
        )
        if done is None:
            return
        lesson = await stats.request(client, "teacher_lesson_page", "GET", f"/lessons/{lesson_id}/", (200,))
        if lesson is None:
            return
        csrf = csrf_of(lesson.text)
        since = SINCE.search(lesson.text)
        stream = EventStream(
            client, f"/events/lesson/{lesson_id}/" + (f"?since={since.group(1)}" if since else ""), on_event, stats
        )
        try:
            await stream.connected.wait()
            # The bell: the teacher sends once the class is in (or the ramp plus a grace period is over).
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(delivery.all_ready.wait(), timeout=ramp + 30)
            delivery.request_started = time.monotonic()
            sent = await stats.request(
                client,
                "send_card",
                "POST",
                f"/lessons/{lesson_id}/send/",
                (302,),
                data={"csrfmiddlewaretoken": csrf, "cards": str(cls["card_id"]), "to": "class"},
                headers={"Referer": url + f"/lessons/{lesson_id}/"},
            )
            delivery.acked = time.monotonic()
            delivery.sent.set()
            if sent is None:
                return
            # Watch the box fill: the stream counts submissions, the page is reloaded every 3 s.
            while time.monotonic() < deadline and delivery.submissions_seen < expected:
                await asyncio.sleep(3)
                await stats.request(client, "teacher_watch", "GET", f"/lessons/{lesson_id}/", (200,))
        finally:
            await stream.close()


async def closed_loop(url: str, path: str, cookies: dict[str, str], concurrency: int, seconds: float) -> dict[str, Any]:
    """`concurrency` clients each sending the next request as soon as the last one is answered."""
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, cookies=cookies, limits=limits, timeout=30) as client:
        stop_at = time.monotonic() + seconds

        async def worker() -> None:
            nonlocal errors
            while time.monotonic() < stop_at:
                start = time.perf_counter()
                try:
                    response = await client.get(path)
                    if response.status_code != 200:
                        errors += 1
                        continue
                except httpx.HTTPError:
                    errors += 1
                    continue
                latencies.append(time.perf_counter() - start)

        began = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        took = time.monotonic() - began
    return {
        "requests": len(latencies),
        "errors": errors,
        "req_per_s": round(len(latencies) / took, 1),
        "p50_ms": _ms(pct(latencies, 50)),
        "p99_ms": _ms(pct(latencies, 99)),
    }


WRK_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
WRK_TOTAL = re.compile(r"(\d+) requests in")
WRK_NON2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")
WRK_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


def _wrk_ms(text: str, percent: int) -> float | None:
    match = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    if not match:
        return None
    value, unit = float(match.group(1)), match.group(2)
    return round(value / 1000 if unit == "us" else value * 1000 if unit == "s" else value, 1)


async def wrk_loop(url: str, path: str, cookies: dict[str, str], concurrency: int, seconds: float) -> dict[str, Any]:
    """The same closed loop with wrk (C, 2 threads): the Python client cannot load a fast server."""
    cmd = ["wrk", "-c", str(concurrency), "-t", "2", "-d", f"{max(1, round(seconds))}s", "--latency"]
    cmd += ["--timeout", "10s"]
    if cookies:
        cmd += ["-H", "Cookie: " + "; ".join(f"{k}={v}" for k, v in cookies.items())]
    proc = await asyncio.create_subprocess_exec(
        *cmd, url + path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out = (await asyncio.wait_for(proc.communicate(), timeout=seconds + 60))[0].decode(errors="replace")
    total = WRK_TOTAL.search(out)
    rps = WRK_RPS.search(out)
    non2xx = WRK_NON2XX.search(out)
    sock = WRK_SOCKET.search(out)
    errors = (int(non2xx.group(1)) if non2xx else 0) + (sum(int(x) for x in sock.groups()) if sock else 0)
    return {
        "tool": "wrk",
        "requests": int(total.group(1)) if total else 0,
        "errors": errors,
        "req_per_s": float(rps.group(1)) if rps else 0.0,
        "p50_ms": _wrk_ms(out, 50),
        "p99_ms": _wrk_ms(out, 99),
    }


async def measure_server(
    server: Server, path: str, cookies: dict[str, str], concurrency: int, seconds: float
) -> dict[str, Any]:
    sampler = ProcessSampler(server.pid)
    cpu0, _ = sampler.read()
    if shutil.which("wrk"):
        result = await wrk_loop(server.url, path, cookies, concurrency, seconds)
    else:
        result = await closed_loop(server.url, path, cookies, concurrency, seconds)
        result["tool"] = "httpx (client-bound: figures are a lower bound)"
    cpu1, rss = sampler.read()
    result["server_cpu_us_per_req"] = round((cpu1 - cpu0) / max(1, result["requests"]) * 1e6)
    result["server_rss_mib"] = round(rss / 2**20, 1)
    return result


async def run_bell(server: Server, data: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    stats = Stats()
    password, school = data["password"], data["school_code"]
    started = time.monotonic()
    deadline = started + args.max_seconds
    deliveries = {cls["lesson_id"]: Delivery(cls["lesson_id"], len(cls["students"])) for cls in data["classes"]}
    outcome = {"completed": 0, "lost_events": 0}
    rng = random.Random(args.seed)  # noqa: S311 - arrival times, not secrets
    sampler = ProcessSampler(server.pid)
    cpu0, _ = sampler.read()
    client_cpu0 = sum(os.times()[:2])
    sampler.start()
    client_sampler = ProcessSampler(os.getpid())
    client_sampler.start()
    lag = LoopLag()
    lag.start()
    tasks = []
    for cls in data["classes"]:
        delivery = deliveries[cls["lesson_id"]]
        tasks.append(teacher(server.url, stats, password, cls, delivery, args.ramp, deadline))
        for pupil in cls["students"]:
            use_qr = rng.random() < args.qr_share
            tasks.append(
                student(
                    server.url,
                    stats,
                    school,
                    password,
                    cls,
                    pupil,
                    delivery,
                    rng.uniform(0, args.ramp),
                    use_qr,
                    deadline,
                    outcome,
                )
            )
    try:
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=args.max_seconds + 15)
        timed_out = False
    except TimeoutError:
        timed_out = True
    took = time.monotonic() - started
    await sampler.stop()
    await client_sampler.stop()
    client_lag = await lag.stop()
    cpu1, _ = sampler.read()
    students = sum(len(c["students"]) for c in data["classes"])
    per_class = {}
    all_latencies: list[float] = []
    all_after_ack: list[float] = []
    for lesson_id, d in deliveries.items():
        # From the moment the teacher's send request left: the events are published when the
        # transaction commits, so streams usually have them before the teacher has the answer.
        lat = [t - d.request_started for t in d.received] if d.acked else []
        after_ack = [t - d.acked for t in d.received] if d.acked else []
        all_latencies += lat
        all_after_ack += after_ack
        per_class[str(lesson_id)] = {
            "received": len(d.received),
            "expected": d.expected,
            "p50_ms": _ms(pct(lat, 50)),
            "p99_ms": _ms(pct(lat, 99)),
            "last_ms": _ms(max(lat) if lat else None),
            "last_after_ack_ms": _ms(max(after_ack) if after_ack else None),
            "before_ack": sum(1 for x in after_ack if x <= 0),
            "send_request_ms": _ms(d.acked - d.request_started) if d.acked else None,
            "box_full_after_s": round(d.box_full_after, 2) if d.box_full_after is not None else None,
        }
    requests = sum(len(v) for v in stats.latencies.values())
    return {
        "scenario": "bell",
        "classes": len(data["classes"]),
        "students": students,
        "ramp_s": args.ramp,
        "qr_share": args.qr_share,
        "duration_s": round(took, 1),
        "timed_out": timed_out,
        "requests": requests,
        "req_per_s": round(requests / took, 1),
        "errors": sum(stats.errors.values()),
        "error_samples": stats.error_samples,
        "completed_students": outcome["completed"],
        "lost_events": outcome["lost_events"],
        "per_request": stats.table(took),
        "delivery": {
            "measured_from": "the teacher's send request leaving the client",
            "p50_ms": _ms(pct(all_latencies, 50)),
            "p99_ms": _ms(pct(all_latencies, 99)),
            "last_after_ack_ms": _ms(max(all_after_ack) if all_after_ack else None),
            "before_ack": sum(1 for x in all_after_ack if x <= 0),
            "received": len(all_latencies),
            "expected": students,
            "per_class": per_class,
        },
        "server": {
            "cpu_s": round(cpu1 - cpu0, 1),
            "cpu_share_of_one_core": round((cpu1 - cpu0) / took, 2),
            "peak_cores_2s": sampler.peak_cores(),
            "peak_rss_mib": round(sampler.peak_rss / 2**20, 1),
        },
        "argon2_hash_ms": data.get("argon2_hash_ms"),
        "client_cpu_s": round(sum(os.times()[:2]) - client_cpu0, 1),
        "client_peak_cores_2s": client_sampler.peak_cores(),
        "client_loop_lag": client_lag,
    }


async def logged_in_cookies(server: Server, data: dict[str, Any]) -> dict[str, str]:
    """A fresh student session on classnote, for the closed-loop comparison."""
    cls = data["classes"][0]
    async with new_client(server.url) as client:
        page = await client.get("/login/card/")
        response = await client.post(
            "/login/card/",
            data={"csrfmiddlewaretoken": csrf_of(page.text), "token": cls["students"][0]["token"]},
            headers={"Referer": server.url + "/login/card/"},
        )
        if response.status_code != 302:
            raise RuntimeError(f"login for the comparison failed: HTTP {response.status_code}")
        return dict(client.cookies.items())


def start_floor(work: Path) -> tuple[Server, dict[str, str]]:
    """bench/serving's stand-in (same middleware stack, dispatcher C, 4 WSGI threads, SQLite WAL)."""
    env = clean_env(
        BENCH_DB=str(work / "floor.sqlite3"),
        PYTHONPATH=str(SERVING),
        PYTHONDONTWRITEBYTECODE="1",
        BENCH_CONN_MAX_AGE="600",
        BENCH_WSGI_THREADS="4",
    )
    key = subprocess.run(
        [sys.executable, str(SERVING / "setup_db.py")],
        env=env,
        cwd=SERVING,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout.strip()
    port = free_port()
    cmd = [sys.executable, "-m", "uvicorn", "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--no-access-log", "--log-level", "warning", "dispatch:application"]
    return launch("floor", cmd, env, SERVING, work / "floor.log", "/min/"), {"sessionid": key}


def start_hello(work: Path) -> Server:
    port = free_port()
    cmd = [sys.executable, "-m", "uvicorn", "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--no-access-log", "--log-level", "warning", "hello:app"]
    return launch("hello", cmd, clean_env(PYTHONPATH=str(SERVING)), SERVING, work / "hello.log", "/")


# --- report --------------------------------------------------------------------------------------


def markdown(result: dict[str, Any]) -> str:
    lines = []
    m = result["machine"]
    lines.append(
        f"### classroom benchmark — {m['date_utc']} UTC, {m['cpus']} CPUs, load {m['loadavg_1_5_15']} (before)"
    )
    for bell in result["runs"]:
        d = bell["delivery"]
        lines += [
            "",
            f"**bell**: {bell['classes']} classes × 40 = {bell['students']} students, ramp {bell['ramp_s']} s, "
            f"QR share {bell['qr_share']}; {bell['duration_s']} s, {bell['requests']} requests "
            f"({bell['req_per_s']}/s), errors {bell['errors']}, lost events {bell['lost_events']}, "
            f"completed {bell['completed_students']}/{bell['students']}; server CPU "
            f"{bell['server']['cpu_s']} s ({bell['server']['cpu_share_of_one_core']} cores on average, "
            f"{bell['server']['peak_cores_2s']} at the busiest 2 s), peak RSS "
            f"{bell['server']['peak_rss_mib']} MiB; client CPU {bell['client_cpu_s']} s "
            f"({bell['client_peak_cores_2s']} cores at its busiest 2 s, event-loop lag p99 "
            f"{bell['client_loop_lag']['p99_ms']} ms, max {bell['client_loop_lag']['max_ms']} ms); "
            f"Argon2 hash {bell['argon2_hash_ms']} ms",
            "",
            "| request | count | errors | p50 ms | p95 ms | p99 ms | max ms |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for kind, row in bell["per_request"].items():
            lines.append(
                f"| {kind} | {row['count']} | {row['errors']} | {row['p50_ms']} | {row['p95_ms']} | "
                f"{row['p99_ms']} | {row['max_ms']} |"
            )
        lines += [
            "",
            f"Card delivery (teacher's send request leaves → student's stream has the card): p50 {d['p50_ms']} ms, "
            f"p99 {d['p99_ms']} ms, {d['received']}/{d['expected']} received, {d['before_ack']} of them before "
            f"the teacher had the answer; last one {d['last_after_ack_ms']} ms after the answer.",
            "",
            "| lesson | received | p50 ms | p99 ms | last ms | send request ms | last after ack ms | box full s |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for lesson, row in d["per_class"].items():
            lines.append(
                f"| {lesson} | {row['received']}/{row['expected']} | {row['p50_ms']} | {row['p99_ms']} | "
                f"{row['last_ms']} | {row['send_request_ms']} | {row['last_after_ack_ms']} | "
                f"{row['box_full_after_s']} |"
            )
    cmp = result.get("comparison")
    if cmp:
        lines += [
            "",
            f"**Closed loop, {cmp['concurrency']} connections × {cmp['seconds']} s each** "
            f"({cmp['classnote']['tool']}, same box, one after the other):",
            "",
            "| target | req/s | p50 ms | p99 ms | errors | server CPU µs/req | ratio to floor | ratio to ceiling |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        floor = cmp["floor"]["req_per_s"] or 1
        ceiling = cmp["ceiling"]["req_per_s"] or 1
        for name, label in (
            ("classnote", f"classnote `{cmp['classnote_path']}` (student's lesson page)"),
            ("classnote_home", "classnote `/home/` (student)"),
            ("floor", "bare authenticated Django (bench/serving `/auth/`, dispatcher C)"),
            ("ceiling", "raw ASGI hello (uvicorn)"),
        ):
            row = cmp[name]
            lines.append(
                f"| {label} | {row['req_per_s']} | {row['p50_ms']} | {row['p99_ms']} | {row['errors']} | "
                f"{row['server_cpu_us_per_req']} | {row['req_per_s'] / floor:.2f} | {row['req_per_s'] / ceiling:.3f} |"
            )
    return "\n".join(lines) + "\n"


# --- main ----------------------------------------------------------------------------------------


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.classroom", description=__doc__)
    parser.add_argument("--scenario", choices=["bell", "broadcast", "steady"], default="bell")
    parser.add_argument("--classes", type=int, nargs="+", default=[5], help="K (several: one run each)")
    parser.add_argument("--ramp", type=float, default=30.0, help="students arrive uniformly within this (s)")
    parser.add_argument("--qr-share", type=float, default=0.5, help="share of students logging in by QR card")
    parser.add_argument("--max-seconds", type=float, default=240.0, help="hard bound of one bell run")
    parser.add_argument("--compare-seconds", type=float, default=10.0, help="each closed-loop comparison (0: skip)")
    parser.add_argument("--concurrency", type=int, default=32, help="connections of the closed-loop comparison")
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--out", type=Path, default=None, help="result JSON (default: a temp dir)")
    parser.add_argument("--work", type=Path, default=None, help="where homes and logs go (default: a temp dir)")
    parser.add_argument("--quick", action="store_true", help="CI: 2 classes, 10 s ramp, 3 s comparisons")
    parser.add_argument(
        "--base-url",
        default="",
        help="load a server started elsewhere (e.g. bench/scaleout.sh) instead of starting one; "
        "the data are then written with --setup-env, and there is no floor/ceiling comparison",
    )
    parser.add_argument(
        "--setup-env",
        nargs="*",
        default=[],
        metavar="NAME=VALUE",
        help="environment of the data setup with --base-url (DATABASE_URL=..., SECRET_KEY=..., ...)",
    )
    parser.add_argument("--server-pid", type=int, default=0, help="with --base-url: the process to sample")
    args = parser.parse_args(argv)
    if args.quick:
        args.classes, args.ramp, args.compare_seconds, args.max_seconds = [2], 10.0, 3.0, 90.0
    if args.base_url:
        args.compare_seconds = 0.0
    return args


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def amain(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    result: dict[str, Any] = {"machine": machine(), "args": {k: str(v) for k, v in vars(args).items()}, "runs": []}
    comparison_done = False
    for k in args.classes:
        home = work / f"home-k{k}"
        began = time.monotonic()
        setup_env = dict(pair.split("=", 1) for pair in args.setup_env)
        data = setup_data(home, k, setup_env)
        print(f"[bench] K={k}: data ready in {time.monotonic() - began:.1f} s", flush=True)
        if args.base_url:
            server = Server("external", args.base_url.rstrip("/"), None, home / "server.log", args.server_pid)
        else:
            server = start_classnote(home)
        try:
            bell = await run_bell(server, data, args)
            bell["load_after"] = [round(x, 2) for x in os.getloadavg()]
            result["runs"].append(bell)
            print(
                f"[bench] K={k}: {bell['requests']} requests, errors {bell['errors']}, "
                f"lost {bell['lost_events']}, delivery p99 {bell['delivery']['p99_ms']} ms",
                flush=True,
            )
            if args.compare_seconds > 0 and not comparison_done:
                comparison_done = True
                path = f"/lessons/{data['classes'][0]['lesson_id']}/"
                cookies = await logged_in_cookies(server, data)
                cmp: dict[str, Any] = {
                    "concurrency": args.concurrency,
                    "seconds": args.compare_seconds,
                    "classnote_path": path,
                }
                cmp["classnote"] = await measure_server(server, path, cookies, args.concurrency, args.compare_seconds)
                cmp["classnote_home"] = await measure_server(
                    server, "/home/", cookies, args.concurrency, args.compare_seconds
                )
        finally:
            server.stop()
        if comparison_done and "comparison" not in result:
            floor, floor_cookies = start_floor(work)
            try:
                cmp["floor"] = await measure_server(
                    floor, "/auth/", floor_cookies, args.concurrency, args.compare_seconds
                )
            finally:
                floor.stop()
            hello = start_hello(work)
            try:
                cmp["ceiling"] = await measure_server(hello, "/", {}, args.concurrency, args.compare_seconds)
            finally:
                hello.stop()
            floor_rps = cmp["floor"]["req_per_s"] or 1
            cmp["ratio_to_floor"] = round(cmp["classnote"]["req_per_s"] / floor_rps, 3)
            cmp["home_ratio_to_floor"] = round(cmp["classnote_home"]["req_per_s"] / floor_rps, 3)
            cmp["ratio_to_ceiling"] = round(cmp["classnote"]["req_per_s"] / (cmp["ceiling"]["req_per_s"] or 1), 4)
            result["comparison"] = cmp
    return result


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse(argv)
    if args.scenario != "bell":
        raise SystemExit(f"scenario {args.scenario!r} is not implemented yet (see bench/classroom/README.md)")
    raise_fd_limit()
    work = args.work or Path(tempfile.mkdtemp(prefix="classnote-classroom-"))
    work.mkdir(parents=True, exist_ok=True)
    result = asyncio.run(amain(args, work))
    out = args.out or work / "result.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(markdown(result))
    print(f"[bench] result: {out}; logs and homes: {work}", flush=True)
    return result


if __name__ == "__main__":
    main()
