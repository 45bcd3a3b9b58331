"""Which channels exist, who may listen, and which channels concern a person.

realtime knows channels and events, not what they are about. The apps above it register:

* a **resolver** per channel kind (lessons registers "lesson"): ``(user, object id) -> Listener``
  or None; the stream view asks it, so access is decided by the app that owns the object (through
  its access rules);
* a **person's channels** (``register_person_channels``): ``user -> channel names`` whose stored
  events may concern that person, so the data inventory can find (disclose, delete) a person's
  events without realtime knowing lessons.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Listener:
    channel: str
    role: str  # the listener's role in this channel, e.g. "teacher" or "student"


Resolver = Callable[[Any, int], Listener | None]
PersonChannels = Callable[[Any], Iterable[str]]
_resolvers: dict[str, Resolver] = {}
_person_channels: dict[str, PersonChannels] = {}


def register(kind: str, resolver: Resolver, *, person_channels: PersonChannels | None = None) -> None:
    _resolvers[kind] = resolver
    if person_channels is not None:
        _person_channels[kind] = person_channels


def resolve(user: Any, kind: str, object_id: int) -> Listener | None:
    resolver = _resolvers.get(kind)
    return resolver(user, object_id) if resolver else None


def channels_of(person: Any) -> list[str]:
    """The names of every registered channel whose events may concern the person."""
    return sorted({name for find in _person_channels.values() for name in find(person)})
