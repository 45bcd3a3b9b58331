"""A student's portfolio: every current submission across lessons and years, as a ZIP with the
files, the drawings as PNG, and a JSON and HTML index. It leaves with the student."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from django.core.files.storage import default_storage
from django.template.loader import render_to_string
from django.utils import timezone

from classnote.accounts.models import User
from classnote.cards import drawings
from classnote.cards.models import Card
from classnote.files.models import StoredFile
from classnote.files.validation import clean_name
from classnote.lessons.models import Submission

# The personal fields build_zip reads, checked against the inventory for Purpose.PORTFOLIO before
# every export (classnote.privacy.purposes); keep it in step with build_zip.
READS: dict[type[Any], list[str]] = {
    User: ["display_name"],
    Submission: ["student", "card", "submitted_at", "is_late", "return_comment"],
    Card: ["kind", "title", "text", "link_url", "strokes", "items", "background", "file"],
    StoredFile: ["name", "storage_key"],
}


def items() -> list[str]:
    """What an export holds, as inventory codes ("cards.Card.text"), for provision records."""
    return [f"{model._meta.label}.{name}" for model, names in READS.items() for name in names]


def submissions_of(student: User) -> list[Submission]:
    return list(
        Submission.objects.filter(student=student, is_current=True)
        .select_related("card", "card__file", "box__lesson__school_class__school")
        .order_by("-submitted_at")
    )


def build_zip(student: User) -> bytes:
    entries: list[dict[str, Any]] = []
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for index, submission in enumerate(submissions_of(student), start=1):
            card = submission.card
            lesson = submission.box.lesson
            entry: dict[str, Any] = {
                "submitted_at": submission.submitted_at.isoformat(),
                "late": submission.is_late,
                "school_year": lesson.school_class.school_year,
                "class": lesson.school_class.name,
                "lesson": lesson.title,
                "task": submission.box.title,
                "kind": card.kind,
                "title": card.title,
                "text": card.text,
                "link": card.link_url,
                "teacher_comment": submission.return_comment,
                "files": [],
            }
            folder = f"{index:04d}"
            if card.kind == "drawing" or card.strokes:
                name = f"{folder}/drawing.png"
                archive.writestr(name, drawings.picture_now(card))
                entry["files"].append(name)
            if card.file is not None:
                # The stored name as display text (no path parts, no "." or "..", no control
                # characters), so no entry can point outside the archive's folder when unpacked.
                safe = clean_name(card.file.name)
                name = f"{folder}/{safe}"
                with default_storage.open(card.file.storage_key, "rb") as handle:
                    archive.writestr(name, handle.read())
                entry["files"].append(name)
            entries.append(entry)
        index_data = {
            "student": student.display_name,
            "exported_at": timezone.now().isoformat(),
            "submissions": entries,
        }
        archive.writestr("index.json", json.dumps(index_data, ensure_ascii=False, indent=2))
        archive.writestr("index.html", render_to_string("portfolio/index_export.html", index_data))
    return buffer.getvalue()
