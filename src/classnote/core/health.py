"""Readiness (issue 13): each dependency checked off the request threads, with a deadline, and
named when it fails.

/readyz used to run its checks on a request thread with no timeout: with the database or the file
storage hung, the probe itself hung and held a thread. Here every check runs on a small pool of its
own, and the answer waits at most READY_CHECK_TIMEOUT: a check still running by then reports
``timeout``; while it is still stuck, later probes report ``timeout`` again without starting
another (a hung backend cannot eat the pool). Served from the event loop (classnote.asgi) it uses
no request thread at all; the Django view (tests, other servers) waits for the same checks.

* database: a round trip; a committed write on the embedded default (SQLite: a row of the cache
  table), whose file also needs READY_MIN_FREE_MB of free space; on PostgreSQL, not a read-only
  standby.
* cache: a write and a read.
* storage: a small object written and deleted.
* disk: free space under CLASSNOTE_HOME (logs, jobs, the embedded database and files).

Values: ``ok``, ``timeout``, ``failing``, ``not_writable``. Nothing else leaves the box; the log
has the cause.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_all
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.utils import timezone

from classnote.base import deadlines, outages
from classnote.core.models import CacheEntry

logger = logging.getLogger(__name__)

OK, TIMEOUT, FAILING, NOT_WRITABLE = "ok", "timeout", "failing", "not_writable"
# The row the database's write probe rewrites (the cache's own keys start with a prefix and version).
PROBE_KEY = "classnote:readyz:write-probe"


class NotWritable(Exception):
    pass


def _enough_space() -> bool:
    free = shutil.disk_usage(settings.CLASSNOTE_HOME).free
    return free >= settings.READY_MIN_FREE_MB * 1024 * 1024


def check_database() -> None:
    try:
        with deadlines.until(time.monotonic() + settings.READY_CHECK_TIMEOUT):
            if connection.vendor == "sqlite":
                if not _enough_space():
                    raise NotWritable("no free space for the database")
                in_memory = getattr(connection, "is_in_memory_db", None)
                if in_memory is not None and in_memory():
                    connection.ensure_connection()  # (the tests' database: no file to write)
                else:
                    # A committed write, through the same write queue as every other (BEGIN
                    # IMMEDIATE), to a row of the cache table that the cache itself never reads.
                    CacheEntry.objects.update_or_create(
                        cache_key=PROBE_KEY, defaults={"value": "", "expires": timezone.now()}
                    )
            else:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_is_in_recovery()")
                    (standby,) = cursor.fetchone()
                if standby:
                    raise NotWritable("the database is a read-only standby")
    finally:
        connection.close()  # a pooled connection goes back; a broken one is not kept


def check_cache() -> None:
    probe = f"readyz-{uuid.uuid4().hex}"
    cache.set(probe, "1", 5)
    if cache.get(probe) != "1":
        raise RuntimeError("the cache did not keep a value")
    cache.delete(probe)


def check_storage() -> None:
    """A small object written and deleted (the files app puts its own check in its place, which
    first asks its circuit breaker: classnote.files.apps)."""
    name = default_storage.save(f"_readyz/{uuid.uuid4().hex}", ContentFile(b"ok"))
    default_storage.delete(name)


def check_disk() -> None:
    if not _enough_space():
        raise NotWritable("less free space than READY_MIN_FREE_MB")


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "cache": check_cache,
    "storage": check_storage,
    "disk": check_disk,
}


def register(name: str, check: Callable[[], None]) -> None:
    """Add or replace the check NAME (an app's own, from its AppConfig.ready)."""
    CHECKS[name] = check


_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="readyz")
_running: dict[str, Future[str]] = {}
_lock = threading.Lock()


def _run(name: str, check: Callable[[], None]) -> str:
    try:
        check()
    except NotWritable:
        logger.warning("readiness: %s is not writable", name)
        return NOT_WRITABLE
    except Exception as error:  # noqa: BLE001 - any failure means "not ready"; the log names the cause
        logger.warning("readiness: %s failing (%s)", name, outages.describe(error))
        return FAILING
    return OK


def start() -> dict[str, Future[str]]:
    """A future per check: the one still running from an earlier probe, else a new one."""
    with _lock:
        for name, check in CHECKS.items():
            running = _running.get(name)
            if running is None or running.done():
                _running[name] = _pool.submit(_run, name, check)
        return dict(_running)


def _answer(futures: dict[str, Future[str]]) -> tuple[bool, dict[str, Any]]:
    checks = {name: future.result() if future.done() else TIMEOUT for name, future in futures.items()}
    for name, value in checks.items():
        if value == TIMEOUT:
            logger.warning("readiness: %s did not answer within %s s", name, settings.READY_CHECK_TIMEOUT)
    ready = all(value == OK for value in checks.values())
    return ready, {"status": "ok" if ready else "failing", "checks": checks}


def readiness() -> tuple[bool, dict[str, Any]]:
    futures = start()
    wait_all(futures.values(), timeout=settings.READY_CHECK_TIMEOUT)
    return _answer(futures)


async def asgi_readyz(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """/readyz on the event loop: no request thread is used or waited for."""
    futures = start()
    await asyncio.wait([asyncio.wrap_future(f) for f in futures.values()], timeout=settings.READY_CHECK_TIMEOUT)
    ready, answer = _answer(futures)
    body = json.dumps(answer).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200 if ready else 503,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
                (b"x-content-type-options", b"nosniff"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
