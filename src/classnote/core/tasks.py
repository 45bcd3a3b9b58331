"""Background jobs of the core (huey). Run by the consumer inside `classnote serve` on the embedded
default, or by `classnote worker` processes in scale-out."""

from __future__ import annotations

import logging

from django.core.management import call_command
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from classnote.core import models
from classnote.core.models import CacheEntry

logger = logging.getLogger("classnote.retention")


@db_periodic_task(crontab(minute="17", hour="3"))
def clear_expired_sessions() -> None:
    call_command("clearsessions")


@db_periodic_task(crontab(minute="23"))
def purge_idempotency_keys() -> None:
    """Idempotency keys and their recorded outcomes, IDEMPOTENCY_KEY_HOURS after the write (hourly)."""
    deleted = models.expired().delete()[0]
    logger.info("idempotency keys purged", extra={"summary": [f"deleted {deleted} idempotency keys"]})


@db_periodic_task(crontab(minute="41"))
def purge_cache_table() -> None:
    """Expired rows of the database's cache table (login-failure counters, what the cache held while
    Redis was down): Django's DatabaseCache deletes one only when it is read again."""
    CacheEntry.objects.filter(expires__lt=timezone.now()).delete()
