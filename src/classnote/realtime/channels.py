"""Which channels exist, who may listen, and which channels concern a person.

realtime knows channels and events, not what they are about. The apps above it register:

* a **resolver** per channel kind (lessons registers "lesson"): ``(user, object id) -> Listener``
  or None; the stream view asks it, so access is decided by the app that owns the object (through
  its access rules);
* a **person's channels** (``person_channels``): ``user -> channel names`` whose stored
  events may concern that person, so the data inventory can find (disclose, delete) a person's
  events without realtime knowing lessons;
* a **replay** (``replay``): ``(user, listener, stored messages) -> messages`` as the user may see
  them today: the app fills in what the store leaves out (names, titles, comments) through its
  access rules, and drops what the user may no longer see (answers no longer shared, submissions
  deleted). Streams call it for everything they send from the store; without one, stored messages
  go out as stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from classnote.realtime.messages import Message


@dataclass(frozen=True)
class Listener:
    channel: str
    role: str  # the listener's role in this channel, e.g. "teacher" or "student"


Resolver = Callable[[Any, int], Listener | None]
PersonChannels = Callable[[Any], Iterable[str]]
Replay = Callable[[Any, Listener, list[Message]], list[Message]]
_resolvers: dict[str, Resolver] = {}
_person_channels: dict[str, PersonChannels] = {}
_replays: dict[str, Replay] = {}


def register(
    kind: str, resolver: Resolver, *, person_channels: PersonChannels | None = None, replay: Replay | None = None
) -> None:
    _resolvers[kind] = resolver
    if person_channels is not None:
        _person_channels[kind] = person_channels
    if replay is not None:
        _replays[kind] = replay


def replay(user: Any, kind: str, listener: Listener, messages: list[Message]) -> list[Message]:
    """Stored messages as the user may see them today (database work: call it off the event loop)."""
    fill = _replays.get(kind)
    return fill(user, listener, messages) if fill and messages else messages


def resolve(user: Any, kind: str, object_id: int) -> Listener | None:
    resolver = _resolvers.get(kind)
    return resolver(user, object_id) if resolver else None


def channels_of(person: Any) -> list[str]:
    """The names of every registered channel whose events may concern the person."""
    return sorted({name for find in _person_channels.values() for name in find(person)})
