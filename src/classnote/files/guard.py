"""A bulkhead and a circuit breaker around file storage, per serving process (issue 13).

A storage that hangs (a frozen S3 server: the kernel still accepts the connection, nothing answers)
used to hold every request thread that touched a file until botocore gave up, a minute or more
later, so the lessons that never touch a file stopped too. Every call of the storage
(classnote.files.storage) now goes through :data:`guard`:

* **Bulkhead.** At most ``STORAGE_CONCURRENCY`` storage calls run at once in a process (fewer than
  its request threads, ``WSGI_THREADS``). A call that finds them all taken waits a moment
  (``SLOT_WAIT``, far shorter than a storage deadline, and never past the request's deadline) and
  is then refused with
  ``Unavailable(STORAGE, BUSY)``: a 503 with ``Retry-After``, and the request thread is free again.
* **Circuit breaker.** A call that fails because the storage did not answer in time or could not
  be reached (outages.classify: botocore timeouts, connection errors, 5xx answers) opens the
  circuit for ``STORAGE_RETRY_SECONDS``: every call in that time is refused at once with
  ``Unavailable(STORAGE)``, without waiting on the network. After it, one call is let through as a
  probe (half-open; the others are still refused): if the storage answers, the circuit closes,
  otherwise it opens again. Any answer of the storage counts, "no such key" too.

A full local disk is no storage outage: it surfaces as ``Unavailable(DISK, DISK_FULL)`` (507) and
leaves the circuit closed (reads still work). Errors that are no outage (a missing file, a bug)
pass through unchanged.

:func:`storage_health` reports the state without touching the storage, for a readiness check.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings

from classnote.base import deadlines, outages
from classnote.core import health

logger = logging.getLogger(__name__)
T = TypeVar("T")

# How long a call may wait for a free place among STORAGE_CONCURRENCY (seconds). Healthy storage
# calls take milliseconds, so this only smooths a burst; a hung storage never holds more threads.
SLOT_WAIT = 0.5
# What a client refused by a full bulkhead is told to wait (seconds).
BUSY_RETRY_AFTER = 5

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half-open"


class StorageGuard:
    def __init__(
        self,
        concurrency: Callable[[], int] = lambda: int(settings.STORAGE_CONCURRENCY),
        retry_seconds: Callable[[], float] = lambda: float(settings.STORAGE_RETRY_SECONDS),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._concurrency = concurrency
        self._retry_seconds = retry_seconds
        self._clock = clock
        self._condition = threading.Condition()
        self._inside = threading.local()  # a storage call made inside another one (save -> exists)
        self.reset()

    def reset(self) -> None:
        """Closed and idle (tests; a process starting anew)."""
        with self._condition:
            self._running = 0
            self._open_until = 0.0  # monotonic time; 0: closed
            self._probing = False
            self._reason = outages.UNREACHABLE
            self._condition.notify_all()

    # --- the calls ---------------------------------------------------------------------------

    def run(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """FUNCTION(*ARGS, **KWARGS), a call of the storage, within the bulkhead and the circuit."""
        if getattr(self._inside, "active", False):
            return function(*args, **kwargs)
        probe = self._enter()
        self._inside.active = True
        try:
            result = function(*args, **kwargs)
        except BaseException as error:
            self._inside.active = False
            outage = outages.classify(error)
            self._leave(probe, failed=outage is not None and outage.dependency == outages.STORAGE, error=error)
            if outage is not None and not isinstance(error, outages.Unavailable):
                raise outages.Unavailable(outage.dependency, outage.reason, outage.retry_after) from error
            raise
        self._inside.active = False
        self._leave(probe, failed=False)
        return result

    def _refusal(self, now: float) -> outages.Unavailable:
        wait = max(1, math.ceil(self._open_until - now))
        return outages.Unavailable(outages.STORAGE, self._reason, retry_after=wait)

    def _enter(self) -> bool:
        """Take a place; True when this call is the half-open circuit's probe."""
        deadline = self._clock() + deadlines.limit(SLOT_WAIT)
        with self._condition:
            while True:
                now = self._clock()
                probe = False
                if self._open_until:
                    if now < self._open_until or self._probing:
                        raise self._refusal(now)
                    probe = True  # half-open: this call finds out whether the storage is back
                if self._running < max(1, self._concurrency()):
                    self._running += 1
                    if probe:
                        self._probing = True
                    return probe
                if now >= deadline:
                    raise outages.Unavailable(outages.STORAGE, outages.BUSY, retry_after=BUSY_RETRY_AFTER)
                self._condition.wait(deadline - now)

    def _leave(self, probe: bool, *, failed: bool, error: BaseException | None = None) -> None:
        with self._condition:
            self._running -= 1
            if probe:
                self._probing = False
            if failed:
                was_closed = not self._open_until
                outage = outages.classify(error)
                self._reason = outage.reason if outage is not None else outages.UNREACHABLE
                self._open_until = self._clock() + max(0.0, self._retry_seconds())
                if was_closed or probe:
                    logger.warning(
                        "file storage failed, refusing storage calls for %gs: %s",
                        self._retry_seconds(),
                        outages.describe(error),
                    )
            elif self._open_until:
                self._open_until = 0.0
                logger.warning("file storage answers again")
            self._condition.notify_all()

    # --- the state -------------------------------------------------------------------------------

    def state(self) -> str:
        with self._condition:
            if not self._open_until:
                return CLOSED
            return OPEN if self._clock() < self._open_until or self._probing else HALF_OPEN

    def health(self) -> dict[str, Any]:
        state = self.state()
        with self._condition:
            return {
                "status": "ok" if state == CLOSED else "failing",
                "circuit": state,
                "reason": self._reason if state != CLOSED else "",
                "running": self._running,
                "limit": max(1, self._concurrency()),
            }


guard = StorageGuard()


def storage_health() -> dict[str, Any]:
    """The storage as this process last found it, without touching it: "ok" while the circuit is
    closed, "failing" (with the reason: timeout, unreachable) while it is open or probing. Cheap
    enough for every /readyz; a closed circuit is no proof that the storage answers now."""
    return guard.health()


def ready_check() -> None:
    """/readyz's storage check (classnote.core.health): while the circuit is open the storage is
    reported failing without another call to it; otherwise a small object is written and deleted."""
    if guard.state() != CLOSED:
        raise outages.Unavailable(outages.STORAGE)
    health.check_storage()
