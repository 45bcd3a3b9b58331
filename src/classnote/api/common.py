"""What the routers share: the roles, the error answers every operation declares, and the JSON
shapes of cards, files, lessons, boxes and submissions (built on classnote.lessons.summaries)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from classnote.accounts.models import User
from classnote.api.schemas import Error, ValidationErrorOut
from classnote.lessons import summaries


def answers(ok: dict[int, Any], *extra: int) -> dict[int, Any]:
    """The responses of an operation: OK ones, and the JSON refusals each operation may give."""
    refusals: dict[int, Any] = dict.fromkeys((400, 401, 403, 404, *extra), Error)
    return {**ok, **refusals, 422: ValidationErrorOut}


def file_out(stored: Any) -> dict[str, Any]:
    return {
        "id": stored.pk,
        "kind": stored.kind,
        "name": stored.name,
        "content_type": stored.content_type,
        "size": stored.size,
        "width": stored.width,
        "height": stored.height,
        "created_at": stored.created_at,
        "download": reverse("file_download", args=[stored.pk]),
        "thumbnail": reverse("file_thumbnail", args=[stored.pk]) if stored.thumbnail_key else None,
    }


def card_links(card_id: int, picture: bool) -> dict[str, str]:
    """Where the pages show a card and its picture (the domain's summaries carry ids only)."""
    return {
        "url": reverse("card_detail", args=[card_id]),
        "thumbnail": reverse("card_thumbnail", args=[card_id]) if picture else "",
    }


def card_summary(card: Any) -> dict[str, Any]:
    """classnote.lessons.summaries.card with the card's links."""
    summary = summaries.card(card)
    return summary | card_links(summary["id"], summary["picture"])


def shared_out(answer: dict[str, Any]) -> dict[str, Any]:
    """A shared answer (classnote.lessons.queries.shared_answers) with its card's links."""
    card = answer["card"]
    return answer | {"card": card | card_links(card["id"], card["picture"])}


def card_out(card: Any, user: User) -> dict[str, Any]:
    summary = card_summary(card)
    mine = card.owner_id == user.pk
    items = sorted(card.sequence_items.all(), key=lambda item: (item.position, item.pk))
    return {
        "id": card.pk,
        "kind": card.kind,
        "title": card.title,
        "text": card.text,
        "link_url": card.link_url,
        "strokes": card.strokes or [],
        "items": card.items or [],
        "background": card.background,
        "version": card.version,
        "library": card.library,
        "lesson_id": card.lesson_id,
        "frozen": card.frozen,
        "mine": mine,
        "editable": mine and not card.frozen,
        "file": file_out(card.file) if card.file_id else None,
        "sequence": [card_summary(item) for item in items],
        "sequence_of": card.sequence_id,
        "created_at": card.created_at,
        "updated_at": card.updated_at,
        "thumbnail": summary["thumbnail"],
        "url": summary["url"],
    }


def current_fields(card: Any) -> dict[str, Any]:
    return {
        "title": card.title,
        "text": card.text,
        "link_url": card.link_url,
        "strokes": card.strokes or [],
        "items": card.items or [],
        "background": card.background,
    }


def lesson_out(lesson: Any, teaching: bool) -> dict[str, Any]:
    return {
        "id": lesson.pk,
        "title": lesson.title,
        "class_id": lesson.school_class_id,
        "class_name": lesson.school_class.name,
        "created_at": lesson.created_at,
        "closed_at": lesson.closed_at,
        "peer_sending": lesson.peer_sending,
        "screen_locked": lesson.is_locked,
        "teaching": teaching,
    }


def box_out(box: Any) -> dict[str, Any]:
    return summaries.box(box) | {"lesson_id": box.lesson_id}


def submission_out(submission: Any) -> dict[str, Any]:
    """A submission as its teacher and its author see it (with the student)."""
    return {
        "id": submission.pk,
        "box_id": submission.box_id,
        "lesson_id": submission.box.lesson_id,
        "number": submission.number,
        "is_current": submission.is_current,
        "late": submission.is_late,
        "student_id": submission.student_id,
        "student": submission.student.display_name,
        "card": card_summary(submission.card),
        "submitted_at": submission.submitted_at,
        "returned_at": submission.returned_at,
        "return_comment": submission.return_comment,
        "return_mark": submission.return_mark,
    }
