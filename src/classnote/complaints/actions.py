"""Every write of a complaint case: opened from the public form, worked by the privacy officer.

Mails go out after the transaction has committed; a mail that cannot be sent is logged (by case id)
and does not undo the case."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from classnote.accounts.models import User
from classnote.audit.log import record
from classnote.base.errors import ActionError
from classnote.base.roles import Role
from classnote.complaints import access as complaint_access
from classnote.complaints import mail, spam
from classnote.complaints.models import Complaint, ComplaintNote, hash_code
from classnote.tenancy.models import Municipality

logger = logging.getLogger(__name__)

# Crockford's base 32: no I, L, O, U, so a reference read over the phone is unambiguous.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# The status changes the officer may make (a concluded case may be reopened).
TRANSITIONS: dict[str, set[str]] = {
    Complaint.Status.NEW: {Complaint.Status.IN_PROGRESS, Complaint.Status.ANSWERED, Complaint.Status.CLOSED},
    Complaint.Status.IN_PROGRESS: {Complaint.Status.ANSWERED, Complaint.Status.CLOSED},
    Complaint.Status.ANSWERED: {Complaint.Status.IN_PROGRESS, Complaint.Status.CLOSED},
    Complaint.Status.CLOSED: {Complaint.Status.IN_PROGRESS},
}


def _random(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def new_reference(year: int) -> str:
    """E.g. C-2026-7KQ3MX: 30 random bits, so references cannot be guessed from one another."""
    return f"C-{year}-{_random(6)}"


def new_access_code() -> str:
    """16 characters (80 random bits) in groups of four, shown once."""
    raw = _random(16)
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


@dataclass(frozen=True)
class Opened:
    complaint: Complaint
    access_code: str  # shown to the submitter once; only its hash is stored


def open_case(
    *,
    kind: str,
    municipality: Municipality | None,
    message: str,
    name: str = "",
    email: str = "",
    language: str = "en",
    status_url: str = "",
) -> Opened:
    """A case from the public form (no account). Sends the acknowledgement if an address was given."""
    code = new_access_code()
    for _attempt in range(5):
        try:
            with transaction.atomic():
                complaint = Complaint.objects.create(
                    reference=new_reference(timezone.now().year),
                    access_code_hash=hash_code(code),
                    kind=kind,
                    municipality=municipality,
                    message=message,
                    name=name,
                    email=email,
                    language=language,
                )
                record(None, "complaint.received", target=complaint, kind=kind)
            break
        except IntegrityError:  # the same random reference twice: draw again
            continue
    else:  # pragma: no cover - 5 collisions in a space of 10^9
        raise ActionError(_("The case could not be opened. Please try again."))
    logger.info("complaint #%s received", complaint.pk)
    # At most spam.ACKNOWLEDGEMENTS_PER_ADDRESS a day to one address: the sender types it. The case
    # stands without the mail; the page shows its reference and code either way.
    if complaint.email and spam.take_acknowledgement(complaint.email):
        _send(mail.acknowledgement, complaint, status_url)
    return Opened(complaint, code)


def find_by_code(reference: str, code: str) -> Complaint | None:
    """The case with this reference, if the access code matches (constant-time comparison)."""
    digest = hash_code(code)
    complaint = Complaint.objects.filter(reference=reference.strip().upper()).first()
    expected = complaint.access_code_hash if complaint is not None else "0" * 64
    if secrets.compare_digest(expected, digest) and complaint is not None:
        return complaint
    return None


def _officer_case(actor: User, complaint_id: int) -> Complaint:
    if actor.role != Role.PRIVACY_OFFICER:
        raise ActionError(_("Only the privacy officer works complaints."))
    complaint: Complaint = complaint_access.get_complaint_for(actor, complaint_id)
    return Complaint.objects.select_for_update().get(pk=complaint.pk)


def view_case(actor: User, complaint_id: int) -> Complaint:
    """The officer opens a case: the read of a member of the public's message is recorded."""
    complaint: Complaint = complaint_access.get_complaint_for(actor, complaint_id)
    record(actor, "complaint.viewed", target=complaint)
    return complaint


def add_note(actor: User, complaint_id: int, text: str) -> ComplaintNote:
    text = text.strip()
    if not text:
        raise ActionError(_("Write the note first."))
    with transaction.atomic():
        complaint = _officer_case(actor, complaint_id)
        note = ComplaintNote.objects.create(complaint=complaint, author=actor, text=text)
        if complaint.status == Complaint.Status.NEW:
            complaint.status = Complaint.Status.IN_PROGRESS
            complaint.save(update_fields=["status", "updated_at"])
        record(actor, "complaint.note_added", target=complaint, note=note.pk)
    return note


def update_case(actor: User, complaint_id: int, *, status: str, outcome: str, status_url: str = "") -> Complaint:
    """Change the status and the outcome told to the submitter (mailed to them when it changes)."""
    outcome = outcome.strip()
    with transaction.atomic():
        complaint = _officer_case(actor, complaint_id)
        old_status, old_outcome = complaint.status, complaint.outcome
        if status not in Complaint.Status.values:
            raise ActionError(_("Choose a status."))
        if status != old_status and status not in TRANSITIONS[old_status]:
            raise ActionError(_("A case cannot go from this status to that one."))
        if status in Complaint.CONCLUDED_STATUSES and not outcome:
            raise ActionError(_("Write the outcome the submitter is told before answering or closing the case."))
        if status == old_status and outcome == old_outcome:
            return complaint
        complaint.status, complaint.outcome = status, outcome
        if status in Complaint.CONCLUDED_STATUSES:
            complaint.concluded_at = complaint.concluded_at or timezone.now()
        else:
            complaint.concluded_at = None
        complaint.save(update_fields=["status", "outcome", "concluded_at", "updated_at"])
        record(
            actor,
            "complaint.updated",
            target=complaint,
            status_from=old_status,
            status_to=status,
            outcome_changed=outcome != old_outcome,
        )
    if complaint.email and complaint.concluded and outcome != old_outcome:
        _send(mail.outcome, complaint, status_url)
    return complaint


def _send(compose: Any, complaint: Complaint, status_url: str) -> None:
    try:
        compose(complaint, status_url).send()
    except Exception:  # noqa: BLE001 - the case stands; the officer sees the address and can write
        logger.exception("the mail about complaint #%s could not be sent", complaint.pk)
