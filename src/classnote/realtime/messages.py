"""What travels over the bus and the stream.

A **live** message (published after its change commits) carries everything a connection needs to
deliver it (audience, payload, per-user slices), so live delivery does no database work. A
**stored** message (read back from the event store for a replay, a gap or the bus's catch-up) carries
only what the store keeps: ids. Before a stream sends a stored message, the app that owns the
channel fills it in through today's access rules (``realtime.channels``), or drops it.

A message on a person's channel (``user:<id>``) is a **notice** to that person's open streams, never
stored and never sent to a client: their access changed (re-check it now), or some of their streams
are to close (over the cap per session or per user)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from classnote.realtime.models import Event


PERSON_PREFIX = "user:"
ACCESS_CHANGED = "access.changed"  # a notice: re-check every stream of the person now
CLOSE_STREAMS = "streams.close"  # a notice: the streams named in data["streams"] end


def person_channel(user_id: int) -> str:
    return f"{PERSON_PREFIX}{user_id}"


@dataclass(frozen=True)
class Message:
    """What travels over the bus and the stream: everything a connection needs, no database work."""

    channel: str
    seq: int
    kind: str
    audience: dict[str, Any]
    data: dict[str, Any]
    per_user: dict[str, Any]
    stored: bool = False  # read back from the store: ids only, to be filled in for each reader

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
        return cls(channel_name, event.seq, event.kind, event.audience, event.data, event.per_user, stored=True)

    @property
    def is_notice(self) -> bool:
        return self.channel.startswith(PERSON_PREFIX)

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
