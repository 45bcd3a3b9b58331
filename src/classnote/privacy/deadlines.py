"""Deadlines the privacy officer must meet: data-subject requests, complaints, incidents.

Each feature registers a source (a function of the acting user returning its open deadlines);
the privacy officer's dashboard (/privacy/officer/) lists them all, soonest first, and flags the
overdue. A source must return only what the user may see and no personal data in ``title``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone


@dataclass(frozen=True)
class Deadline:
    kind: str  # translated, e.g. "Complaint"
    reference: str  # the case's reference, e.g. "C-2026-K7Q3"
    title: str  # what is due, translated, without personal data ("Final report to the regulator")
    due: datetime
    status: str  # translated
    url: str = ""

    @property
    def overdue(self) -> bool:
        return self.due < timezone.now()


@dataclass(frozen=True)
class Queue:
    """A work queue linked from the dashboard (label translated, url name reversed at render)."""

    label: Any
    url_name: str


Source = Callable[[Any], Iterable[Deadline]]
_SOURCES: list[Source] = []
_QUEUES: list[Queue] = []


def register(source: Source, *, queue: Queue | None = None) -> Source:
    """Register a deadline source (usable as a decorator) and, optionally, its queue's link."""
    if source not in _SOURCES:
        _SOURCES.append(source)
    if queue is not None and queue not in _QUEUES:
        _QUEUES.append(queue)
    return source


def open_deadlines(user: Any) -> list[Deadline]:
    found = [deadline for source in _SOURCES for deadline in source(user)]
    return sorted(found, key=lambda deadline: deadline.due)


def queues() -> list[Queue]:
    return list(_QUEUES)
