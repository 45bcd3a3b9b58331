"""The deadline of the work in hand (issue 13): every wait on a backend ends by it.

The request thread pool (classnote.core.wsgi_bridge) starts each request with a deadline counted
from when the request arrived, so the time it queued counts too. The waits on a backend (a database
query, the SQLite write lock) take the smaller of their own limit and what is left of the request's
deadline; outside a request (jobs, commands) only their own limit applies. A frozen backend then
costs a request at most its deadline, and the answer is an honest 503, never a hang.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import TypeVar

V = TypeVar("V", bound=Callable[..., object])

_deadline: ContextVar[float | None] = ContextVar("classnote_deadline", default=None)


@contextlib.contextmanager
def until(deadline: float | None) -> Iterator[None]:
    """Run the block under DEADLINE (a time.monotonic() value; None: no deadline)."""
    token = _deadline.set(deadline)
    try:
        yield
    finally:
        _deadline.reset(token)


def remaining() -> float | None:
    """Seconds left before the current deadline (0 when past), or None without one."""
    deadline = _deadline.get()
    if deadline is None:
        return None
    return max(0.0, deadline - time.monotonic())


def limit(own: float) -> float:
    """How long a wait whose own limit is OWN seconds may last now."""
    left = remaining()
    return own if left is None else min(own, left)


def extend(seconds: float) -> None:
    """Give the current request SECONDS from now, if that is later than its deadline (a view
    marked :func:`slow_view`). Outside a request (no deadline) nothing changes."""
    deadline = _deadline.get()
    if deadline is not None:
        _deadline.set(max(deadline, time.monotonic() + seconds))


def slow_view(view: V) -> V:
    """Mark a view whose work may take longer than REQUEST_TIMEOUT by design (a roster import
    hashing a thousand passwords, an export): it gets SLOW_REQUEST_TIMEOUT from when it starts
    (classnote.core.middleware.DeadlineMiddleware)."""
    view.classnote_slow = True  # type: ignore[attr-defined]
    return view
