"""Emit events: store in the caller's transaction, publish to the bus after commit.

What is stored is what a replay may need a year from now under today's rules: ids and state that is
nobody's personal data. Names, titles, excerpts and comments travel only in the live message
(``detail``, ``per_user_detail``); a replay fills them in again through the owning app's access
rules (``realtime.channels.register(..., replay=...)``), or drops the event.

``access_changed`` sends a notice to a person's open streams (on every process, through the bus);
notices are not stored."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Any

from django.db import connection, transaction

from classnote.realtime.bus import get_bus
from classnote.realtime.messages import ACCESS_CHANGED, Message, person_channel
from classnote.realtime.models import Channel, Event


def emit(
    channel_name: str,
    kind: str,
    *,
    data: dict[str, Any] | None = None,
    users: list[int] | None = None,
    roles: list[str] | None = None,
    per_user: dict[int, Any] | None = None,
    detail: dict[str, Any] | None = None,
    per_user_detail: dict[int, Any] | None = None,
) -> Message:
    """Store an event on a channel now; publish it when the surrounding transaction commits.

    `data` and `per_user` are stored and sent; `detail` (merged into data) and `per_user_detail`
    (instead of a user's per_user slice) are sent live only, never stored."""
    audience: dict[str, Any] = {}
    if users is not None:
        audience["users"] = sorted(set(users))
    if roles is not None:
        audience["roles"] = sorted(set(roles))
    with transaction.atomic(savepoint=False):
        channel_id, seq = _next_seq(channel_name)
        Event.objects.create(
            channel_id=channel_id,
            seq=seq,
            kind=kind,
            audience=audience,
            data=data or {},
            per_user={str(k): v for k, v in (per_user or {}).items()},
        )
    slices = {str(k): v for k, v in (per_user_detail if per_user_detail is not None else per_user or {}).items()}
    message = Message(channel_name, seq, kind, audience, {**(data or {}), **(detail or {})}, slices)
    transaction.on_commit(lambda: get_bus().publish(message))
    return message


def access_changed(user_ids: Iterable[int]) -> None:
    """The people's access may have narrowed (a class left, an account deactivated, sessions ended):
    once the surrounding transaction commits, each of their open streams, on every process,
    re-checks its session and its channel and ends if either is gone."""
    for user_id in sorted(set(user_ids)):
        notice = Message(person_channel(user_id), 0, ACCESS_CHANGED, {}, {}, {})
        transaction.on_commit(partial(get_bus().publish, notice))


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


def current_seqs(channel_names: list[str]) -> dict[str, int]:
    """The current sequence number of each channel named (0 for one with no event yet), in one query."""
    found = dict(Channel.objects.filter(name__in=channel_names).values_list("name", "last_seq"))
    return {name: found.get(name) or 0 for name in channel_names}
