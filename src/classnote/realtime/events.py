"""Emit events: store in the caller's transaction, publish to the bus after commit."""

from __future__ import annotations

from typing import Any

from django.db import connection, transaction

from classnote.realtime.bus import get_bus
from classnote.realtime.messages import Message
from classnote.realtime.models import Channel, Event


def emit(
    channel_name: str,
    kind: str,
    *,
    data: dict[str, Any] | None = None,
    users: list[int] | None = None,
    roles: list[str] | None = None,
    per_user: dict[int, Any] | None = None,
) -> Message:
    """Store an event on a channel now; publish it when the surrounding transaction commits."""
    audience: dict[str, Any] = {}
    if users is not None:
        audience["users"] = sorted(set(users))
    if roles is not None:
        audience["roles"] = sorted(set(roles))
    with transaction.atomic(savepoint=False):
        channel_id, seq = _next_seq(channel_name)
        event = Event.objects.create(
            channel_id=channel_id,
            seq=seq,
            kind=kind,
            audience=audience,
            data=data or {},
            per_user={str(k): v for k, v in (per_user or {}).items()},
        )
    message = Message.from_event(event, channel_name)

    transaction.on_commit(lambda: get_bus().publish(message))
    return message


def _next_seq(channel_name: str) -> tuple[int, int]:
    """The channel's next sequence number, in one statement: create the channel or count it up.
    Concurrent writers on the same channel queue on its row until the first one commits, so the
    numbers are gapless and ordered by commit (SQLite 3.35+ and PostgreSQL: upsert + RETURNING)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO realtime_channel (name, last_seq) VALUES (%s, 1) ON CONFLICT (name) "
            "DO UPDATE SET last_seq = realtime_channel.last_seq + 1 RETURNING id, last_seq",
            [channel_name],
        )
        row = cursor.fetchone()
    return int(row[0]), int(row[1])


def current_seq(channel_name: str) -> int:
    return Channel.objects.filter(name=channel_name).values_list("last_seq", flat=True).first() or 0
