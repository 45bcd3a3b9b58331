"""Prometheus metrics (issue 15): what the process measures, and `/metrics` to read it.

Nothing is exposed, and no request is timed, unless METRICS_TOKEN is set: without it `/metrics`
does not exist (404) and the request middleware takes itself out of the stack. A scrape carries
``Authorization: Bearer <METRICS_TOKEN>`` (compared in constant time); it never touches the
database or a session, so it answers while the database is down. `classnote serve` answers it on
the event loop (classnote.asgi), like /readyz; the Django view (classnote.core.views.metrics)
answers the same for the tests and other servers.

Labels never carry a raw path, an id or anything personal: a request is labelled by the route
template Django matched (``/lessons/<int:lesson_id>/``), its method and its status class.

The names (docs/operations.md, *Metrics*):

* ``classnote_http_request_duration_seconds{route,method,status}`` histogram; its ``_count`` is
  the request counter. For an event stream, the time until the stream opened.
* ``classnote_http_errors_total{route,kind}``: ``server_error`` (a 5xx) or ``unavailable`` (a 503 or
  507 with Retry-After: a dependency is out, classnote.base.outages, or the server is full).
* ``classnote_http_refused_total{reason}``: requests answered 503 by the request queue without running
  (``queue_full``, ``queued_too_long``; classnote.core.wsgi_bridge).
* ``classnote_event_streams_open``: event streams open (summed over live processes).
* ``classnote_jobs_pending``: jobs waiting in the queue, counted at scrape time (NaN when the queue
  did not answer within QUEUE_COUNT_TIMEOUT; the scrape itself never fails for it).
* ``classnote_probe_success{component}`` (1/0), ``classnote_probe_latency_seconds{component}`` and
  ``classnote_probes_total{component,result}``: set through ``record_probe`` by the prober.
* ``classnote_sqlite_write_lock_wait_seconds`` histogram: the wait for the process's SQLite write
  lock (classnote.core.sqlite), on the embedded default.

Multiprocess mode: with PROMETHEUS_MULTIPROC_DIR set (before the process starts) every process
writes its values to files there and a scrape of any of them sums them all (prometheus-client's
MultiProcessCollector); without it each process is scraped on its own.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import math
import os
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.translation import gettext as _
from huey.contrib.djhuey import HUEY
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from classnote.core import unavailable

logger = logging.getLogger(__name__)

# Read as prometheus-client reads it, when it is first imported: values go to files from the start.
MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
QUEUE_COUNT_TIMEOUT = 1.0  # seconds a scrape waits for the job queue's count
disable_created_metrics()  # no *_created series: a third fewer lines per scrape, nothing lost for rate()

REQUEST_DURATION = Histogram(
    "classnote_http_request_duration_seconds",
    "Time to answer a request (for an event stream: until it opened), by route template, method and status class.",
    ["route", "method", "status"],
)
ERRORS = Counter(
    "classnote_http_errors_total",
    "Requests answered with a server error (kind=server_error) or as unavailable (kind=unavailable: 503/507).",
    ["route", "kind"],
)
REFUSED = Counter(
    "classnote_http_refused_total",
    "Requests answered 503 by the request queue without running.",
    ["reason"],
)
STREAMS_OPEN = Gauge(
    "classnote_event_streams_open",
    "Event streams open.",
    multiprocess_mode="livesum",
)
PROBE_SUCCESS = Gauge(
    "classnote_probe_success",
    "The last probe of the component succeeded (1) or failed (0).",
    ["component"],
    multiprocess_mode="mostrecent",
)
PROBE_LATENCY = Gauge(
    "classnote_probe_latency_seconds",
    "How long the last probe of the component took.",
    ["component"],
    multiprocess_mode="mostrecent",
)
PROBES = Counter("classnote_probes_total", "Probes run, by component and result (ok, failed).", ["component", "result"])
SQLITE_WRITE_LOCK_WAIT = Histogram(
    "classnote_sqlite_write_lock_wait_seconds",
    "Wait for the process's SQLite write lock (the embedded default's write queue).",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


# --- Recording ------------------------------------------------------------------------------------

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_STATUS_CLASSES = {n: f"{n}xx" for n in range(1, 6)}


def route_of(request: HttpRequest) -> str:
    """The route template Django matched, never the path itself (no ids, nothing personal)."""
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return "/" + match.route
    if request.path_info.startswith(settings.STATIC_URL):
        return "(static)"
    return "(unmatched)"


def record_request(request: HttpRequest, status: int, seconds: float, retry_after: bool) -> None:
    route = route_of(request)
    method = request.method if request.method in _METHODS else "other"
    REQUEST_DURATION.labels(route, method, _STATUS_CLASSES.get(status // 100, "other")).observe(seconds)
    if status >= 500:
        unavailable = status in (503, 507) and retry_after
        ERRORS.labels(route, "unavailable" if unavailable else "server_error").inc()


def record_refusal(reason: str) -> None:
    """A request the queue answered 503 without running it (reason: queue_full, queued_too_long)."""
    REFUSED.labels(reason).inc()


def record_probe(component: str, ok: bool, latency_seconds: float | None) -> None:
    """The prober's result for COMPONENT (a fixed name such as ``sign-in``, never user data)."""
    PROBE_SUCCESS.labels(component).set(1 if ok else 0)
    PROBE_LATENCY.labels(component).set(math.nan if latency_seconds is None else latency_seconds)
    PROBES.labels(component, "ok" if ok else "failed").inc()


class MetricsMiddleware:
    """Times every request (outermost, so the whole stack is in the figure). Not in the stack at all
    without METRICS_TOKEN: nobody could read what it measured."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        if not settings.METRICS_TOKEN:
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        record_request(request, response.status_code, time.perf_counter() - started, "Retry-After" in response)
        return response


# --- Facts read at scrape time ----------------------------------------------------------------------

_collectors: list[Callable[[], Iterable[Metric]]] = []


def register_collector(collect: Callable[[], Iterable[Metric]]) -> None:
    """Add a function that yields metric families at each scrape (a fact of the whole service, such as
    a queue's length: in multiprocess mode it is read by the scraped process alone, not summed). It
    must be quick and must not touch the database."""
    _collectors.append(collect)


class _ScrapeTime(Collector):
    def describe(self) -> Iterable[Metric]:
        return []  # nothing is read when registered, only when scraped

    def collect(self) -> Iterable[Metric]:
        for collect in list(_collectors):
            try:
                yield from collect()
            except Exception:  # noqa: BLE001 - one failing collector must not fail the scrape
                logger.warning("metrics: a collector failed", exc_info=True)


_queue_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="metrics-jobs")
_queue_count: Future[int] | None = None
_queue_lock = threading.Lock()


def _jobs_pending() -> Iterable[Metric]:
    """The job queue's length, waited for at most QUEUE_COUNT_TIMEOUT; a count still stuck from an
    earlier scrape is not started again (a hung queue cannot pile up threads)."""
    global _queue_count
    with _queue_lock:
        if _queue_count is None or _queue_count.done():
            _queue_count = _queue_pool.submit(HUEY.pending_count)
        counting = _queue_count
    try:
        pending = float(counting.result(timeout=QUEUE_COUNT_TIMEOUT))
    except FutureTimeout:
        logger.warning("metrics: the job queue did not answer within %s s", QUEUE_COUNT_TIMEOUT)
        pending = math.nan
    except Exception as error:  # noqa: BLE001 - the queue is down: NaN, and the scrape goes on
        logger.warning("metrics: the job queue could not be counted (%s)", type(error).__name__)
        pending = math.nan
    yield GaugeMetricFamily("classnote_jobs_pending", "Jobs waiting in the queue (read at scrape time).", pending)


register_collector(_jobs_pending)
_scrape_time = _ScrapeTime()
if not MULTIPROCESS:
    REGISTRY.register(_scrape_time)


# --- The scrape -----------------------------------------------------------------------------------------


def render() -> bytes:
    """The exposition text: this process's metrics, or every process's in multiprocess mode."""
    if not MULTIPROCESS:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    registry.register(_scrape_time)
    return generate_latest(registry)


CONTENT_TYPE = CONTENT_TYPE_LATEST
OK, UNKNOWN, NO_TOKEN, WRONG_TOKEN = 200, 404, 401, 403


def check(authorization: str) -> int:
    """OK, UNKNOWN (no METRICS_TOKEN: the endpoint does not exist), NO_TOKEN or WRONG_TOKEN."""
    expected = settings.METRICS_TOKEN
    if not expected:
        return UNKNOWN
    scheme, _space, given = authorization.strip().partition(" ")
    given = given.strip()
    if scheme.lower() != "bearer" or not given:
        return NO_TOKEN
    if not hmac.compare_digest(given.encode(), expected.encode()):
        return WRONG_TOKEN
    return OK


_scrape_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="metrics")


def refusal(status: int, language: str) -> bytes:
    """The JSON body of a refused scrape, in LANGUAGE."""
    with translation.override(language):
        if status == NO_TOKEN:
            detail = _("Reading the metrics needs the header Authorization: Bearer and the metrics token.")
        elif status == WRONG_TOKEN:
            detail = _("This token may not read the metrics.")
        else:
            detail = _("Not found.")
    return json.dumps({"detail": detail}).encode()


async def asgi_metrics(scope: dict[str, Any], send: Any) -> None:
    """/metrics on the event loop (classnote.asgi): no request thread, no middleware, no session. The
    exposition is made on a thread of its own (it may wait up to QUEUE_COUNT_TIMEOUT for the queue)."""
    authorization = accept_language = ""
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            authorization = value.decode("latin-1")
        elif name == b"accept-language":
            accept_language = value.decode("latin-1")
    status = check(authorization)
    headers = [(b"cache-control", b"no-store"), (b"x-content-type-options", b"nosniff")]
    if status == OK:
        body = await asyncio.get_running_loop().run_in_executor(_scrape_pool, render)
        content_type = CONTENT_TYPE
    else:
        body, content_type = refusal(status, unavailable.language_of({}, accept_language)), "application/json"
        if status == NO_TOKEN:
            headers.append((b"www-authenticate", b'Bearer realm="metrics"'))
    headers += [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if scope.get("method") == "HEAD" else body})
