"""/metrics (issue 15): refused without the configured token, Prometheus text with it, labels that are
route templates (no ids), and no database or session needed to answer."""

from __future__ import annotations

import asyncio
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.db import OperationalError, connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import Client, override_settings
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from classnote.base import outages
from classnote.core import metrics
from classnote.core.sqlite import base as sqlite_base
from tests.conftest import Tenant, login_as
from tests.test_settings import run_classnote

TOKEN = "test-metrics-token-0123456789"
ROOT = Path(__file__).resolve().parents[1]


def scrape(client: Client | None = None) -> dict[str, list[Sample]]:
    response = (client or Client()).get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return families(response.content.decode())


def families(text: str) -> dict[str, list[Sample]]:
    return {family.name: family.samples for family in text_string_to_metric_families(text)}


@override_settings(METRICS_TOKEN="")
def test_without_a_configured_token_the_endpoint_does_not_exist() -> None:
    assert Client().get("/metrics").status_code == 404
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer anything-at-all-000").status_code == 404


@override_settings(METRICS_TOKEN=TOKEN)
def test_a_missing_or_wrong_token_is_refused() -> None:
    missing = Client().get("/metrics")
    assert missing.status_code == 401
    assert missing["WWW-Authenticate"].startswith("Bearer")
    assert "Authorization: Bearer" in missing.json()["detail"]
    assert Client().get("/metrics", HTTP_AUTHORIZATION=f"Basic {TOKEN}").status_code == 401
    wrong = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}x", HTTP_ACCEPT_LANGUAGE="ja")
    assert wrong.status_code == 403
    assert wrong.json()["detail"] != "This token may not read the metrics."  # translated
    assert TOKEN not in wrong.content.decode()


@override_settings(METRICS_TOKEN=TOKEN)
def test_the_right_token_reads_prometheus_text_without_the_database() -> None:
    """No database access is allowed in this test (no db fixture), and connecting fails as well."""
    with mock.patch.object(BaseDatabaseWrapper, "ensure_connection", side_effect=OperationalError("down")):
        found = scrape()
    assert found["classnote_event_streams_open"][0].value >= 0
    assert found["classnote_jobs_pending"][0].value == 0  # the tests' queue is immediate: nothing waits
    assert "classnote_sqlite_write_lock_wait_seconds" in found
    assert "classnote_http_request_duration_seconds" in found


@override_settings(METRICS_TOKEN=TOKEN)
def test_requests_are_labelled_by_route_template_never_by_path(tenant_a: Tenant) -> None:
    client = login_as(Client(), tenant_a.teacher)  # a new client: its handler has the middleware
    class_id, lesson_id = tenant_a.school_class.pk, tenant_a.lesson.pk
    assert client.get(f"/classes/{class_id}/").status_code == 200
    assert client.get(f"/lessons/{lesson_id}/").status_code == 200
    assert client.get("/no-such-page/123456/").status_code == 404
    found = scrape(client)
    requests = found["classnote_http_request_duration_seconds"]
    counted = {
        (s.labels["route"], s.labels["method"], s.labels["status"])
        for s in requests
        if s.name.endswith("_count") and s.value > 0
    }
    assert ("/classes/<int:class_id>/", "GET", "2xx") in counted
    assert ("/lessons/<int:lesson_id>/", "GET", "2xx") in counted
    assert ("(unmatched)", "GET", "4xx") in counted
    for samples in found.values():
        for sample in samples:
            for value in sample.labels.values():
                assert f"/{class_id}/" not in value and f"/{lesson_id}/" not in value and "123456" not in value
                assert tenant_a.teacher.username not in value


@override_settings(METRICS_TOKEN=TOKEN)
def test_server_errors_and_outages_are_counted_apart(db: None) -> None:
    before_error = _value("classnote_http_errors_total", route="/healthz", kind="server_error")
    before_out = _value("classnote_http_errors_total", route="/healthz", kind="unavailable")
    client = Client(raise_request_exception=False)
    with mock.patch("classnote.core.views.JsonResponse", side_effect=RuntimeError("boom")):
        assert client.get("/healthz").status_code == 500
    with mock.patch("classnote.core.views.JsonResponse", side_effect=outages.Unavailable(outages.DATABASE)):
        assert client.get("/healthz").status_code == 503
    assert _value("classnote_http_errors_total", route="/healthz", kind="server_error") == before_error + 1
    assert _value("classnote_http_errors_total", route="/healthz", kind="unavailable") == before_out + 1


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@override_settings(METRICS_TOKEN=TOKEN)
def test_a_queue_that_fails_or_hangs_does_not_fail_the_scrape() -> None:
    with mock.patch.object(metrics.HUEY, "pending_count", side_effect=ConnectionError("redis down")):
        found = scrape()
    assert math.isnan(found["classnote_jobs_pending"][0].value)


def test_probe_results_and_stream_counts_are_exposed() -> None:
    metrics.record_probe("api", True, 0.125)
    metrics.record_probe("file-storage", False, None)
    assert _value("classnote_probe_success", component="api") == 1
    assert _value("classnote_probe_latency_seconds", component="api") == 0.125
    assert _value("classnote_probe_success", component="file-storage") == 0
    assert _value("classnote_probes_total", component="file-storage", result="failed") >= 1
    before = _value("classnote_event_streams_open")
    metrics.STREAMS_OPEN.inc()
    assert _value("classnote_event_streams_open") == before + 1
    metrics.STREAMS_OPEN.dec()


def test_the_sqlite_write_lock_wait_is_measured(db: None) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("the write lock is the embedded default's (SQLite)")
    before = _value("classnote_sqlite_write_lock_wait_seconds_count")
    sqlite_base._take_write_lock()
    sqlite_base._write_lock.release()
    assert _value("classnote_sqlite_write_lock_wait_seconds_count") == before + 1


@override_settings(METRICS_TOKEN=TOKEN)
def test_the_event_loop_answer_needs_no_request_thread() -> None:
    """What `classnote serve` answers from the event loop (classnote.asgi)."""

    async def call(*headers: tuple[bytes, bytes]) -> tuple[int, bytes]:
        sent: list[dict[str, Any]] = []

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        scope = {"type": "http", "method": "GET", "path": "/metrics", "headers": list(headers)}
        await metrics.asgi_metrics(scope, send)
        return sent[0]["status"], sent[1]["body"]

    assert asyncio.run(call())[0] == 401
    assert asyncio.run(call((b"authorization", b"Bearer wrong-token-0000000")))[0] == 403
    status, body = asyncio.run(call((b"authorization", f"Bearer {TOKEN}".encode())))
    assert status == 200
    assert "classnote_jobs_pending" in families(body.decode())


MULTIPROCESS_SCRIPT = """
import sys
import django
django.setup()
from classnote.base import outages
from classnote.core import metrics
assert metrics.MULTIPROCESS
metrics.STREAMS_OPEN.inc()
metrics.record_probe("api", sys.argv[1] == "first", 0.5)
metrics.SQLITE_WRITE_LOCK_WAIT.observe(0.002)
if sys.argv[1] == "second":
    sys.stdout.write(metrics.render().decode())
"""


def test_multiprocess_mode_sums_the_processes(tmp_path: Path) -> None:
    """With PROMETHEUS_MULTIPROC_DIR, a scrape of one process reports what every process recorded."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "tests.settings"}

    def run(which: str) -> str:
        result = subprocess.run(
            [sys.executable, "-c", MULTIPROCESS_SCRIPT, which],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    run("first")
    found = families(run("second"))
    waits = {s.name: s.value for s in found["classnote_sqlite_write_lock_wait_seconds"]}
    assert waits["classnote_sqlite_write_lock_wait_seconds_count"] == 2
    # livesum: the first process's file counts until its death is marked (docs/operations.md, *Metrics*)
    assert found["classnote_event_streams_open"][0].value == 2
    assert [s.value for s in found["classnote_probe_success"] if s.labels == {"component": "api"}] == [0]
    assert "classnote_jobs_pending" in found


def test_a_weak_metrics_token_stops_start_up(tmp_path: Path) -> None:
    result = run_classnote(tmp_path, "check", CLASSNOTE_ENV="development", METRICS_TOKEN="short")
    assert result.returncode != 0
    assert "METRICS_TOKEN" in result.stderr


def test_the_dashboard_and_the_docs_name_only_metrics_that_exist() -> None:
    """deploy/grafana, deploy/prometheus and docs/operations.md stay true to classnote.core.metrics."""
    dashboard = json.loads((ROOT / "deploy" / "grafana" / "classnote-dashboard.json").read_text(encoding="utf-8"))
    queries = " ".join(t["expr"] for panel in dashboard["panels"] for t in panel["targets"])
    operations = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    documented = operations.split("\n## Metrics\n", 1)[1].split("\n## ", 1)[0]
    exposed = {family.name for family in REGISTRY.collect()}
    suffixes = ("_bucket", "_count", "_sum", "_total")
    for name in set(re.findall(r"classnote_[a-z_]+", queries + documented)):
        base = next((name[: -len(s)] for s in suffixes if name.endswith(s) and name[: -len(s)] in exposed), name)
        assert base in exposed, f"{name} is named in the dashboard or the docs but not exposed"
    for family in exposed:
        if family.startswith("classnote_"):
            assert family in queries, f"{family} is not on the dashboard"
            assert family in documented, f"{family} is not in docs/operations.md"
