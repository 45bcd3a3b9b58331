"""Who opens and works on cards inside lessons. The lessons app, which sits above cards, registers
what it does with that when it is ready (the teacher's roster strip: lessons.activity), like the
lesson rules of cards.access. Both front doors call :func:`opened` when a user opens a card; the
card actions call :func:`edited` after a card of a lesson is made or saved."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# (user, lesson id) -> None; called with the card's lesson only.
Listener = Callable[[Any, int], object]
_opened: list[Listener] = []
_edited: list[Listener] = []


def register(*, opened: Listener, edited: Listener) -> None:
    _opened[:] = [opened]
    _edited[:] = [edited]


def opened(user: Any, card: Any) -> None:
    """USER opened CARD: told to the lesson only for one's own card in a lesson."""
    if card.lesson_id is not None and card.owner_id == user.pk:
        for listener in _opened:
            listener(user, card.lesson_id)


def edited(user: Any, card: Any) -> None:
    """USER made or saved their CARD."""
    if card.lesson_id is not None and card.owner_id == user.pk:
        for listener in _edited:
            listener(user, card.lesson_id)
