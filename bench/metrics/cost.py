"""What the metrics cost per request and per scrape (issue 15), in one process without a server:
the middleware's recording (route template, method, status class, histogram observation) on a
resolved request, and one scrape (the exposition text) after a realistic number of routes have been
seen. CPU time of the process, median of ROUNDS runs. Usage: python bench/metrics/cost.py [ROUNDS]."""

from __future__ import annotations

import os
import statistics
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "classnote.settings")
os.environ.setdefault("CLASSNOTE_ENV", "development")

import django  # noqa: E402

django.setup()

from django.test import RequestFactory  # noqa: E402
from django.urls import get_resolver, resolve  # noqa: E402

from classnote.core import metrics  # noqa: E402

CALLS = 100_000


def per_request_us(request: object) -> float:
    started = time.process_time()
    for _ in range(CALLS):
        metrics.record_request(request, 200, 0.012, False)  # type: ignore[arg-type]
    return (time.process_time() - started) / CALLS * 1e6


def per_scrape_ms() -> float:
    started = time.process_time()
    for _ in range(20):
        metrics.render()
    return (time.process_time() - started) / 20 * 1e3


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    request = RequestFactory().get("/lessons/12/")
    request.resolver_match = resolve("/lessons/12/")
    recording = statistics.median(per_request_us(request) for _ in range(rounds))
    # Every route of the URL tree seen with GET 2xx and POST 3xx: ~the series of a busy day.
    routes = list(get_resolver().url_patterns)
    for index in range(150):
        for method, status in (("GET", "2xx"), ("POST", "3xx")):
            metrics.REQUEST_DURATION.labels(f"/route-{index}/", method, status).observe(0.01)
    size = len(metrics.render())
    scrape = statistics.median(per_scrape_ms() for _ in range(rounds))
    print(f"recording one request: {recording:.2f} µs CPU (median of {rounds} × {CALLS:,} calls)")
    print(
        f"one scrape with 300 request series ({len(routes)} top-level URL patterns): {scrape:.1f} ms CPU, {size:,} bytes"
    )


if __name__ == "__main__":
    main()
