"""The static snapshot of the status page: up when the service is down (issue 15).

``publish()`` renders the page in each language (``index.html``, ``index.ja.html``,
``index.zh-hant.html``, linked to each other), ``api/summary.json`` and ``feed.atom``, with the page's
stylesheet and script beside them, into ``STATUS_SNAPSHOT_DIR`` (atomic writes: a temporary file,
then a rename), and uploads them to ``STATUS_SNAPSHOT_S3_URL`` when set. The layout mirrors the
URLs under /status/, so the reverse proxy (deploy/nginx) can serve the directory for /status/ when
the app does not answer, and a bucket or another server can host it on a separate origin.

The prober calls ``publish()`` after every round: it never raises (a failure is logged, and the
last good snapshot stays), and it does no more than one Summary and four renders.

``last()`` reads the published summary.json back: /status/ shows it, with its age, while the
database is down. Rounds go on meanwhile, their results in the prober's spool: each snapshot then
is the last good one with every component's state taken from its latest spooled result
(``overlay``), so the page turns red while the database is away; the figures and bars stay as they
were until it is back.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from django.conf import settings
from django.contrib.staticfiles import finders
from django.utils import timezone
from django.utils.translation import override

from classnote.base import outages
from classnote.status import figures as fig
from classnote.status import history, public, queries, spool
from classnote.status import summary as s
from classnote.status.components import COMPONENTS, USER_FACING
from classnote.status.models import ProbeResult

logger = logging.getLogger(__name__)

ASSETS = {
    "status.css": "classnote/status.css",
    "status.js": "classnote/status.js",
    "favicon.svg": "classnote/favicon.svg",
}
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".atom": "application/atom+xml; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}


def directory() -> Path:
    return Path(settings.STATUS_SNAPSHOT_DIR)


def page_name(language: str) -> str:
    return f"index{public.LANGUAGE_SUFFIX.get(language, '.' + language)}.html"


def _write(path: Path, content: bytes) -> None:
    """Atomically: readers see the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(content)
        os.chmod(temporary, 0o644)  # public by nature; read by the web server
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def render(summary: s.Summary) -> dict[str, bytes]:
    """The snapshot's files by their path in the directory."""
    base = settings.STATUS_PUBLIC_URL
    files: dict[str, bytes] = {}
    languages = {code: page_name(code) for code, _name in settings.LANGUAGES}
    subscribe = f"{base}subscribe/" if base else "/status/subscribe/"
    for code, _name in settings.LANGUAGES:
        links = {"feed": "feed.atom", "json": "api/summary.json", "subscribe": subscribe, "languages": languages}
        html = public.render_page(summary, code, {"css": "status.css", "js": "status.js", "icon": "favicon.svg"}, links)
        files[page_name(code)] = html.encode()
    with override(settings.LANGUAGE_CODE):
        data = public.as_json(summary, base)
    files["api/summary.json"] = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    files["feed.atom"] = public.as_atom(
        summary, base, f"{base}feed.atom" if base else "feed.atom", settings.LANGUAGE_CODE
    )
    for name, static in ASSETS.items():
        found = finders.find(static)
        if found:
            files[name] = Path(str(found)).read_bytes()
    return files


def current() -> s.Summary:
    """The Summary to publish: from the database and the spool; while the database is down, the last
    snapshot with the spooled results' states. Raises when there is neither."""
    waiting = spool.pending()
    try:
        return queries.summary(pending=waiting)
    except Exception as error:
        outage = outages.classify(error)
        base = last() if outage is not None and outage.dependency == outages.DATABASE else None
        if base is None:
            raise
        return overlay(base, waiting)


def overlay(base: s.Summary, results: list[ProbeResult], now: dt.datetime | None = None) -> s.Summary:
    """BASE (the last snapshot) with each component's state, last check, latency and failed step from
    its latest result among RESULTS that is newer than what BASE shows; the whole service's state
    follows. Figures, bars and posts stay BASE's."""
    now = now or timezone.now()
    latest = {result.component: result for result in sorted(results, key=lambda r: r.at)}
    gap = history.gap_seconds()
    components = []
    for component in base.components:
        result = latest.get(component.key)
        if result is None or (component.checked_at is not None and result.at <= component.checked_at):
            components.append(component)
            continue
        state = fig.probe_state(
            at=result.at,
            answered=result.answered,
            ok=result.ok,
            latency_ms=result.latency_ms,
            failed_step=result.failed_step,
            objective_ms=COMPONENTS[component.key].objective_ms if component.key in COMPONENTS else 0,
            now=now,
            gap_seconds=gap,
            in_maintenance=component.state == s.MAINTENANCE,
        )
        components.append(
            replace(
                component,
                state=state,
                checked_at=result.at,
                latency_ms=result.latency_ms,
                failed_step="" if result.ok else result.failed_step,
            )
        )
    states = {c.key: c.state for c in components}
    service_state = fig.service_state([states[key] for key in USER_FACING if key in states])
    return replace(
        base,
        generated_at=now,
        state=service_state,
        service=replace(base.service, state=service_state),
        components=components,
        snapshot_age_seconds=None,
    )


def publish(summary: s.Summary | None = None) -> bool:
    """Render and write the snapshot (and upload it when a bucket is set). True when written; never
    raises: the prober's round goes on, and the last good snapshot stays."""
    try:
        files = render(summary if summary is not None else current())
        target = directory()
        for name, content in files.items():
            _write(target / name, content)
        for folder in (target, target / "api"):
            folder.chmod(0o755)  # read by the web server (deploy/nginx), whatever the process's umask
    except Exception as error:  # noqa: BLE001 - the prober must go on; the cause is logged
        logger.warning("status snapshot: not published (%s)", outages.describe(error))
        return False
    if settings.STATUS_SNAPSHOT_S3_URL:
        upload(files)
    return True


def _client() -> Any:
    config = Config(
        connect_timeout=settings.STATUS_SNAPSHOT_S3_TIMEOUT,
        read_timeout=settings.STATUS_SNAPSHOT_S3_TIMEOUT,
        retries={"total_max_attempts": 1, "mode": "standard"},
        signature_version="s3v4",
        s3={"addressing_style": settings.STATUS_SNAPSHOT_S3_ADDRESSING_STYLE},
    )
    return boto3.client(
        "s3",
        endpoint_url=settings.STATUS_SNAPSHOT_S3_ENDPOINT_URL or None,
        region_name=settings.STATUS_SNAPSHOT_S3_REGION or None,
        aws_access_key_id=settings.STATUS_SNAPSHOT_S3_ACCESS_KEY_ID or None,
        aws_secret_access_key=settings.STATUS_SNAPSHOT_S3_SECRET_ACCESS_KEY or None,
        verify=settings.STATUS_SNAPSHOT_S3_VERIFY,
        config=config,
    )


def upload(files: dict[str, bytes]) -> bool:
    """Put the files under the bucket's prefix (s3://bucket/prefix). Never raises."""
    url = urlsplit(settings.STATUS_SNAPSHOT_S3_URL)
    bucket, prefix = url.netloc, url.path.strip("/")
    try:
        client = _client()
        # Assets and pages first, summary.json last: a reader never gets a page newer than its data.
        for name in sorted(files, key=lambda n: n == "api/summary.json"):
            key = f"{prefix}/{name}" if prefix else name
            client.put_object(
                Bucket=bucket,
                Key=key,
                Body=files[name],
                ContentType=CONTENT_TYPES.get(Path(name).suffix, "application/octet-stream"),
                CacheControl="public, max-age=30",
            )
    except Exception as error:  # noqa: BLE001 - the prober must go on; the cause is logged
        logger.warning("status snapshot: upload failed (%s)", outages.describe(error))
        return False
    return True


def last() -> s.Summary | None:
    """The last published Summary (from the directory's summary.json) with its age, or None."""
    try:
        data = json.loads((directory() / "api/summary.json").read_text(encoding="utf-8"))
        return public.from_json(data)
    except (OSError, ValueError, KeyError, TypeError) as error:
        logger.warning("status snapshot: none to show (%s)", type(error).__name__)
        return None
