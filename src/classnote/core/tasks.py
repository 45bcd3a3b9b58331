"""Background jobs of the core (huey). Run by the consumer inside `classnote serve` on the embedded
default, or by `classnote worker` processes in scale-out."""

from __future__ import annotations

from django.core.management import call_command
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from classnote.core.models import CacheEntry


@db_periodic_task(crontab(minute="17", hour="3"))
def clear_expired_sessions() -> None:
    call_command("clearsessions")


@db_periodic_task(crontab(minute="41"))
def purge_cache_table() -> None:
    """Expired rows of the database's cache table (login-failure counters, what the cache held while
    Redis was down): Django's DatabaseCache deletes one only when it is read again."""
    CacheEntry.objects.filter(expires__lt=timezone.now()).delete()
