"""Periodic jobs of the status page (huey; run by the consumer in `classnote serve` or `classnote
worker`). Each part of the status page has its own section."""

from __future__ import annotations

import logging
import math
import secrets
import threading

from django.conf import settings
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task, task
from huey.exceptions import ResultTimeout

from classnote.status import actions, history, probe_tenant, recording
from classnote.status import notify as _notify  # noqa: F401 - registers the notification tasks

logger = logging.getLogger("classnote.status")


# --- The prober (i15-prober): a round once a minute on the embedded default ----------------------

_round_running = threading.Lock()  # rounds never overlap in one process (a slow round skips a turn)


@task()
def probe_echo(nonce: str) -> str:
    """The background-jobs probe: a task the consumer must pick up and run for the result."""
    return nonce


def jobs_check(timeout: float) -> None:
    """Enqueue ``probe_echo`` and wait up to TIMEOUT for its result: the queue takes work and a
    consumer runs it. TimeoutError when no consumer ran it in time."""
    nonce = secrets.token_hex(8)
    result = probe_echo(nonce)
    try:
        answer = result.get(blocking=True, timeout=timeout, revoke_on_timeout=True)
    except ResultTimeout as error:
        raise TimeoutError from error
    if answer != nonce:
        raise RuntimeError("wrong result")


@db_periodic_task(crontab(minute=f"*/{max(1, math.ceil(settings.STATUS_PROBE_SECONDS / 60))}"))
def probe_round() -> None:
    """One probe round against the service's own URL, recorded as ProbeResult rows (or spooled)."""
    if not settings.STATUS_PROBE_SCHEDULED:
        return
    if not settings.STATUS_PROBE_URL:
        # Production: the public URL must be given (no round is better than rounds refused by
        # ALLOWED_HOSTS, recorded as an outage that is not one): the components show as unknown.
        logger.warning("status: STATUS_PROBE_URL is not set: no probe round")
        return
    if not _round_running.acquire(blocking=False):
        return
    try:
        credentials = probe_tenant.credentials_for_embedded()
        recording.round_and_record(settings.STATUS_PROBE_URL, credentials, recording.EMBEDDED, jobs=jobs_check)
    except Exception as error:  # noqa: BLE001 - e.g. no credentials while the database is down
        logger.warning("status: the probe round could not run (%s)", type(error).__name__)
    finally:
        _round_running.release()


# --- Figures: daily aggregation and retention of the probe record (status/history.py) -----------
# huey's crontab runs in UTC, as the status page's days are UTC days.


@db_periodic_task(crontab(minute="7", hour="0"))
@lock_task("classnote-status-aggregate")
def aggregate_status_days() -> None:
    """Yesterday (recomputed) and any complete day not aggregated yet."""
    days = history.aggregate_missing()
    logger.info("status days aggregated", extra={"summary": [f"aggregated {len(days)} days"]})


@db_periodic_task(crontab(minute="37", hour="0"))
@lock_task("classnote-status-aggregate")
def apply_status_retention() -> None:
    """Raw probes past STATUS_RAW_DAYS (once aggregated), aggregates past STATUS_AGGREGATE_DAYS."""
    raw, aggregates = history.apply_retention()
    logger.info(
        "status retention applied",
        extra={"summary": [f"deleted {raw} probe results", f"deleted {aggregates} daily aggregates"]},
    )


# --- Incidents and subscribers (i15-incidents) -----------------------------------------------------


@db_periodic_task(crontab(minute="*"))
@lock_task("classnote-status-automatic-drafts")
def open_automatic_drafts() -> None:
    """A draft incident for components whose probes have failed for STATUS_INCIDENT_AFTER_MINUTES."""
    incident = actions.open_automatic_drafts()
    if incident is not None:
        logger.warning(
            "status incident draft #%s opened: probes failing", incident.pk, extra={"event": "status.draft_opened"}
        )


@db_periodic_task(crontab(minute="29"))
@lock_task("classnote-status-subscriber-retention")
def purge_unconfirmed_subscribers() -> None:
    """Unconfirmed e-mail subscriptions are deleted after 7 days (hourly)."""
    deleted = actions.purge_unconfirmed()
    logger.info("unconfirmed status subscriptions purged", extra={"summary": [f"deleted {deleted} subscriptions"]})
