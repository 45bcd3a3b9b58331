"""The event streams' database work: run off the event loop, and read stored events back.

Streams (realtime/views.py) and the bus's catch-up (realtime/bus.py) share these."""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.db import connections

from classnote.realtime.messages import Message
from classnote.realtime.models import Event

REPLAY_LIMIT = 5000


def in_thread(function: Any) -> Any:
    """Run database work of a stream in a worker thread and close that thread's connection after:
    streams live long, and connections of the request/response threads are kept (CONN_MAX_AGE)."""

    def run(*args: Any) -> Any:
        try:
            return function(*args)
        finally:
            for connection in connections.all(initialized_only=True):
                if not connection.in_atomic_block:  # (a test's transaction keeps its connection)
                    connection.close()

    return sync_to_async(run)


def load_since(channel: str, after: int, upto: int | None = None, limit: int = REPLAY_LIMIT) -> list[Message]:
    """The stored events of `channel` with after < seq < upto, in order, at most `limit`."""
    events = Event.objects.filter(channel__name=channel, seq__gt=after).order_by("seq")
    if upto is not None:
        events = events.filter(seq__lt=upto)
    return [Message.from_event(e, channel) for e in events[:limit]]
