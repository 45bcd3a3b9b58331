"""What a portfolio shows: a pupil's lessons of one school year, each with the pupil's own cards
and their current submissions (with the teacher's comment and mark).

A lesson belongs to the school year of the day it was opened (classnote.base.schoolyear): a
lesson opened on March 31 is in the year that ends that day, one opened on April 1 in the next."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Q

from classnote.accounts.models import User
from classnote.base import schoolyear
from classnote.cards.models import Card
from classnote.lessons.models import Lesson, Submission
from classnote.tenancy.models import SchoolClass


@dataclass
class LessonEntry:
    lesson: Lesson
    cards: list[Card] = field(default_factory=list)
    submissions: list[Submission] = field(default_factory=list)


def years_of(student: User) -> list[int]:
    """The school years in which the pupil has cards or submissions in lessons, newest first."""
    opened = (
        Lesson.objects.filter(Q(cards__owner=student, cards__frozen=False) | Q(boxes__submissions__student=student))
        .values_list("created_at", flat=True)
        .distinct()
    )
    return sorted({schoolyear.school_year_of(moment) for moment in opened}, reverse=True)


def submissions_in(student: User, year: int | None, school_class: SchoolClass | None = None) -> list[Submission]:
    """The pupil's current submissions in lessons of the school year (every year if None), of one
    class's lessons if given, oldest lesson first."""
    found = Submission.objects.filter(student=student, is_current=True)
    if year is not None:
        start, end = schoolyear.bounds(year)
        found = found.filter(box__lesson__created_at__gte=start, box__lesson__created_at__lt=end)
    if school_class is not None:
        found = found.filter(box__lesson__school_class=school_class)
    return list(
        found.select_related("card", "card__file", "box__lesson__school_class__school").order_by(
            "box__lesson__created_at", "box__lesson_id", "box__created_at", "submitted_at"
        )
    )


def lessons_in(student: User, year: int) -> list[LessonEntry]:
    """The pupil's lessons of the school year with their own cards and current submissions."""
    start, end = schoolyear.bounds(year)
    entries: dict[int, LessonEntry] = {}
    for submission in submissions_in(student, year):
        lesson = submission.box.lesson
        entries.setdefault(lesson.pk, LessonEntry(lesson)).submissions.append(submission)
    cards = (
        Card.objects.filter(owner=student, frozen=False, lesson__created_at__gte=start, lesson__created_at__lt=end)
        .select_related("lesson__school_class", "file")
        .order_by("created_at")
    )
    for card in cards:
        if card.lesson is None:  # never: filtered on the lesson's date above
            continue
        entries.setdefault(card.lesson.pk, LessonEntry(card.lesson)).cards.append(card)
    return sorted(entries.values(), key=lambda entry: (entry.lesson.created_at, entry.lesson.pk))
