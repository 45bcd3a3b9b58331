"""Background jobs of the core (huey). Run by the consumer inside `classnote serve` on the embedded
default, or by `classnote worker` processes in scale-out."""

from __future__ import annotations

from django.core.management import call_command
from huey import crontab
from huey.contrib.djhuey import db_periodic_task


@db_periodic_task(crontab(minute="17", hour="3"))
def clear_expired_sessions() -> None:
    call_command("clearsessions")
