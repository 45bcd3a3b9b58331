"""What both front doors show of cards (the materials page and GET /api/materials)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from classnote.cards import access
from classnote.cards.models import Card

if TYPE_CHECKING:
    from classnote.accounts.models import User


def materials(user: User) -> tuple[QuerySet[Card], QuerySet[Card]]:
    """The user's own materials box and their school's, by title (linked sequence members aside)."""
    readable = access.readable_cards(user).filter(sequence__isnull=True).order_by("title", "pk")
    return readable.filter(owner_id=user.pk, library=Card.Library.PERSONAL), readable.filter(
        library=Card.Library.SCHOOL
    )
