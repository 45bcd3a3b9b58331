"""A student's portfolio as a ZIP: the current submissions (every year, or one school year) with
the files, the drawings as PNG, the teacher's comment and mark, and a JSON and a printable HTML
index. It leaves with the student. A class teacher's class export holds one such folder per pupil
(only the work of that class's lessons) under a printable index of the class."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from django.core.files.storage import default_storage
from django.template.loader import render_to_string
from django.utils import timezone

from classnote.accounts.models import User
from classnote.base import schoolyear
from classnote.cards import drawings
from classnote.cards.models import Card
from classnote.files.models import StoredFile
from classnote.files.validation import clean_name
from classnote.lessons.models import Submission
from classnote.portfolio.queries import submissions_in
from classnote.tenancy.models import SchoolClass

# The personal fields build_zip reads, checked against the inventory for Purpose.PORTFOLIO before
# every export (classnote.privacy.purposes); keep it in step with build_zip.
READS: dict[type[Any], list[str]] = {
    User: ["display_name"],
    Submission: ["student", "card", "submitted_at", "is_late", "return_comment", "return_mark", "returned_at"],
    Card: ["kind", "title", "text", "link_url", "strokes", "items", "background", "file"],
    StoredFile: ["name", "storage_key"],
}


def items() -> list[str]:
    """What an export holds, as inventory codes ("cards.Card.text"), for provision records."""
    return [f"{model._meta.label}.{name}" for model, names in READS.items() for name in names]


def submissions_of(student: User) -> list[Submission]:
    """Every current submission of the pupil, newest first (the API's portfolio list)."""
    return sorted(submissions_in(student, None), key=lambda s: s.submitted_at, reverse=True)


def _write_pupil(
    archive: zipfile.ZipFile, prefix: str, student: User, submissions: list[Submission], year: int | None
) -> dict[str, Any]:
    """Write one pupil's submissions and index under PREFIX; returns the index."""
    entries: list[dict[str, Any]] = []
    for index, submission in enumerate(submissions, start=1):
        card = submission.card
        lesson = submission.box.lesson
        entry: dict[str, Any] = {
            "submitted_at": submission.submitted_at.isoformat(),
            "late": submission.is_late,
            "school_year": schoolyear.school_year_of(lesson.created_at),
            "class": lesson.school_class.name,
            "lesson": lesson.title,
            "lesson_date": timezone.localdate(lesson.created_at).isoformat(),
            "task": submission.box.title,
            "kind": card.kind,
            "title": card.title,
            "text": card.text,
            "link": card.link_url,
            "returned_at": submission.returned_at.isoformat() if submission.returned_at else None,
            "teacher_comment": submission.return_comment,
            "teacher_mark": submission.return_mark,
            "teacher_mark_label": submission.get_return_mark_display() if submission.return_mark else "",
            "files": [],
        }
        folder = f"{index:04d}"
        if card.kind == "drawing" or card.strokes:
            name = f"{folder}/drawing.png"
            archive.writestr(prefix + name, drawings.picture_now(card))
            entry["files"].append(name)
        if card.file is not None:
            # The stored name as display text (no path parts, no "." or "..", no control
            # characters), so no entry can point outside the archive's folder when unpacked.
            safe = clean_name(card.file.name)
            name = f"{folder}/{safe}"
            with default_storage.open(card.file.storage_key, "rb") as handle:
                archive.writestr(prefix + name, handle.read())
            entry["files"].append(name)
        entries.append(entry)
    index_data = {
        "student": student.display_name,
        "school_year": year,
        "exported_at": timezone.now().isoformat(),
        "submissions": entries,
    }
    archive.writestr(prefix + "index.json", json.dumps(index_data, ensure_ascii=False, indent=2))
    archive.writestr(prefix + "index.html", render_to_string("portfolio/index_export.html", index_data))
    return index_data


def build_zip(student: User, year: int | None = None, school_class: SchoolClass | None = None) -> bytes:
    """One pupil's portfolio: every year, or the school year YEAR; only SCHOOL_CLASS's lessons if given."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        _write_pupil(archive, "", student, submissions_in(student, year, school_class), year)
    return buffer.getvalue()


def pupil_folder(position: int, student: User) -> str:
    """A pupil's folder in a class export: their place in the list and their name, safe as a path."""
    return f"{position:03d}-{clean_name(student.display_name) or 'pupil'}/"


def build_class_zip(school_class: SchoolClass, pupils: list[User], year: int) -> bytes:
    """The class's pupils' portfolios of the school year (the class's lessons only): one folder
    per pupil and a printable index.html of the class."""
    buffer = io.BytesIO()
    rows: list[dict[str, Any]] = []
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for position, student in enumerate(pupils, start=1):
            folder = pupil_folder(position, student)
            written = _write_pupil(archive, folder, student, submissions_in(student, year, school_class), year)
            rows.append({"student": student.display_name, "folder": folder, "count": len(written["submissions"])})
        index_data = {
            "class": school_class.name,
            "school": school_class.school.name,
            "school_year": year,
            "exported_at": timezone.now().isoformat(),
            "pupils": rows,
        }
        archive.writestr("index.json", json.dumps(index_data, ensure_ascii=False, indent=2))
        archive.writestr("index.html", render_to_string("portfolio/class_index_export.html", index_data))
    return buffer.getvalue()
