"""The nightly patch check (huey; run by the consumer in `classnote serve` or `classnote worker`)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from classnote.security import reports


@db_periodic_task(crontab(minute="10", hour="3"))
@lock_task("classnote-security-patches")
def check_patches() -> None:
    reports.run("nightly")  # does nothing while SECURITY_FEED is unset
