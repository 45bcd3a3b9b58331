"""Serving-architecture benchmark for classnote (Django 5.2).

Starts each server configuration on 127.0.0.1, loads it with wrk, stops it,
and prints a markdown table. Run through ./run.sh (which makes the venv).

Rounds are interleaved across configurations (round 1 of every config, then
round 2, ...) so that background load on this shared box hits them alike.
Every server (and the SSE holder) runs in its own process group and is
killed by this script: on normal exit, on error, on SIGINT/SIGTERM and on
the global time limit (--max-minutes).
"""

import argparse
import json
import os
import re
import resource
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
VENV = Path(os.environ.get("BENCH_VENV", "/tmp/benchvenv"))
WORK = Path(os.environ.get("BENCH_WORK", "/tmp/classnote-serving-bench"))
HOST = "127.0.0.1"  # the only target, ever

UVICORN = [
    str(VENV / "bin/uvicorn"),
    "--host",
    HOST,
    "--loop",
    "uvloop",
    "--http",
    "httptools",
    "--no-access-log",
    "--log-level",
    "warning",
]
GRANIAN = [
    str(VENV / "bin/granian"),
    "--host",
    HOST,
    "--loop",
    "uvloop",
    "--http",
    "1",
    "--no-ws",
    "--log-level",
    "warning",
]


def uvicorn(app, workers, lifespan="on"):
    return lambda port: UVICORN + ["--port", str(port), "--workers", str(workers), "--lifespan", lifespan, app]


def granian(app, workers, interface, *extra):
    return lambda port: (
        GRANIAN + ["--interface", interface, "--port", str(port), "--workers", str(workers), *extra, app]
    )


ASGI_ENV = {"BENCH_CONN_MAX_AGE": "0"}  # Django: no persistent conns under ASGI
WSGI_ENV = {"BENCH_CONN_MAX_AGE": "600"}  # WSGI threads keep their SQLite conn
WSGI_ENV_T4 = dict(WSGI_ENV, BENCH_WSGI_THREADS="4")  # a2wsgi pool of 4 instead of 10

# (key, label, command factory, env, views, sse streams)
CONFIGS = [
    (
        "A-uv-1",
        "A uvicorn, Django ASGI, 1 worker",
        uvicorn("benchproj.asgi:application", 1, "off"),
        ASGI_ENV,
        ["min", "auth"],
        0,
    ),
    (
        "A-uv-2",
        "A uvicorn, Django ASGI, 2 workers",
        uvicorn("benchproj.asgi:application", 2, "off"),
        ASGI_ENV,
        ["min", "auth"],
        0,
    ),
    (
        "A-gr-1",
        "A granian asgi, Django ASGI, 1 worker",
        granian("benchproj.asgi:application", 1, "asginl"),
        ASGI_ENV,
        ["min", "auth"],
        0,
    ),
    (
        "A-gr-2",
        "A granian asgi, Django ASGI, 2 workers",
        granian("benchproj.asgi:application", 2, "asginl"),
        ASGI_ENV,
        ["min", "auth"],
        0,
    ),
    (
        "B-gr-1",
        "B granian wsgi, Django WSGI, 1 worker",
        granian("benchproj.wsgi:application", 1, "wsgi"),
        WSGI_ENV,
        ["min", "auth"],
        0,
    ),
    (
        "B-gr-2",
        "B granian wsgi, Django WSGI, 2 workers",
        granian("benchproj.wsgi:application", 2, "wsgi"),
        WSGI_ENV,
        ["min", "auth"],
        0,
    ),
    (
        "B-gr-2-bt4",
        "B granian wsgi, 2 workers, --blocking-threads 4",
        granian("benchproj.wsgi:application", 2, "wsgi", "--blocking-threads", "4"),
        WSGI_ENV,
        ["auth"],
        0,
    ),
    (
        "C-uv-1",
        "C uvicorn, dispatcher (a2wsgi), 1 worker",
        uvicorn("dispatch:application", 1),
        WSGI_ENV,
        ["min", "auth"],
        0,
    ),
    (
        "C-gr-1",
        "C granian asgi, dispatcher (a2wsgi), 1 worker",
        granian("dispatch:application", 1, "asgi"),
        WSGI_ENV,
        ["min", "auth"],
        0,
    ),
    (
        "C-uv-1-sse",
        "C uvicorn, dispatcher, 1 worker, +200 open SSE",
        uvicorn("dispatch:application", 1),
        WSGI_ENV,
        ["auth"],
        200,
    ),
    (
        "C-gr-1-sse",
        "C granian asgi, dispatcher, 1 worker, +200 open SSE",
        granian("dispatch:application", 1, "asgi"),
        WSGI_ENV,
        ["auth"],
        200,
    ),
    (
        "C-gr-1-t4",
        "C granian asgi, dispatcher, 1 worker, a2wsgi 4 threads",
        granian("dispatch:application", 1, "asgi"),
        WSGI_ENV_T4,
        ["auth"],
        0,
    ),
    (
        "C-uv-2",
        "C uvicorn, dispatcher (a2wsgi), 2 workers",
        uvicorn("dispatch:application", 2),
        WSGI_ENV,
        ["min", "auth"],
        0,
    ),
    (
        "C-gr-2",
        "C granian asgi, dispatcher (a2wsgi), 2 workers",
        granian("dispatch:application", 2, "asgi"),
        WSGI_ENV,
        ["min", "auth"],
        0,
    ),
    ("D-uv-1", "D uvicorn, raw ASGI hello, 1 worker", uvicorn("hello:app", 1), {}, ["hello"], 0),
    ("D-gr-1", "D granian asgi, raw ASGI hello, 1 worker", granian("hello:app", 1, "asgi"), {}, ["hello"], 0),
]

PATHS = {"min": "/min/", "auth": "/auth/", "hello": "/"}

_groups = []  # process-group ids we started and must stop


class Timeout(Exception):
    pass


def _on_signal(signum, frame):
    if signum == signal.SIGALRM:
        raise Timeout("global time limit reached")
    raise SystemExit(128 + signum)


def start(cmd, env, log_path):
    log = open(log_path, "ab")
    proc = subprocess.Popen(
        cmd, cwd=HERE, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
    )
    _groups.append(proc)
    return proc


def stop(proc, grace=8.0):
    if proc.poll() is None or _group_alive(proc.pid):
        for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 3.0)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline and _group_alive(proc.pid):
                proc.poll()
                time.sleep(0.1)
            if not _group_alive(proc.pid):
                break
    proc.poll()
    if proc in _groups:
        _groups.remove(proc)


def _group_pids(pgid):
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # fields[0] is state (field 3); pgrp is field 5 -> index 2
        if int(fields[2]) == pgid and fields[0] != "Z":
            pids.append(int(entry))
    return pids


def _group_alive(pgid):
    return bool(_group_pids(pgid))


def group_cpu_seconds(pgid):
    """utime+stime of every live process in the group (threads included)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in _group_pids(pgid):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except OSError:
            pass
    return total / ticks


def system_busy_seconds():
    """Busy CPU time of the whole machine (all cores), from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    user, nice, system, _idle, _iowait, _irq, _softirq, steal = v
    # irq/softirq left out: the benchmark's own loopback traffic is accounted there.
    return (user + nice + system + steal) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def other_load_pct(pgids, seconds):
    own0 = sum(group_cpu_seconds(g) for g in pgids)
    busy0, self0, t0 = system_busy_seconds(), time.process_time(), time.monotonic()
    time.sleep(seconds)
    own1 = sum(group_cpu_seconds(g) for g in pgids)
    busy1, self1, t1 = system_busy_seconds(), time.process_time(), time.monotonic()
    other = (busy1 - busy0) - (own1 - own0) - (self1 - self0)
    return max(0.0, 100 * other / ((t1 - t0) * os.cpu_count()))


def wait_quiet(args, pgids):
    """Wait (bounded by --quiet-wait seconds) until other processes leave the CPUs alone."""
    deadline = time.monotonic() + args.quiet_wait
    told = False
    while True:
        load = other_load_pct(pgids, 2.0)
        if load <= args.noisy_pct or time.monotonic() >= deadline:
            if told:
                print(f"   (other load now {load:.0f}%, going on)", flush=True)
            return
        if not told:
            print(
                f"   (other processes use {load:.0f}% of the machine; waiting up to {args.quiet_wait:.0f}s for quiet)",
                flush=True,
            )
            told = True


def measured_round(url, args, cookie, pgids):
    """One wrk round + CPU accounting.

    other_load_pct: CPU used on this machine by processes that are neither the
    server, the SSE holder, wrk nor this script, as % of all cores. This box is
    shared (other sessions build/test here), so a noisy round is repeated.
    """
    for attempt in range(1 + args.noisy_retries):
        wait_quiet(args, pgids)
        own0 = sum(group_cpu_seconds(g) for g in pgids)
        srv0 = group_cpu_seconds(pgids[0])
        busy0, kids0, self0, t0 = (system_busy_seconds(), children_cpu_seconds(), time.process_time(), time.monotonic())
        r = wrk(url, args.duration, args.connections, args.threads, cookie)
        busy1, kids1, self1, t1 = (system_busy_seconds(), children_cpu_seconds(), time.process_time(), time.monotonic())
        own1 = sum(group_cpu_seconds(g) for g in pgids)
        r["server_cpu_s"] = group_cpu_seconds(pgids[0]) - srv0
        r["cpu_us_per_req"] = 1e6 * r["server_cpu_s"] / max(1, r["requests"])
        r["wrk_cpu_s"] = kids1 - kids0
        other = (busy1 - busy0) - (own1 - own0) - r["wrk_cpu_s"] - (self1 - self0)
        r["other_load_pct"] = max(0.0, 100 * other / ((t1 - t0) * os.cpu_count()))
        r["attempt"] = attempt + 1
        if r["other_load_pct"] <= args.noisy_pct or attempt == args.noisy_retries:
            return r
        print(
            f"   (round disturbed: other load {r['other_load_pct']:.0f}% of the machine, "
            f"{r['rps']:.0f} req/s; repeating)",
            flush=True,
        )
    return r


def wait_ready(port, proc, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None and not _group_alive(proc.pid):
            raise RuntimeError("server exited during startup")
        try:
            r = httpx.get(f"http://{HOST}:{port}/min/", timeout=1.0)
            if r.status_code in (200, 404):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("server not ready in time")


def check_endpoints(port, cookie, views, sse):
    base = f"http://{HOST}:{port}"
    if "hello" in views:
        r = httpx.get(base + "/", timeout=5)
        assert r.status_code == 200, r.status_code
        return
    r = httpx.get(base + "/min/", timeout=5)
    assert r.status_code == 200 and r.json() == {"ok": True}, (r.status_code, r.text[:200])
    r = httpx.get(base + "/auth/", headers={"Cookie": cookie}, timeout=5)
    assert r.status_code == 200 and r.json()["user"] == "bench", (r.status_code, r.text[:200])
    r = httpx.get(base + "/auth/", timeout=5)
    assert r.status_code == 401, r.status_code
    if sse is not None:  # dispatcher: the async SSE route must stream
        with httpx.stream("GET", base + "/events/?interval=0.2&n=3", headers={"Cookie": cookie}, timeout=10) as r:
            assert r.status_code == 200, r.status_code
            assert r.headers["content-type"].startswith("text/event-stream")
            body = "".join(r.iter_text())
        assert body.count("event: tick") == 3, body


WRK_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
WRK_P99 = re.compile(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", re.M)
WRK_REQS = re.compile(r"(\d+) requests in")
WRK_NON2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")
WRK_SOCKERR = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


def wrk(url, seconds, conns, threads, cookie=None):
    cmd = ["wrk", "-c", str(conns), "-t", str(threads), "-d", f"{seconds}s", "--latency", "--timeout", "5s"]
    if cookie:
        cmd += ["-H", f"Cookie: {cookie}"]
    cmd.append(url)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30).stdout
    rps = float(WRK_RPS.search(out).group(1))
    m = WRK_P99.search(out)
    p99 = float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
    reqs = int(WRK_REQS.search(out).group(1))
    non2xx = int(m.group(1)) if (m := WRK_NON2XX.search(out)) else 0
    sockerr = sum(map(int, m.groups())) if (m := WRK_SOCKERR.search(out)) else 0
    return {"rps": rps, "p99_ms": p99, "requests": reqs, "non2xx": non2xx, "socket_errors": sockerr, "raw": out}


def run_once(cfg, port, args, cookie, base_env, results, rnd):
    """Start one configuration, measure one round of each of its views, stop it."""
    key, label, factory, extra_env, views, sse = cfg
    env = dict(base_env, **extra_env)
    log_path = WORK / f"server-{key}.log"
    print(f"\n## round {rnd + 1}: {label}  (port {port})", flush=True)
    proc = start(factory(port), env, log_path)
    holder = None
    try:
        wait_ready(port, proc)
        is_dispatch = key.startswith("C")
        check_endpoints(port, cookie, views, 0 if is_dispatch else None)
        if is_dispatch and rnd == 0:
            print("   SSE via dispatcher: OK (3 events streamed)", flush=True)
        if sse:
            ready = WORK / f"sse-ready-{key}"
            stopf = WORK / f"sse-stop-{key}"
            ready.unlink(missing_ok=True)
            stopf.unlink(missing_ok=True)
            holder_out = WORK / f"sse-{key}-{rnd}.json"
            holder = subprocess.Popen(
                [
                    sys.executable,
                    str(HERE / "sse_hold.py"),
                    "--base",
                    f"http://{HOST}:{port}",
                    "--cookie",
                    cookie,
                    "-n",
                    str(sse),
                    "--interval",
                    str(args.sse_interval),
                    "--ready-file",
                    str(ready),
                    "--stop-file",
                    str(stopf),
                    "--max-seconds",
                    str(len(views) * (args.duration + args.warmup + args.quiet_wait) + 60),
                ],
                cwd=HERE,
                env=env,
                stdout=open(holder_out, "w"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            _groups.append(holder)
            deadline = time.monotonic() + 45
            while not ready.exists() and time.monotonic() < deadline and holder.poll() is None:
                time.sleep(0.2)
            print(f"   SSE holder: {ready.read_text() if ready.exists() else '?'}/{sse} streams open", flush=True)
        pgids = [proc.pid] + ([holder.pid] if holder else [])
        for view in views:
            url = f"http://{HOST}:{port}{PATHS[view]}"
            c = cookie if view == "auth" else None
            if args.warmup:
                wrk(url, args.warmup, args.connections, args.threads, c)
            r = measured_round(url, args, c, pgids)
            (WORK / f"wrk-{key}-{view}-{rnd}.txt").write_text(r.pop("raw"))
            entry = results.setdefault((key, view), {"key": key, "label": label, "view": view, "rounds": [], "sse": []})
            entry["rounds"].append(r)
            print(
                f"   {view:5s}: {r['rps']:8.1f} req/s  p99 {r['p99_ms']:7.2f} ms"
                f"  server CPU {r['server_cpu_s']:.1f}s ({r['cpu_us_per_req']:.0f} us/req)"
                f"  other load {r['other_load_pct']:.0f}%  non2xx={r['non2xx']} sockerr={r['socket_errors']}",
                flush=True,
            )
        if holder:
            stopf.write_text("stop")
            try:
                holder.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
            text = holder_out.read_text().strip()
            try:
                summary = json.loads(text.splitlines()[-1])
            except (ValueError, IndexError):
                summary = {"error": text[-500:] or "no output"}
            results[(key, views[-1])]["sse"].append(summary)
            print(f"   SSE summary: {json.dumps(summary)}", flush=True)
    except Exception as exc:  # noqa: BLE001 - record and go on to the next config
        print(f"   FAILED: {exc!r}; see {log_path}", flush=True)
        for view in views:
            results.setdefault(
                (key, view), {"key": key, "label": label, "view": view, "rounds": [], "sse": []}
            ).setdefault("errors", []).append(repr(exc))
    finally:
        if holder:
            stop(holder, grace=3)
        stop(proc)


def table(results):
    lines = [
        "| config | view | req/s (median) | p99 ms (median) | server CPU us/req (median) "
        "| rounds req/s | other load % (max) | errors |",
        "|---|---|---:|---:|---:|---|---:|---|",
    ]
    for r in results:
        if not r["rounds"]:
            lines.append(f"| {r['label']} | {r['view']} | FAILED | | | | | {r.get('errors', [''])[0]} |")
            continue
        rps = [x["rps"] for x in r["rounds"]]
        p99 = [x["p99_ms"] for x in r["rounds"]]
        cpu = [x["cpu_us_per_req"] for x in r["rounds"]]
        errs = sum(x["non2xx"] + x["socket_errors"] for x in r["rounds"]) + len(r.get("errors", []))
        other = max(x["other_load_pct"] for x in r["rounds"])
        lines.append(
            f"| {r['label']} | {r['view']} | {statistics.median(rps):.0f} | {statistics.median(p99):.1f} "
            f"| {statistics.median(cpu):.0f} | {' / '.join(f'{x:.0f}' for x in rps)} | {other:.0f} | {errs} |"
        )
    sse = [r for r in results if r.get("sse")]
    if sse:
        lines += [
            "",
            "| config | SSE streams open at end (min over rounds) / requested | SSE events received "
            "| bus events delivered / expected | bus latency ms p50 (median) / p99 (max) / max "
            "| max gap between events s | errors |",
            "|---|---|---:|---|---|---:|---|",
        ]
        for r in sse:
            ss = r["sse"]

            def agg(k, f, default=None):
                vals = [x[k] for x in ss if x.get(k) is not None]
                return f(vals) if vals else default

            lines.append(
                f"| {r['label']} | {agg('streams_open_at_end', min)}/{agg('streams_requested', max)} "
                f"| {agg('ticks', sum, 0) + agg('bus_delivered', sum, 0)} "
                f"| {agg('bus_delivered', sum)}/{agg('bus_expected', sum)} "
                f"| {agg('bus_latency_ms_p50', lambda v: round(statistics.median(v), 1))} "
                f"/ {agg('bus_latency_ms_p99', max)} "
                f"/ {agg('bus_latency_ms_max', max)} "
                f"| {agg('max_gap_between_events_s', max)} "
                f"| {agg('error_count', sum, 0) + sum(1 for x in ss if 'error' in x)} |"
            )
    return "\n".join(lines)


def versions():
    out = {}
    for mod in ("django", "uvicorn", "granian", "a2wsgi", "httpx", "uvloop", "httptools", "asgiref"):
        try:
            from importlib.metadata import version

            out[mod] = version(mod)
        except Exception:  # noqa: BLE001
            out[mod] = "?"
    out["python"] = sys.version.split()[0]
    out["wrk"] = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split("\n")[0][:40]
    out["cpus"] = os.cpu_count()
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument(
        "--only", nargs="*", help="config key prefixes (e.g. A- B-gr-1; note C-gr-1 also matches C-gr-1-sse, C-gr-1-t4)"
    )
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--duration", type=int, default=10)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--sse-interval", type=float, default=5.0)
    p.add_argument("--max-minutes", type=float, default=30.0)
    p.add_argument(
        "--noisy-pct",
        type=float,
        default=10.0,
        help="a round where other processes used more than this %% of the machine counts as disturbed",
    )
    p.add_argument("--noisy-retries", type=int, default=0, help="repeat a disturbed round up to this many times")
    p.add_argument(
        "--quiet-wait",
        type=float,
        default=0.0,
        help="max seconds to wait for a quiet machine before each round (0: don't wait)",
    )
    p.add_argument("--port-base", type=int, default=18100)
    args = p.parse_args()

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGALRM):
        signal.signal(sig, _on_signal)
    signal.alarm(int(args.max_minutes * 60))

    WORK.mkdir(parents=True, exist_ok=True)
    db = WORK / "bench.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    for old in list(WORK.glob("server-*.log")) + list(WORK.glob("wrk-*.txt")) + list(WORK.glob("sse-*")):
        old.unlink()
    base_env = dict(os.environ, BENCH_DB=str(db), PYTHONPATH=str(HERE), PYTHONDONTWRITEBYTECODE="1")
    session = subprocess.run(
        [sys.executable, str(HERE / "setup_db.py")], env=base_env, cwd=HERE, check=True, capture_output=True, text=True
    ).stdout.strip()
    cookie = f"sessionid={session}"

    configs = [c for c in CONFIGS if not args.only or any(c[0].startswith(o) for o in args.only)]
    vers = versions()
    print("versions: " + json.dumps(vers), flush=True)
    print(
        f"wrk -c {args.connections} -t {args.threads} -d {args.duration}s (+{args.warmup}s warmup), "
        f"{args.rounds} rounds interleaved across configs, median reported; target {HOST} only",
        flush=True,
    )
    results = {}
    t0 = time.monotonic()
    port = args.port_base
    try:
        for rnd in range(args.rounds):
            for cfg in configs:
                run_once(cfg, port, args, cookie, base_env, results, rnd)
                port += 1
                if port > args.port_base + 899:
                    port = args.port_base
    except (Timeout, SystemExit) as exc:
        print(f"\nstopped early: {exc!r}", flush=True)
    finally:
        signal.alarm(0)
        for proc in list(_groups):
            stop(proc, grace=3)
        ordered = [results[(c[0], v)] for c in configs for v in c[4] if (c[0], v) in results]
        md = table(ordered)
        print(f"\n# Results ({time.monotonic() - t0:.0f}s)\n\nversions: {json.dumps(vers)}\n\n{md}\n", flush=True)
        (WORK / "results.md").write_text(md + "\n")
        (WORK / "results.json").write_text(
            json.dumps({"versions": vers, "args": vars(args), "results": ordered}, indent=1)
        )
        print(f"raw wrk output, server logs and results.json in {WORK}", flush=True)


if __name__ == "__main__":
    main()
