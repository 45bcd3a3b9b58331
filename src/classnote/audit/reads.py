"""Staff reads of a pupil's work go into the audit log with the pupil as ``subject``: that is how a
pupil (and their school) sees who viewed their work (/privacy/views/).

What counts as one read: opening one piece of work on purpose — a card's page or presentation (web
and API), the submissions chosen for comparison (page or projector), a file downloaded as an
attachment, a portfolio export. The pictures inside those pages (full-size drawings, inline images,
thumbnails) and the lesson's overview of the class's submissions (page, box projector and API list)
are not recorded one by one: the overview is the lesson itself, refreshed live, and an entry per
picture or per tile would bury the reads that matter under thousands of entries (and every entry
takes the log's one lock).
One entry per card opened is enough.
"""

from __future__ import annotations

from typing import Any

from classnote.audit.log import record
from classnote.base.roles import Role


def record_person_read(actor: Any, person: Any) -> None:
    """Staff opening another person's record is a read of personal data: the person (or their
    school) sees it under "who viewed"."""
    if person.pk != actor.pk:
        record(actor, "account.viewed", target=person)


def record_work_read(actor: Any, action: str, *, target: Any, owner: Any) -> None:
    """Record ``actor`` reading ``owner``'s work, if the owner is a pupil and the actor is not
    the owner nor another pupil (classmates see shared answers as part of the lesson)."""
    if owner is None or actor.pk == owner.pk or actor.role == Role.STUDENT or owner.role != Role.STUDENT:
        return
    record(actor, action, target=target, subject=owner, school_id=owner.school_id)
