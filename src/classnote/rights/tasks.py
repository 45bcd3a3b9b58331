"""The nightly retention job (huey; run by the consumer in `classnote serve` or `classnote worker`)."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from classnote.rights import retention

logger = logging.getLogger("classnote.retention")


@db_periodic_task(crontab(minute="40", hour="2"))
@lock_task("classnote-retention")
def apply_retention() -> None:
    report = retention.run(dry_run=False)
    # Counts only: no names, no ids of people.
    logger.info("retention applied", extra={"summary": report.lines()})
