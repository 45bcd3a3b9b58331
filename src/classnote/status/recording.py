"""Probe results into the database — or, while it cannot be written, into a local spool.

An outage of the database must be recorded, not left as a gap: when inserting the round's
``ProbeResult`` rows fails, they are appended to ``STATUS_SPOOL_DIR/spool.jsonl`` (JSON lines, one
result per line, append-only, under an exclusive lock), and every later round that reaches the
database first inserts what waits there, in one transaction, then empties the file. A line holds
exactly the fields of a ``ProbeResult`` (no body, name or address).
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection, transaction

from classnote.base import outages
from classnote.core import metrics
from classnote.status import probe_tenant, prober, snapshot, spool
from classnote.status.models import ProbeResult
from classnote.status.prober import Outcome

logger = logging.getLogger("classnote.status")
EMBEDDED = probe_tenant.EMBEDDED


def prober_name() -> str:
    """Which prober recorded a row: the host name of the machine running ``classnote probe``."""
    return socket.gethostname()[:100] or "probe"


def _row(outcome: Outcome, name: str) -> dict[str, Any]:
    return {
        "component": outcome.component,
        "at": datetime.fromtimestamp(outcome.started or 0, tz=UTC).isoformat(),
        "answered": outcome.answered,
        "ok": outcome.ok,
        "latency_ms": outcome.latency_ms,
        "failed_step": outcome.failed_step[:40],
        "detail": outcome.detail[:200],
        "prober": name[:100],
    }


def record(outcomes: list[Outcome], name: str) -> bool:
    """Store the round's OUTCOMES (with what the spool holds first); True when they reached the
    database, False when they went to the spool."""
    rows = [_row(outcome, name) for outcome in outcomes]
    with spool.locked() as path:
        try:
            waiting = spool.read(path)
            with transaction.atomic():
                ProbeResult.objects.bulk_create([spool.as_model(row) for row in [*waiting, *rows]])
            if waiting:
                path.unlink(missing_ok=True)
                logger.info("status: %d spooled probe results recorded", len(waiting))
            return True
        except (DatabaseError, outages.Unavailable) as error:
            logger.warning("status: the database cannot take probe results (%s): spooled", type(error).__name__)
            if not connection.in_atomic_block:  # never under a caller's transaction
                with suppress_all():
                    connection.close()  # the next round connects afresh
    spool.append(rows)
    return False


@contextmanager
def suppress_all() -> Iterator[None]:
    try:
        yield
    except Exception:  # noqa: BLE001 - closing a broken connection may fail in any way
        logger.debug("closing the database connection failed", exc_info=True)


def after_round(outcomes: list[Outcome]) -> None:
    """What runs after every round, recorded or spooled: the probe results on /metrics (this
    process's; in scale-out, a prober in a `classnote worker` shares PROMETHEUS_MULTIPROC_DIR with an
    app process to be scraped, docs/operations.md *Metrics*), then the static snapshot of the status
    page (classnote.status.snapshot), which never raises: while the database is down the last good
    snapshot stays, and /status/ and the reverse proxy show it with its age."""
    for outcome in outcomes:
        latency = None if outcome.latency_ms is None else outcome.latency_ms / 1000
        metrics.record_probe(outcome.component, outcome.ok, latency)
    snapshot.publish()


def purge_quietly() -> None:
    """What probe rounds left behind (probe_tenant.purge); never fails the round."""
    try:
        probe_tenant.purge()
    except Exception as error:  # noqa: BLE001 - the next round tries again
        logger.info("status: probe data not purged this round (%s)", type(error).__name__)


def round_and_record(
    base_url: str,
    credentials: probe_tenant.Credentials,
    name: str,
    *,
    jobs: Callable[[float], None] | None = None,
    timeout: float | None = None,
) -> list[Outcome]:
    """One round against BASE_URL, recorded (or spooled), then the hooks and the purge."""
    close_old_connections()
    outcomes = prober.run_round(
        base_url, credentials, timeout=float(timeout or settings.STATUS_PROBE_TIMEOUT), jobs=jobs
    )
    record(outcomes, name)
    after_round(outcomes)
    purge_quietly()
    return outcomes
