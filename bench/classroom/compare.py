"""The closed-loop comparison of issue 6: classnote's student pages against the framework's floor
(a bare authenticated Django view, same serving layout) and the stack's ceiling (a raw ASGI hello),
on the same box, one after the other; wrk when installed, else an httpx loop (client-bound)."""

from __future__ import annotations

import asyncio
import re
import shutil
import time
from typing import Any

import httpx
from bench.classroom.client import ProcessSampler, csrf_of, ms, new_client, pct
from bench.classroom.servers import Server


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
        "p50_ms": ms(pct(latencies, 50)),
        "p99_ms": ms(pct(latencies, 99)),
    }


WRK_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
WRK_TOTAL = re.compile(r"(\d+) requests in")
WRK_NON2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")
WRK_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


def _wrkms(text: str, percent: int) -> float | None:
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
        "p50_ms": _wrkms(out, 50),
        "p99_ms": _wrkms(out, 99),
    }


async def measure_server(
    server: Server, path: str, cookies: dict[str, str], concurrency: int, seconds: float
) -> dict[str, Any]:
    sampler = ProcessSampler([server.pid])
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
