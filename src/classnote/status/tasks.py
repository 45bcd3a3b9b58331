"""Periodic jobs of the status page (huey; run by the consumer in `classnote serve` or `classnote
worker`). Each part of the status page has its own section."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from classnote.status import actions, history
from classnote.status import notify as _notify  # noqa: F401 - registers the notification tasks

logger = logging.getLogger("classnote.status")


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
