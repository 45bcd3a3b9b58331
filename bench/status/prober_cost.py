"""What the status prober costs in CPU (issue 15; docs/performance.md, *Status prober*).

    .venv/bin/python -m bench.status.prober_cost                # 3 minutes per phase
    .venv/bin/python -m bench.status.prober_cost --minutes 5

Three phases against a fresh `classnote serve` (embedded default, a CLASSNOTE_HOME of its own under
/tmp, no other traffic):

1. idle: the server with the scheduled prober off (STATUS_PROBE_SCHEDULED=false);
2. separate: `classnote probe --every 60` as a process of its own against it; measured from the end
   of the prober's first round (so its start-up is not counted), the prober's CPU and the server's;
3. embedded: a second server with the scheduled prober on (its first round done before measuring).

CPU is user + system time of each process and all its threads, from /proc/<pid>/stat, divided by
the minutes measured. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def environment(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CLASSNOTE_", "STATUS_"))}
    for name in ("DATABASE_URL", "REDIS_URL"):
        env.pop(name, None)
    env.update({"CLASSNOTE_HOME": str(home), "CLASSNOTE_ENV": "development", "LOG_LEVEL": "warning", **extra})
    return env


def serve(home: Path, scheduled: bool) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    home.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [sys.executable, "-m", "classnote", "serve", "--port", str(port)],
        env=environment(home, STATUS_PROBE_SCHEDULED="true" if scheduled else "false"),
        stdout=(home / "serve.log").open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    process.kill()
    raise SystemExit("the server did not start")


def stop(process: subprocess.Popen[Any]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def per_minute(pid: int, minutes: float) -> float:
    before = cpu_seconds(pid)
    time.sleep(minutes * 60)
    return round((cpu_seconds(pid) - before) / minutes, 3)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=3)
    args = parser.parse_args()
    minutes = args.minutes
    result: dict[str, Any] = {"minutes_per_phase": minutes, "cpu_seconds_per_minute": {}}
    cpu = result["cpu_seconds_per_minute"]
    with tempfile.TemporaryDirectory(prefix="classnote-prober-cost-") as tmp:
        root = Path(tmp)
        server, url = serve(root / "a", scheduled=False)
        try:
            env = environment(root / "a", STATUS_PROBE_SCHEDULED="false")
            credentials = root / "probe.json"
            subprocess.run(
                [sys.executable, "-m", "classnote", "probe", "setup", "--name", "bench", "--credentials", credentials],
                env=env,
                check=True,
                capture_output=True,
                timeout=120,
            )
            time.sleep(10)  # the server settles after start-up
            cpu["server_idle"] = per_minute(server.pid, minutes)
            command = [sys.executable, "-m", "classnote", "probe", "--url", url, "--every", "60"]
            command += ["--credentials", str(credentials), "--name", "bench"]
            prober = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            try:
                assert prober.stdout is not None
                first = prober.stdout.readline()  # the first round is done: start-up not counted
                result["first_round"] = first.strip()
                server_before, prober_before = cpu_seconds(server.pid), cpu_seconds(prober.pid)
                time.sleep(minutes * 60)
                cpu["server_with_separate_prober"] = round((cpu_seconds(server.pid) - server_before) / minutes, 3)
                cpu["separate_prober_process"] = round((cpu_seconds(prober.pid) - prober_before) / minutes, 3)
            finally:
                stop(prober)
        finally:
            stop(server)
        server, url = serve(root / "b", scheduled=True)
        try:
            time.sleep(75)  # the first scheduled round (tenant, credentials, Argon2 hashes) is done
            cpu["server_with_embedded_prober"] = per_minute(server.pid, minutes)
        finally:
            stop(server)
    cpu["separate_prober_cost_on_server"] = round(cpu["server_with_separate_prober"] - cpu["server_idle"], 3)
    cpu["embedded_prober_cost"] = round(cpu["server_with_embedded_prober"] - cpu["server_idle"], 3)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
