"""Which channels exist and who may listen. Apps register a resolver per channel kind
(e.g. lessons registers "lesson"); the stream view asks it, so access is decided in one place
(the resolvers call classnote.tenancy.access)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Listener:
    channel: str
    role: str  # the listener's role in this channel, e.g. "teacher" or "student"


Resolver = Callable[[Any, int], Listener | None]
_resolvers: dict[str, Resolver] = {}


def register(kind: str, resolver: Resolver) -> None:
    _resolvers[kind] = resolver


def resolve(user: Any, kind: str, object_id: int) -> Listener | None:
    resolver = _resolvers.get(kind)
    return resolver(user, object_id) if resolver else None
