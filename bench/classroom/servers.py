"""Servers of the classroom benchmark: classnote itself (a fresh CLASSNOTE_HOME, the embedded
default), the framework's floor and the stack's ceiling for the comparison, and the two helper
scripts run with the data setup's environment (setup_data.py before a run, verify.py after)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
SERVING = ROOT / "bench" / "serving"


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
    pid: int = 0  # the process started here (0: none)
    pids: list[int] = field(default_factory=list)  # whose CPU and memory are sampled (empty: none)

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
    server = Server(name, f"http://127.0.0.1:{port}", process, log, process.pid, [process.pid])
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
    # No status prober of its own (about 0.4 CPU-seconds a minute, docs/performance.md *Status
    # prober*): the figures stay comparable with the runs before it existed.
    env = clean_env(
        CLASSNOTE_HOME=str(home), CLASSNOTE_ENV="development", LOG_LEVEL="warning", STATUS_PROBE_SCHEDULED="false"
    )
    port = free_port()
    cmd = [sys.executable, "-m", "classnote", "serve", "--port", str(port), "--no-migrate"]
    return launch("classnote", cmd, env, ROOT, home / "server.log", "/healthz")


def setup_env(home: Path, extra_env: dict[str, str]) -> dict[str, str]:
    """The environment of setup_data.py and verify.py: the run's home, or the server's (--setup-env)."""
    env = clean_env(CLASSNOTE_HOME=str(home), CLASSNOTE_ENV="development", LOG_LEVEL="warning")
    env.update(extra_env)
    return env


def setup_data(home: Path, classes: int, per_class: int, extra_env: dict[str, str]) -> dict[str, Any]:
    """One school, `classes` classes of `per_class` students (broadcast: one class of N)."""
    out = home / "setup.json"
    home.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "-m", "bench.classroom.setup_data", str(classes), str(per_class), str(out)],
        env=setup_env(home, extra_env),
        cwd=ROOT,
        check=True,
        timeout=600,
    )
    return dict(json.loads(out.read_text(encoding="utf-8")))


def verify(home: Path, extra_env: dict[str, str], school_code: str, acked: dict[str, int], tag: str) -> dict[str, Any]:
    """Acknowledged submissions against what the database holds (verify.py, the setup's environment)."""
    wanted = home / f"verify-{tag}.json"
    wanted.write_text(json.dumps({"school_code": school_code, "acked": acked}), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "bench.classroom.verify", str(wanted)],
        env=setup_env(home, extra_env),
        cwd=ROOT,
        check=True,
        timeout=300,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


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
