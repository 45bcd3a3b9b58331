"""Who viewed a person's work or exported their data: read from the audit log (entries whose
``subject`` is the person), for the person themselves and, for a pupil, their school.

An entry counts when its action is a read or an export ("card.viewed", "portfolio.exported", ...,
or any action ending in one of READ_SUFFIXES, so reads added later are shown without a change
here). The person's own actions are left out: the page is about other people.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from classnote.accounts.models import User
from classnote.audit.models import AuditEntry
from classnote.base.roles import Role
from classnote.cards import access as card_access
from classnote.lessons.models import Submission
from classnote.privacy import access as privacy_access

READ_SUFFIXES = (".viewed", ".downloaded", ".exported", ".provided", ".disclosed")
LABELS = {
    "card.viewed": _("Opened a card"),
    "submission.viewed": _("Compared submissions"),
    "file.downloaded": _("Downloaded a file"),
    "portfolio.exported": _("Exported the portfolio"),
    "portfolio.provided": _("Handed the portfolio to another organisation"),
    "account.viewed": _("Opened the account page"),
    "request.disclosed": _("Exported a copy of the data (disclosure request)"),
}


@dataclass
class Row:
    at: datetime
    viewer: str  # the viewer's display name, or "#<id>" once their account is gone
    role: str  # translated
    what: str  # translated
    item: str  # the card's title (or file's name) if the reader may still read it, else ""


def _reads_of(person: User) -> Any:
    reads = Q(action__in=list(LABELS))
    for suffix in READ_SUFFIXES:
        reads |= Q(action__endswith=suffix)
    return AuditEntry.objects.filter(reads, subject_id=person.pk).exclude(actor_id=person.pk).order_by("-at", "-id")


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _items(reader: User, entries: list[AuditEntry]) -> dict[tuple[str, str], str]:
    """Titles of the cards, submissions and files the entries name, where ``reader`` may read them."""

    wanted: dict[str, set[int | str]] = {}
    for entry in entries:
        wanted.setdefault(entry.target_type, set()).add(entry.target_id)
    found: dict[tuple[str, str], str] = {}
    cards = card_access.readable_cards(reader)
    card_ids = [int(pk) for pk in wanted.get("Card", ()) if str(pk).isdigit()]
    for card in cards.filter(pk__in=card_ids):
        found[("Card", str(card.pk))] = card.title or str(card.get_kind_display())
    submission_ids = [int(pk) for pk in wanted.get("Submission", ()) if str(pk).isdigit()]
    for submission in Submission.objects.filter(pk__in=submission_ids, card__in=cards).select_related("card"):
        found[("Submission", str(submission.pk))] = submission.card.title or str(submission.card.get_kind_display())
    file_ids = [str(pk) for pk in wanted.get("StoredFile", ()) if _is_uuid(str(pk))]
    for stored in card_access.readable_files(reader).filter(pk__in=file_ids):
        found[("StoredFile", str(stored.pk))] = stored.name
    for provision in privacy_access.readable_provision_records(reader).filter(
        pk__in=[int(pk) for pk in wanted.get("ProvisionRecord", ()) if str(pk).isdigit()]
    ):
        found[("ProvisionRecord", str(provision.pk))] = provision.recipient
    return found


def page_for(person: User, reader: User, number: Any, per_page: int = 50) -> tuple[Page[Any], list[Row]]:
    """One page of the reads of ``person``'s data, as ``reader`` (the person, or their school) sees it."""
    page = Paginator(_reads_of(person), per_page).get_page(number)
    entries = list(page)
    # Who viewed is shown to the person even where they could not otherwise look the viewer up:
    # knowing who read their data is the point of the page (only the name and role are read).
    viewers = {u.pk: u for u in User.objects.filter(pk__in={e.actor_id for e in entries if e.actor_id})}
    items = _items(reader, entries)
    roles = dict(Role.choices)
    rows = []
    for entry in entries:
        viewer = viewers.get(entry.actor_id or 0)
        rows.append(
            Row(
                at=entry.at,
                viewer=viewer.display_name if viewer else f"#{entry.actor_id or '—'}",
                role=str(roles.get(entry.actor_role, entry.actor_role)),
                what=str(LABELS.get(entry.action, entry.action)),
                item=items.get((entry.target_type, entry.target_id), ""),
            )
        )
    return page, rows
