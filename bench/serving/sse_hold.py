"""Hold N SSE connections open, publish on the in-process bus, and report.

Targets 127.0.0.1 only. Stops by itself: when --stop-file appears or after
--max-seconds. Writes --ready-file once all streams got their first event.
Prints one JSON summary line on stdout.
"""

import argparse
import asyncio
import json
import os
import statistics
import time
from urllib.parse import urlsplit

import httpx


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--base", default="http://127.0.0.1:18000")
    p.add_argument("--cookie", required=True, help="Cookie header value")
    p.add_argument("-n", type=int, default=200)
    p.add_argument("--interval", type=float, default=5.0, help="server tick interval (s)")
    p.add_argument("--publish-every", type=float, default=2.0)
    p.add_argument("--ready-file")
    p.add_argument("--stop-file")
    p.add_argument("--max-seconds", type=float, default=120.0)
    p.add_argument("--connect-timeout", type=float, default=30.0)
    return p.parse_args()


async def main():
    args = parse_args()
    host = urlsplit(args.base).hostname
    assert host in ("127.0.0.1", "localhost", "::1"), "loopback only"
    headers = {"Cookie": args.cookie, "Accept": "text/event-stream"}
    limits = httpx.Limits(max_connections=args.n + 10, max_keepalive_connections=args.n + 10)
    timeout = httpx.Timeout(connect=10.0, read=None, write=10.0, pool=30.0)
    client = httpx.AsyncClient(limits=limits, timeout=timeout, headers=headers)

    first_event = [asyncio.Event() for _ in range(args.n)]
    state = {
        "connected": 0,
        "errors": [],
        "ticks": 0,
        "bus": 0,
        "bus_latency": [],
        "max_gap": 0.0,
        "measuring": False,
    }

    async def stream(i):
        url = f"{args.base}/events/?interval={args.interval}"
        try:
            async with client.stream("GET", url) as resp:
                if resp.status_code != 200:
                    state["errors"].append(f"status {resp.status_code}")
                    return
                state["connected"] += 1
                last = time.monotonic()
                event = None
                data = None
                async for line in resp.aiter_lines():
                    if line.startswith("event:"):
                        event = line[6:].strip()
                    elif line.startswith("data:"):
                        data = line[5:].strip()
                    elif line == "":
                        now = time.monotonic()
                        first_event[i].set()
                        if state["measuring"]:
                            state["max_gap"] = max(state["max_gap"], now - last)
                        last = now
                        if event == "tick":
                            state["ticks"] += 1
                        elif event == "bus":
                            state["bus"] += 1
                            msg = json.loads(data)
                            state["bus_latency"].append(time.time() - msg["sent"])
                        event = data = None
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001
            state["errors"].append(repr(exc)[:200])
            first_event[i].set()

    tasks = []
    started = time.monotonic()
    for i in range(args.n):  # ramp a little so the accept queue is not flooded
        tasks.append(asyncio.create_task(stream(i)))
        if i % 20 == 19:
            await asyncio.sleep(0.05)
    try:
        await asyncio.wait_for(asyncio.gather(*(e.wait() for e in first_event)), args.connect_timeout)
    except TimeoutError:
        state["errors"].append("timeout waiting for first events")
    connect_seconds = time.monotonic() - started
    state["measuring"] = True
    if args.ready_file:
        with open(args.ready_file, "w") as f:
            f.write(str(state["connected"]))

    published = 0
    publish_errors = 0
    receivers = []
    deadline = time.monotonic() + args.max_seconds
    next_pub = time.monotonic()
    pub_client = httpx.AsyncClient(headers={"Cookie": args.cookie}, timeout=10.0)
    while time.monotonic() < deadline:
        if args.stop_file and os.path.exists(args.stop_file):
            break
        if time.monotonic() >= next_pub:
            try:
                r = await pub_client.post(f"{args.base}/bus/publish/", json={"seq": published, "sent": time.time()})
                if r.status_code == 200:
                    receivers.append(r.json()["receivers"])
                    published += 1
                else:
                    publish_errors += 1
            except Exception:  # noqa: BLE001
                publish_errors += 1
            next_pub += args.publish_every
        await asyncio.sleep(0.1)
    await asyncio.sleep(min(2.0, args.interval))  # let the last publishes arrive
    still_open = sum(1 for t in tasks if not t.done())
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await client.aclose()
    await pub_client.aclose()

    lat = sorted(state["bus_latency"])

    def pct(p):
        return round(1000 * lat[min(len(lat) - 1, int(p * len(lat)))], 1) if lat else None

    summary = {
        "streams_requested": args.n,
        "streams_connected": state["connected"],
        "streams_open_at_end": still_open,
        "connect_seconds": round(connect_seconds, 2),
        "ticks": state["ticks"],
        "bus_published": published,
        "bus_publish_errors": publish_errors,
        "bus_receivers_median": statistics.median(receivers) if receivers else 0,
        "bus_delivered": state["bus"],
        "bus_expected": published * state["connected"],
        "bus_latency_ms_p50": pct(0.50),
        "bus_latency_ms_p99": pct(0.99),
        "bus_latency_ms_max": round(1000 * lat[-1], 1) if lat else None,
        "max_gap_between_events_s": round(state["max_gap"], 2),
        "errors": state["errors"][:5],
        "error_count": len(state["errors"]),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    asyncio.run(main())
