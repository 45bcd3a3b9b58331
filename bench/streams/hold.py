"""Hold N idle event streams open to one classnote process and report its memory and threads.

Raw asyncio sockets (an httpx client per stream would cost the client more than the server).
127.0.0.1 only; stops by itself after --hold seconds at each step. Prints one JSON line per step:
streams open, server RSS (MiB) and threads, and the increase per stream against 0 streams."""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import time


def proc_status(pid: int) -> tuple[float, int]:
    rss, threads = 0.0, 0
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) / 1024
            elif line.startswith("Threads:"):
                threads = int(line.split()[1])
    return rss, threads


async def open_stream(
    port: int, path: str, cookie: str, opened: list[int], holders: list[asyncio.StreamWriter]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: text/event-stream\r\nCookie: {cookie}\r\n\r\n".encode()
    )
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        writer.close()
        raise RuntimeError(head.split(b"\r\n", 1)[0].decode())
    while b"retry:" not in await reader.readline():  # the stream is live once its first line arrives
        pass
    holders.append(writer)
    opened[0] += 1

    async def drain() -> None:  # keep reading heartbeats so the server never blocks on a full buffer
        try:
            while await reader.read(4096):
                pass
        except (ConnectionError, asyncio.CancelledError):
            pass

    asyncio.get_running_loop().create_task(drain())


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--pid", type=int, required=True, help="the server process")
    parser.add_argument("--sessions", required=True, help="JSON file written by setup_students.py")
    parser.add_argument("--steps", default="1000,2000,5000,10000")
    parser.add_argument("--hold", type=float, default=5.0, help="seconds to hold at each step before measuring")
    parser.add_argument("--concurrency", type=int, default=100, help="connects in flight at once")
    parser.add_argument("--max-seconds", type=float, default=900.0)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with open(args.sessions, encoding="utf-8") as f:
        info = json.load(f)
    path = f"/events/lesson/{info['lesson']}/"
    keys = info["sessions"]
    deadline = time.monotonic() + args.max_seconds
    base_rss, base_threads = proc_status(args.pid)
    print(json.dumps({"streams": 0, "rss_mib": round(base_rss, 1), "threads": base_threads}), flush=True)
    opened: list[int] = [0]
    holders: list[asyncio.StreamWriter] = []
    errors: list[str] = []
    gate = asyncio.Semaphore(args.concurrency)

    async def one(key: str) -> None:
        async with gate:
            try:
                await asyncio.wait_for(
                    open_stream(args.port, path, f"{info['cookie_name']}={key}", opened, holders), 60
                )
            except Exception as exc:  # noqa: BLE001
                errors.append(repr(exc)[:120])

    done = 0
    for step in [int(s) for s in args.steps.split(",")]:
        if step > len(keys) or time.monotonic() > deadline:
            break
        started = time.monotonic()
        await asyncio.gather(*(one(k) for k in keys[done:step]))
        done = step
        connect_s = time.monotonic() - started
        await asyncio.sleep(args.hold)
        rss, threads = proc_status(args.pid)
        n = opened[0]
        print(
            json.dumps(
                {
                    "streams": n,
                    "errors": len(errors),
                    "first_error": errors[0] if errors else None,
                    "connect_seconds": round(connect_s, 1),
                    "rss_mib": round(rss, 1),
                    "threads": threads,
                    "kib_per_stream": round((rss - base_rss) * 1024 / n, 1) if n else None,
                    "threads_per_stream": round((threads - base_threads) / n, 3) if n else None,
                }
            ),
            flush=True,
        )
    for writer in holders:
        writer.close()


if __name__ == "__main__":
    asyncio.run(main())
