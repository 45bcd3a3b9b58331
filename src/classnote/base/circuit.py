"""A circuit breaker for a dependency that may be down: after a failure, stop trying it for a while.

Without one, every request would wait for the dependency's timeout again while it is down (a frozen
Redis answers nothing for as long as its socket timeout). With one, the first failure opens the
circuit for ``cooldown`` seconds; meanwhile callers go straight to their fallback. After the cooldown
one caller at a time probes the dependency (the others keep to the fallback until it answers);
success closes the circuit, failure opens it for another cooldown.

Shared by the threads of one process (the state lives in the object, behind a lock), not across
processes: each process finds out for itself, at the cost of one timeout per cooldown.
"""

from __future__ import annotations

import threading
import time


class Circuit:
    def __init__(self, cooldown: float) -> None:
        self.cooldown = cooldown
        self._lock = threading.Lock()
        self._open_until = 0.0  # 0: closed
        self._probing = False

    @property
    def is_open(self) -> bool:
        return self._open_until > 0

    def allow(self) -> bool:
        """Whether to try the dependency now: always when closed; when open, once the cooldown is
        over, for one caller (the probe), who must then call :meth:`succeeded` or :meth:`failed`."""
        with self._lock:
            if not self._open_until:
                return True
            if self._probing or time.monotonic() < self._open_until:
                return False
            self._probing = True
            return True

    def failed(self) -> bool:
        """The dependency failed: open (again) for a cooldown. True when this opened a closed circuit
        (the moment to log the outage, once)."""
        with self._lock:
            opened = not self._open_until
            self._open_until = time.monotonic() + self.cooldown
            self._probing = False
            return opened

    def succeeded(self) -> bool:
        """The dependency answered. True when this closed an open circuit (the outage is over); only
        the probe closes it (an answer to a call begun before the circuit opened proves nothing)."""
        with self._lock:
            if not self._open_until or not self._probing:
                return False
            self._open_until = 0.0
            self._probing = False
            return True
