"""The public status page (issue 15): /status/, its Atom feed, summary.json (and its schema in the
OpenAPI document), the static snapshot, and the page while the database is down."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import jsonschema_rs
import pytest
from django.db import connection
from django.db.utils import OperationalError
from django.test import Client

from classnote.status import public, snapshot, spool
from classnote.status import summary as s
from tests.status import factories

ATOM = "{http://www.w3.org/2005/Atom}"
pytestmark = pytest.mark.django_db


@pytest.fixture
def summary() -> Iterator[s.Summary]:
    made = factories.summary({"files": s.OUTAGE, "jobs": s.UNKNOWN})
    with mock.patch("classnote.status.queries.summary", return_value=made):
        yield made


@pytest.fixture
def snapshot_dir(tmp_path: Path, settings: Any) -> Path:
    settings.STATUS_SNAPSHOT_DIR = tmp_path / "snapshot"
    settings.STATUS_SNAPSHOT_S3_URL = ""
    return settings.STATUS_SNAPSHOT_DIR


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", ["Partial outage", "File storage", "Outage", "Past incidents"]),
        ("ja", ["一部", "ファイル", "過去"]),
        ("zh-hant", ["部分", "檔案", "過去"]),
    ],
)
def test_the_page_in_each_language_anonymous_and_cacheable(summary: s.Summary, lang: str, expected: list[str]) -> None:
    response = Client().get(f"/status/?lang={lang}")
    assert response.status_code == 200
    assert response["Content-Language"] == lang
    assert response["Cache-Control"] == "public, max-age=30"
    assert not response.cookies, "the status page sets no cookie (no session, no CSRF token)"
    html = response.content.decode()
    for text in expected:
        assert text in html
    # Each day of each bar has a text alternative; a day without probes says it is unknown.
    assert html.count('class="status-bar ') == 90 * (len(summary.components) + 1)
    assert "no probe results" in html or lang != "en"
    assert "Sign-in is slow" in html and "A slow disk; moving the database." in html  # incident + update
    assert "Database upgrade" in html  # upcoming maintenance
    assert "99.9897%" in html  # the quarter's figure, never rounded up
    assert 'href="/status/feed.atom?lang=' in html and "/status/subscribe/" in html
    assert "<script>" not in html and "style=" not in html  # the CSP: no inline script or style


def test_the_language_follows_accept_language(summary: s.Summary) -> None:
    response = Client().get("/status/", HTTP_ACCEPT_LANGUAGE="ja")
    assert response["Content-Language"] == "ja" and "コンポーネント" in response.content.decode()


def test_the_feed_is_atom(summary: s.Summary) -> None:
    response = Client().get("/status/feed.atom?lang=ja")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    assert response["Cache-Control"] == "public, max-age=30"
    root = ET.fromstring(response.content)  # noqa: S314 - our own feed, parsed as a reader would
    assert root.tag == f"{ATOM}feed"
    for tag in ("id", "title", "updated"):
        assert root.find(f"{ATOM}{tag}") is not None and root.find(f"{ATOM}{tag}").text
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 3  # the active incident, the maintenance, the past incident
    for entry in entries:
        for tag in ("id", "title", "updated"):
            assert entry.find(f"{ATOM}{tag}").text
        assert entry.find(f"{ATOM}link").get("href").startswith("http://testserver/status/#")
    titles = [e.find(f"{ATOM}title").text for e in entries]
    assert any("インシデント" in t and "調査中" in t for t in titles)
    # The incident's updates are in its entry.
    assert "A slow disk" in ET.tostring(entries[0], encoding="unicode")
    # Nothing from the future: the feed's updated is when the posts were last updated.
    updated = dt.datetime.fromisoformat(root.find(f"{ATOM}updated").text)
    assert updated <= factories.NOW


def _openapi_schema_of(client: Client, path: str) -> dict[str, Any]:
    document = client.get("/api/openapi.json").json()
    schema = document["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    return {**schema, "components": document["components"]}


@pytest.mark.parametrize("url", ["/status/api/summary.json", "/api/status/summary.json"])
def test_summary_json_matches_its_openapi_schema(summary: s.Summary, url: str) -> None:
    client = Client()
    response = client.get(url)
    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=30"
    assert response["Access-Control-Allow-Origin"] == "*"
    data = response.json()
    jsonschema_rs.validate(_openapi_schema_of(client, "/api/status/summary.json"), data)
    # Statuspage's conventions
    assert data["page"]["url"] == "http://testserver/status/"
    assert data["status"] == {"indicator": "major", "description": "Partial outage", "state": "operational"}
    files = next(c for c in data["components"] if c["id"] == "files")
    assert files["status"] == "major_outage" and files["state"] == "outage"
    assert next(c for c in data["components"] if c["id"] == "jobs")["status"] == "unknown"
    assert [i["name"] for i in data["incidents"]] == ["Sign-in is slow"]
    assert data["incidents"][0]["incident_updates"][0]["status"] == "identified"
    assert data["scheduled_maintenances"][0]["scheduled_for"] == "2026-12-09T12:00:00Z"
    # Our figures
    assert data["service"]["figures"]["quarter"]["availability"] == pytest.approx(0.999897)
    assert data["components"][0]["figures"]["30d"]["coverage"] == pytest.approx(0.98)
    assert len(data["components"][0]["days"]) == 90
    assert data["error_budget"]["left_seconds"] == 495.0


def test_summary_json_names_follow_the_language(summary: s.Summary) -> None:
    data = Client().get("/status/api/summary.json?lang=zh-hant").json()
    assert data["components"][0]["name"] != "Sign-in"


def test_writes_are_refused(summary: s.Summary) -> None:
    client = Client(enforce_csrf_checks=True)
    for url in ("/status/", "/status/feed.atom", "/status/api/summary.json"):
        assert client.post(url).status_code in (403, 405)


def test_the_page_from_the_database(snapshot_dir: Path) -> None:
    """Without the mock: the placeholder/real queries.summary() over an empty record shows unknown."""
    response = Client().get("/status/")
    assert response.status_code == 200
    assert "No data" in response.content.decode()


# --- The static snapshot ------------------------------------------------------------------------


def test_publish_writes_every_language_json_and_atom(snapshot_dir: Path) -> None:
    assert snapshot.publish(factories.summary())
    names = sorted(str(p.relative_to(snapshot_dir)) for p in snapshot_dir.rglob("*") if p.is_file())
    assert names == [
        "api/summary.json",
        "favicon.svg",
        "feed.atom",
        "index.html",
        "index.ja.html",
        "index.zh-hant.html",
        "status.css",
        "status.js",
    ]
    english = (snapshot_dir / "index.html").read_text()
    assert 'href="index.ja.html"' in english and 'href="index.zh-hant.html"' in english
    assert 'href="status.css"' in english and 'src="status.js"' in english and 'data-json="api/summary.json"' in english
    assert "/static/" not in english  # self-contained
    assert "コンポーネント" in (snapshot_dir / "index.ja.html").read_text()
    ET.fromstring((snapshot_dir / "feed.atom").read_bytes())  # noqa: S314 - our own feed
    json.loads((snapshot_dir / "api/summary.json").read_text())
    assert not list(snapshot_dir.rglob(".*")), "no temporary file left behind"


def test_publish_never_raises(snapshot_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    snapshot_dir.parent.mkdir(exist_ok=True)
    snapshot_dir.write_text("a file where the directory should be")
    assert snapshot.publish(factories.summary()) is False
    with mock.patch("classnote.status.queries.summary", side_effect=RuntimeError("boom")):
        assert snapshot.publish() is False
    assert "status snapshot: not published" in caplog.text


def test_publish_uploads_to_the_bucket(snapshot_dir: Path, settings: Any) -> None:
    settings.STATUS_SNAPSHOT_S3_URL = "s3://status-bucket/public/status"
    client = mock.Mock()
    with mock.patch.object(snapshot, "_client", return_value=client):
        assert snapshot.publish(factories.summary())
    keys = [call.kwargs["Key"] for call in client.put_object.call_args_list]
    assert keys[-1] == "public/status/api/summary.json"  # the data last
    assert "public/status/index.ja.html" in keys
    calls = {call.kwargs["Key"]: call.kwargs for call in client.put_object.call_args_list}
    assert calls["public/status/feed.atom"]["ContentType"].startswith("application/atom+xml")
    assert all(call["Bucket"] == "status-bucket" for call in calls.values())
    client.put_object.side_effect = OSError("unreachable")
    with mock.patch.object(snapshot, "_client", return_value=client):
        assert snapshot.publish(factories.summary())  # written locally; the failed upload is only logged


def test_the_s3_client_has_bounded_timeouts(settings: Any) -> None:
    settings.STATUS_SNAPSHOT_S3_ENDPOINT_URL = "http://127.0.0.1:9"
    settings.STATUS_SNAPSHOT_S3_TIMEOUT = 3
    settings.STATUS_SNAPSHOT_S3_REGION = "us-east-1"
    settings.STATUS_SNAPSHOT_S3_ACCESS_KEY_ID = "status"
    settings.STATUS_SNAPSHOT_S3_SECRET_ACCESS_KEY = "not-a-secret"
    config = snapshot._client().meta.config
    assert config.connect_timeout == 3 and config.read_timeout == 3
    assert config.retries.get("total_max_attempts", config.retries.get("max_attempts")) == 1


@contextmanager
def database_down() -> Iterator[None]:
    """Every query fails as SQLite does when its file cannot be opened."""

    def fail(*args: object) -> None:
        try:
            raise sqlite3.OperationalError("unable to open database file")
        except sqlite3.OperationalError as error:
            raise OperationalError(*error.args) from error

    with connection.execute_wrapper(fail):
        yield


def test_database_down_shows_the_last_snapshot_and_its_age(snapshot_dir: Path) -> None:
    published = factories.summary({"files": s.OUTAGE}, generated_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=7))
    assert snapshot.publish(published)
    with database_down():
        response = Client().get("/status/?lang=ja")
        english = Client().get("/status/")
    assert response.status_code == 503 and response["Retry-After"]
    assert response["Cache-Control"] == "no-store"
    html = response.content.decode()
    assert "7 分前" in html  # "as of 7 minutes ago", in Japanese
    assert "ファイル" in html and "Sign-in is slow" in html  # the snapshot's components and incidents
    assert "as of 7 minutes ago" in english.content.decode()


def test_database_down_without_a_snapshot_is_a_translated_503(snapshot_dir: Path) -> None:
    with database_down():
        response = Client().get("/status/?lang=ja")
    assert response.status_code == 503
    assert "スナップショット" in response.content.decode()


def test_a_bug_is_not_hidden_as_an_outage(snapshot_dir: Path) -> None:
    with mock.patch("classnote.status.queries.summary", side_effect=ValueError("a bug")):
        response = Client(raise_request_exception=False).get("/status/")
    assert response.status_code == 500


def test_from_json_round_trips() -> None:
    made = factories.summary()
    back = public.from_json(public.as_json(made, "/status/"), now=factories.NOW + dt.timedelta(minutes=3))
    assert back.snapshot_age_seconds == 180
    assert [c.state for c in back.components] == [c.state for c in made.components]
    assert back.active_incidents[0].updates == made.active_incidents[0].updates
    assert back.maintenance[0].ends_at == made.maintenance[0].ends_at


def test_while_the_database_is_down_each_round_publishes_the_spooled_states(snapshot_dir: Path, settings: Any) -> None:
    """The prober's rounds go on while the database is away, their results in the spool: the snapshot
    it publishes then is the last good one with each component's state from its latest result, so
    /status/ (and the proxy's copy) turns red at once, not when the database is back."""
    settings.STATUS_SPOOL_DIR = snapshot_dir.parent / "spool"
    assert snapshot.publish(factories.summary(generated_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=3)))
    now = dt.datetime.now(dt.UTC)
    spool.append(
        [
            {
                "component": key,
                "at": now.isoformat(),
                "answered": True,
                "ok": key == "api",
                "latency_ms": 40,
                "failed_step": "" if key == "api" else "login",
                "detail": "HTTP 503",
                "prober": "embedded",
            }
            for key in ("sign-in", "lessons", "files", "api")
        ]
    )
    with database_down():
        assert snapshot.publish()  # no database: the last snapshot, overlaid
        response = Client().get("/status/?lang=en")
    shown = snapshot.last()
    assert shown is not None
    states = {c.key: c.state for c in shown.components}
    assert states["sign-in"] == states["lessons"] == states["files"] == s.OUTAGE
    assert states["api"] == s.OPERATIONAL
    assert shown.state == shown.service.state == s.OUTAGE
    assert {c.key: c.failed_step for c in shown.components}["files"] == "login"
    assert response.status_code == 503 and 'data-state-value="outage"' in response.content.decode()


def test_without_a_database_or_a_snapshot_nothing_is_published(snapshot_dir: Path, settings: Any) -> None:
    settings.STATUS_SPOOL_DIR = snapshot_dir.parent / "spool"
    with database_down():
        assert snapshot.publish() is False
    assert not (snapshot_dir / "api" / "summary.json").exists()


def test_one_summary_serves_every_visitor_for_a_few_seconds(settings: Any) -> None:
    """A summary costs about 0.1 s of CPU and the page is public: the page, the feed and both JSON
    documents share one per language for STATUS_PAGE_CACHE_SECONDS, not one per request."""
    settings.STATUS_PAGE_CACHE_SECONDS = 10
    made = factories.summary()
    with mock.patch("classnote.status.queries.summary", return_value=made) as computed:
        for path in ("/status/", "/status/feed.atom", "/status/api/summary.json", "/api/status/summary.json"):
            assert Client().get(path).status_code == 200, path
        assert computed.call_count == 1
        Client().get("/status/", HTTP_ACCEPT_LANGUAGE="ja")
        assert computed.call_count == 2  # the names are in the visitor's language: one per language
    settings.STATUS_PAGE_CACHE_SECONDS = 0
    with mock.patch("classnote.status.queries.summary", return_value=made) as computed:
        Client().get("/status/")
        Client().get("/status/")
        assert computed.call_count == 2
