"""Background jobs of the status page (huey). Each part of issue 15 has its own section here."""

from __future__ import annotations

import logging
import math
import secrets
import threading

from django.conf import settings
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, task
from huey.exceptions import ResultTimeout

from classnote.status import probe_tenant, recording

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
