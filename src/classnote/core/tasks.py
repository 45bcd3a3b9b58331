"""Background jobs of the core (huey). Run by the consumer inside `classnote serve` on the embedded
default, or by `classnote worker` processes in scale-out."""

from __future__ import annotations

import logging

from django.core.management import call_command
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from classnote.core import models

logger = logging.getLogger("classnote.retention")


@db_periodic_task(crontab(minute="17", hour="3"))
def clear_expired_sessions() -> None:
    call_command("clearsessions")


@db_periodic_task(crontab(minute="23"))
def purge_idempotency_keys() -> None:
    """Idempotency keys and their recorded outcomes, IDEMPOTENCY_KEY_HOURS after the write (hourly)."""
    deleted = models.expired().delete()[0]
    logger.info("idempotency keys purged", extra={"summary": [f"deleted {deleted} idempotency keys"]})
