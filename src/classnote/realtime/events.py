"""Emit events: store in the caller's transaction, publish to the bus after commit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction

from classnote.realtime.models import Channel, Event


@dataclass(frozen=True)
class Message:
    """What travels over the bus and the stream: everything a connection needs, no database work."""

    channel: str
    seq: int
    kind: str
    audience: dict[str, Any]
    data: dict[str, Any]
    per_user: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "seq": self.seq,
            "kind": self.kind,
            "audience": self.audience,
            "data": self.data,
            "per_user": self.per_user,
        }

    @classmethod
    def from_event(cls, event: Event, channel_name: str) -> Message:
        return cls(channel_name, event.seq, event.kind, event.audience, event.data, event.per_user)

    def visible_to(self, user_id: int, role: str) -> bool:
        users = self.audience.get("users")
        roles = self.audience.get("roles")
        if users is None and roles is None:
            return True
        return (users is not None and user_id in users) or (roles is not None and role in roles)

    def payload_for(self, user_id: int) -> dict[str, Any]:
        body = dict(self.data)
        mine = self.per_user.get(str(user_id))
        if mine is not None:
            body["mine"] = mine
        return {"kind": self.kind, "seq": self.seq, "data": body}


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

    def publish() -> None:
        from classnote.realtime.bus import get_bus

        get_bus().publish(message)

    transaction.on_commit(publish)
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
