"""/home/ of another municipality while a pupil has drawings rendered (issue 12, finding 1).

    .venv/bin/python -m bench.render.load                       # this checkout, the dearest drawing at the budget
    .venv/bin/python -m bench.render.load --root /work/main     # another checkout (e.g. before the fix)
    .venv/bin/python -m bench.render.load --root /work/main --card probe   # the probe's own drawing

Starts `classnote serve` of the checkout ROOT (its own .venv) on a free 127.0.0.1 port with a fresh
CLASSNOTE_HOME under /tmp, after bench/render/setup_data.py made two municipalities: a pupil of A with
drawing cards, a teacher of B. Then, for each wrk connection count: `wrk --latency` on B's /home/ for
--duration seconds, once alone and once while --renderers clients of the pupil each ask for the
full-size picture of a drawing never rendered before (a fresh card each time, so nothing is cached),
asking again after 1, 2, 4, 8 s while the answer is a placeholder, as the page does (app.js) — so
that this many renders are always in flight. The server's CPU time per finished picture is read from /proc. Everything the
script starts is stopped on exit; only 127.0.0.1 is used.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CLASSNOTE_", "BENCH_"))}
    for name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "S3_BUCKET"):
        env.pop(name, None)
    env.update(PYTHONDONTWRITEBYTECODE="1", CLASSNOTE_ENV="development", LOG_LEVEL="warning", **extra)
    return env


def strokes_of(kind: str) -> list[dict[str, Any]]:
    if kind == "tiny":
        return [{"c": "#d32f2f", "w": 6, "e": False, "p": [[100, 100], [500, 400], [900, 100]]}]
    if kind == "probe":
        import random

        rng = random.Random(12)
        return [
            {
                "c": "#123456",
                "w": 60,
                "e": i % 2 == 1,
                "p": [[rng.randint(0, 1000), rng.randint(0, 750)] for _ in range(400)],
            }
            for i in range(500)
        ]
    from bench.render.cost import _at_budget, _kinds

    kinds = _kinds()
    name = {"budget": "two-point vertical strokes, 2 wide"}.get(kind, kind)
    return _at_budget(kinds[name], list(kinds).index(name))


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime of the server process


def login(url: str, path: str, form: dict[str, str]) -> httpx.Client:
    client = httpx.Client(base_url=url, follow_redirects=False, timeout=120)
    page = client.get(path)
    match = CSRF.search(page.text)
    assert match, f"no CSRF token on {path}"
    answer = client.post(path, data={"csrfmiddlewaretoken": match.group(1), **form}, headers={"Referer": url + path})
    assert answer.status_code == 302, (path, answer.status_code, answer.text[:300])
    return client


@dataclass
class Renders:
    """Clients of the pupil asking for pictures of fresh drawings, one at a time each."""

    url: str
    cookies: httpx.Cookies
    cards: list[int]
    clients: int
    pause: float = 1.0  # the first pause after a placeholder, doubled each time (app.js)
    stop: threading.Event = field(default_factory=threading.Event)
    done: list[float] = field(default_factory=list)  # seconds from first ask to the picture
    placeholders: int = 0
    errors: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _next: int = 0

    def _card(self) -> int | None:
        with self._lock:
            if self._next >= len(self.cards):
                return None
            self._next += 1
            return self.cards[self._next - 1]

    def _run(self) -> None:
        with httpx.Client(base_url=self.url, cookies=self.cookies, timeout=300) as client:
            while not self.stop.is_set():
                card = self._card()
                if card is None:
                    self.errors.append("ran out of fresh cards")
                    return
                began = time.monotonic()
                tries = 0
                while not self.stop.is_set():
                    answer = client.get(f"/cards/{card}/image/")
                    if answer.status_code == 200:
                        self.done.append(time.monotonic() - began)
                        break
                    if answer.status_code == 202:  # the placeholder: again later, as app.js does
                        with self._lock:
                            self.placeholders += 1
                        self.stop.wait(min(8.0, 2.0**tries * self.pause))
                        tries += 1
                        continue
                    self.errors.append(f"{answer.status_code} for card {card}")
                    return

    def __enter__(self) -> Renders:
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(self.clients)]
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=600)


def wrk(url: str, cookie: str, connections: int, seconds: int) -> dict[str, Any]:
    command = [
        "wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "60s",
        "-H", f"Cookie: {cookie}", f"{url}/home/",
    ]  # fmt: skip
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120, check=True).stdout

    def latency(label: str) -> float | None:
        match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not match:
            return None
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    requests = re.search(r"(\d+) requests in", out)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    timeouts = re.search(r"timeout (\d+)", out)
    return {
        "requests": int(requests.group(1)) if requests else 0,
        "p50": latency("50"),
        "p90": latency("90"),
        "p99": latency("99"),
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "timeouts": int(timeouts.group(1)) if timeouts else 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to serve (its .venv is used)")
    parser.add_argument(
        "--card",
        default="budget",
        help="budget (the dearest drawing at the budget), probe, tiny, or a kind of bench.render.cost",
    )
    parser.add_argument("--cards", type=int, default=400, help="fresh drawing cards made for the run")
    parser.add_argument("--renderers", type=int, default=4)
    parser.add_argument("--connections", default="1,4", help="wrk connection counts, comma-separated")
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=1, help="alone / rendering pairs per connection count")
    parser.add_argument("--keep", action="store_true", help="keep the CLASSNOTE_HOME under /tmp")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the server (e.g. RENDER_WAIT_MS=0)")
    options = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk not found: apt-get install -y wrk")
    root = options.root.resolve()
    python = root / ".venv" / "bin" / "python"
    home = Path(tempfile.mkdtemp(prefix="classnote-render-load-"))
    env = clean_env(CLASSNOTE_HOME=str(home), **dict(item.split("=", 1) for item in options.env))
    revision = subprocess.run(["git", "-C", str(root), "log", "-1", "--format=%h %s"], capture_output=True, text=True)
    strokes_file = home / "strokes.json"
    strokes = strokes_of(options.card)
    strokes_file.write_text(json.dumps(strokes), encoding="utf-8")
    setup = home / "setup.json"
    subprocess.run(
        [str(python), str(HERE / "setup_data.py"), str(setup), str(strokes_file), str(options.cards)],
        env=env, cwd=root, check=True, timeout=600,
    )  # fmt: skip
    data = json.loads(setup.read_text(encoding="utf-8"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (home / "server.log").open("wb")
    server = subprocess.Popen(
        [str(python), "-m", "classnote", "serve", "--port", str(port), "--no-migrate"],
        env=env, cwd=root, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip

    def stop(*_args: object) -> None:
        if server.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(server.pid, signal.SIGKILL)
        if not options.keep:
            shutil.rmtree(home, ignore_errors=True)

    signal.signal(signal.SIGTERM, lambda *a: (stop(), sys.exit(1)))
    try:
        deadline = time.monotonic() + 120
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/healthz", timeout=2).status_code < 500:
                    break
            assert server.poll() is None and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.3)
        teacher = login(url, "/accounts/login/", {"login": data["teacher"], "password": data["password"]})
        pupil = login(url, "/login/student/", {**data["pupil"], "password": data["password"]})
        cookie = "; ".join(f"{name}={value}" for name, value in teacher.cookies.items())
        assert teacher.get("/home/").status_code == 200
        warm = Renders(url, pupil.cookies, data["cards"][:1], 1)
        with warm:  # the first render of a process draws the backgrounds once
            while not warm.done and not warm.errors:
                time.sleep(0.1)
        cards = data["cards"][1:]
        rows = []
        for connections in [int(c) for c in options.connections.split(",")] * options.rounds:
            alone = wrk(url, cookie, connections, options.duration)
            load = Renders(url, pupil.cookies, cards, options.renderers)
            cpu0 = cpu_seconds(server.pid)
            with load:
                time.sleep(1)  # the renders are under way
                busy = wrk(url, cookie, connections, options.duration)
            cpu1 = cpu_seconds(server.pid)
            cards = cards[load._next :]
            rows.append((connections, alone, busy, load, cpu1 - cpu0))
        print(
            f"\n{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, {os.cpu_count()} cores, "
            f"load average {os.getloadavg()[0]:.1f}; serving {root} ({revision.stdout.strip()[:80]})"
        )
        points = sum(len(s["p"]) for s in strokes)
        print(
            f"drawing: {options.card}, {len(strokes)} strokes, {points} points; {options.renderers} clients rendering\n"
        )
        print(
            "| wrk connections | /home/ alone p50 / p99 ms | /home/ while rendering p50 / p90 / p99 ms | requests | "
            "non-2xx / timeouts | pictures done | picture wait median / max s | placeholders | server CPU s |"
        )
        print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for connections, alone, busy, load, cpu in rows:
            waits = sorted(load.done)
            median = waits[len(waits) // 2] if waits else None
            print(
                f"| {connections} | {alone['p50']} / {alone['p99']} | {busy['p50']} / {busy['p90']} / {busy['p99']} | "
                f"{busy['requests']} | {busy['non_2xx']} / {busy['timeouts']} | {len(waits)} | "
                f"{median and round(median, 2)} / {waits and round(waits[-1], 2)} | {load.placeholders} | {cpu:.1f} |"
            )
            if load.errors:
                print(f"  errors: {load.errors[:3]}")
    finally:
        stop()


if __name__ == "__main__":
    main()
