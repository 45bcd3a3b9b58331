"""What travels over the bus and the stream: one stored event with everything a connection needs
to deliver it (audience, payload, per-user slices), so delivery does no database work."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from classnote.realtime.models import Event


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
