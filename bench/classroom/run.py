"""The classroom load benchmark (issue 6): *bell*, *broadcast* and *steady* against a real
`classnote serve` on 127.0.0.1 (or a server started elsewhere, e.g. bench/scaleout.sh).

One asyncio process (httpx) plays the teachers and the students; unless --base-url is given, the
server is started by the benchmark itself with a fresh CLASSNOTE_HOME (the embedded default: one
process, SQLite) and stopped at the end. Everything is bounded in time. See README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.classroom.compare import logged_in_cookies, measure_server
from bench.classroom.report import markdown, targets, targets_line
from bench.classroom.scenarios import run_scenario
from bench.classroom.servers import Server, setup_data, start_classnote, start_floor, start_hello, verify

STUDENTS_PER_CLASS = 40


def machine() -> dict[str, Any]:
    load = os.getloadavg()
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg_1_5_15": [round(x, 2) for x in load],
        "date_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
    }


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.classroom", description=__doc__)
    parser.add_argument("--scenario", choices=["bell", "broadcast", "steady"], default="bell")
    parser.add_argument("--classes", type=int, nargs="+", default=[5], help="K (several: one run each)")
    parser.add_argument("--students", type=int, default=1000, help="broadcast: students in the one class")
    parser.add_argument("--ramp", type=float, default=30.0, help="students arrive uniformly within this (s)")
    parser.add_argument("--qr-share", type=float, default=0.5, help="share of students logging in by QR card")
    parser.add_argument(
        "--answer-seconds",
        type=float,
        default=None,
        help="the answers (autosaves, submit) at sorted uniform moments within [1, S] s after the card "
        "(default 30; 3 gives the old burst)",
    )
    parser.add_argument("--watch-seconds", type=float, default=10.0, help="teachers reload the lesson page (s)")
    parser.add_argument("--steady-seconds", type=float, default=None, help="steady: the measured window (default 60)")
    parser.add_argument("--max-seconds", type=float, default=240.0, help="hard bound of one run")
    parser.add_argument("--compare-seconds", type=float, default=10.0, help="each closed-loop comparison (0: skip)")
    parser.add_argument("--concurrency", type=int, default=32, help="connections of the closed-loop comparison")
    parser.add_argument("--search", action="store_true", help="raise K from the first --classes while targets hold")
    parser.add_argument("--search-step", type=int, default=5)
    parser.add_argument("--search-max", type=int, default=60)
    parser.add_argument("--search-seconds", type=float, default=1800.0, help="time bound of the whole search")
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--out", type=Path, default=None, help="result JSON (default: a temp dir)")
    parser.add_argument("--work", type=Path, default=None, help="where homes and logs go (default: a temp dir)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="CI: a small bell (2 x 40), broadcast (200) and steady (2 classes, 15 s); ramps and answers "
        "of 8 s, 2 s comparisons",
    )
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
        help="environment of the data setup and --verify with --base-url (DATABASE_URL=..., SECRET_KEY=..., ...)",
    )
    parser.add_argument(
        "--server-pid", default="", help="with --base-url: the processes to sample, comma-separated (summed)"
    )
    parser.add_argument("--kill-pid", type=int, default=0, help="failover test: SIGKILL this pid during the run")
    parser.add_argument("--kill-after", type=float, default=20.0, help="... this many seconds into the run")
    parser.add_argument(
        "--verify",
        action="store_true",
        help="after each run, check in the database that every acknowledged submission is stored",
    )
    args = parser.parse_args(argv)
    args.server_pids = [int(p) for p in str(args.server_pid).replace(" ", "").split(",") if p]
    if args.quick:
        args.classes, args.ramp, args.max_seconds = [2], 8.0, 90.0
        args.compare_seconds = min(args.compare_seconds, 2.0)
        args.answer_seconds = args.answer_seconds or 8.0
        args.steady_seconds = args.steady_seconds or 15.0
        args.students = 200
    args.answer_seconds = args.answer_seconds or 30.0
    args.steady_seconds = args.steady_seconds or 60.0
    if args.base_url:
        args.compare_seconds = 0.0
    return args


def raise_fd_limit() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def plan(args: argparse.Namespace) -> list[tuple[str, int]]:
    """(scenario, K) of each run; broadcast has one class of --students."""
    if args.quick:
        return [("bell", 2), ("broadcast", 1), ("steady", 2)]
    if args.scenario == "broadcast":
        return [("broadcast", 1)]
    return [(args.scenario, k) for k in args.classes]


async def one_run(
    args: argparse.Namespace, work: Path, scenario: str, k: int, result: dict[str, Any]
) -> dict[str, Any]:
    per_class = args.students if scenario == "broadcast" else STUDENTS_PER_CLASS
    tag = f"{scenario}-n{per_class}" if scenario == "broadcast" else f"{scenario}-k{k}"
    home = work / f"home-{tag}"
    began = time.monotonic()
    setup_env = dict(pair.split("=", 1) for pair in args.setup_env)
    data = setup_data(home, k, per_class, setup_env)
    print(f"[bench] {tag}: data ready in {time.monotonic() - began:.1f} s", flush=True)
    if args.base_url:
        server = Server("external", args.base_url.rstrip("/"), None, home / "server.log", 0, args.server_pids)
    else:
        server = start_classnote(home)
    try:
        run = await run_scenario(scenario, server.url, data, args, server.pids)
        run["load_after"] = [round(x, 2) for x in os.getloadavg()]
        if args.verify:
            run["verify"] = verify(home, setup_env, data["school_code"], run["acked_submissions"], tag)
        run["targets"] = targets(run)
        print(
            f"[bench] {tag}: {run['requests']} requests, errors {run['errors']}, lost {run['lost_events']}, "
            f"reconnects {run['reconnects']}, delivery p99 {run['delivery']['p99_ms']} ms; "
            f"{targets_line(run['targets'])}",
            flush=True,
        )
        if args.compare_seconds > 0 and "comparison" not in result:
            path = f"/lessons/{data['classes'][0]['lesson_id']}/"
            cookies = await logged_in_cookies(server, data)
            cmp: dict[str, Any] = {"concurrency": args.concurrency, "seconds": args.compare_seconds}
            cmp["classnote_path"] = path
            cmp["classnote"] = await measure_server(server, path, cookies, args.concurrency, args.compare_seconds)
            cmp["classnote_home"] = await measure_server(
                server, "/home/", cookies, args.concurrency, args.compare_seconds
            )
            result["comparison"] = cmp
    finally:
        server.stop()
    done = result.get("comparison")
    if done and "floor" not in done:
        await floor_and_ceiling(args, work, done)
    return run


async def floor_and_ceiling(args: argparse.Namespace, work: Path, cmp: dict[str, Any]) -> None:
    floor, floor_cookies = start_floor(work)
    try:
        cmp["floor"] = await measure_server(floor, "/auth/", floor_cookies, args.concurrency, args.compare_seconds)
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


async def amain(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    result: dict[str, Any] = {"machine": machine(), "args": {k: str(v) for k, v in vars(args).items()}, "runs": []}
    if not args.search:
        for scenario, k in plan(args):
            result["runs"].append(await one_run(args, work, scenario, k, result))
        return result
    # --search: from the first --classes up by --search-step while the targets hold.
    if args.scenario == "broadcast":
        raise SystemExit("--search raises K; broadcast has one class (use --students)")
    began = time.monotonic()
    k, last_took = args.classes[0], 0.0
    stopped = "reached --search-max"
    while k <= args.search_max:
        spent = time.monotonic() - began
        if last_took and spent + last_took * 1.5 > args.search_seconds:
            stopped = f"time bound of {args.search_seconds:.0f} s"
            break
        t = time.monotonic()
        run = await one_run(args, work, args.scenario, k, result)
        last_took = time.monotonic() - t
        result["runs"].append(run)
        if not run["targets"]["holds"]:
            stopped = f"targets missed at K = {k}"
            break
        k += args.search_step
    result["search"] = f"from K = {args.classes[0]} by {args.search_step}, stopped: {stopped}"
    return result


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse(argv)
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


def failures(result: dict[str, Any]) -> list[str]:
    """What makes the quick mode fail: errors, lost events, a run cut off, an acknowledged submission
    missing (with --verify) — never timings."""
    out = []
    for run in result["runs"]:
        lost_acked = (run.get("verify") or {}).get("acknowledged_lost", 0)
        if run["errors"] or run["lost_events"] or run["timed_out"] or lost_acked:
            out.append(
                f"{run['scenario']}: errors {run['errors']}, lost events {run['lost_events']}, "
                f"timed out {run['timed_out']}, acknowledged submissions lost {lost_acked}"
            )
    return out


def cli() -> None:
    result = main()
    if "--quick" in sys.argv[1:] and (bad := failures(result)):
        print("[bench] quick mode FAILED: " + "; ".join(bad), flush=True)
        raise SystemExit(1)


if __name__ == "__main__":
    cli()
