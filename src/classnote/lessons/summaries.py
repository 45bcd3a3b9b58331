"""The small JSON shapes that events and the API share. Ids, not URLs: the pages and the API know
their own routes (the lesson page builds links from data attributes, the API adds "url" and
"thumbnail"). No personal data beyond what the recipient may see: anonymised shared answers carry
no name and no student id."""

from __future__ import annotations

from typing import Any


def has_picture(card: Any) -> bool:
    return bool(card.kind == "drawing" or (card.kind == "image" and card.file_id) or card.strokes)


def card(card: Any) -> dict[str, Any]:
    return {
        "id": card.pk,
        "kind": card.kind,
        "title": card.title,
        "excerpt": card.text[:140],
        "picture": has_picture(card),
    }


def box(box: Any) -> dict[str, Any]:
    return {
        "id": box.pk,
        "title": box.title,
        "is_open": box.is_open,
        "sharing": box.sharing,
        "anonymous": box.sharing_anonymous,
        "deadline": box.deadline.isoformat() if box.deadline else None,
    }


def submission(submission: Any, *, anonymous: bool) -> dict[str, Any]:
    return {
        "id": submission.pk,
        "number": submission.number,
        "late": submission.is_late,
        "student_id": None if anonymous else submission.student_id,
        "student": None if anonymous else submission.student.display_name,
        "card": card(submission.card),
        "submitted_at": submission.submitted_at.isoformat(),
    }
