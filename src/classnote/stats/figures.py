"""Aggregate statistics per school and per class, for the administrators of one tenant.

Small groups are never exposed (PRIVACY_MIN_GROUP_SIZE, N):

* a row computed over fewer than N pupils shows none of its figures ("fewer than N");
* a school's total minus the class rows shown beside it must not reveal a suppressed class: while
  the suppressed classes of a school together hold between 1 and N-1 pupils, the smallest shown
  class is suppressed too ("not shown"), until they hold N or more (or every class is hidden, and
  then the school has fewer than N and is hidden itself).

There is no board-wide total row, so schools do not need complementary suppression among
themselves. The figures of a suppressed row are dropped here and never reach the page.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Count, Q

from classnote.accounts.models import User
from classnote.lessons.models import Lesson, Submission
from classnote.tenancy import access
from classnote.tenancy.models import Membership

# The personal fields these statistics read, checked for Purpose.STATISTICS before every page.
READS: dict[type[Any], list[str]] = {
    Membership: ["user", "school_class", "role"],
    Submission: ["is_late", "is_current", "box"],
}


@dataclass
class Row:
    label: str
    people: frozenset[int]
    lessons: int = 0
    submissions: int = 0
    late: int = 0
    suppressed: bool = False

    @property
    def pupils(self) -> int:
        return len(self.people)

    def figures(self, minimum: int) -> dict[str, Any]:
        """What the page shows: the figures, or why they are hidden (and nothing else)."""
        if self.suppressed:
            return {"hidden": True, "too_small": self.pupils < minimum}
        return {
            "hidden": False,
            "pupils": self.pupils,
            "lessons": self.lessons,
            "submissions": self.submissions,
            "late_share": round(100 * self.late / self.submissions) if self.submissions else None,
            "per_pupil": round(self.submissions / self.pupils, 1) if self.pupils else None,
        }


@dataclass
class SchoolReport:
    name: str
    total: dict[str, Any]
    classes: list[tuple[str, int, dict[str, Any]]] = field(default_factory=list)  # name, year, figures


def minimum_group_size() -> int:
    return int(settings.PRIVACY_MIN_GROUP_SIZE)


def suppress(rows: list[Row], minimum: int) -> None:
    """Hide rows of fewer than ``minimum`` pupils, and enough others that the hidden ones together
    are empty or hold at least ``minimum`` pupils (so a total cannot give them away)."""
    for row in rows:
        row.suppressed = row.pupils < minimum
    while True:
        hidden: set[int] = set()
        for row in rows:
            if row.suppressed:
                hidden |= row.people
        shown = [row for row in rows if not row.suppressed]
        if not (0 < len(hidden) < minimum) or not shown:
            return
        min(shown, key=lambda row: (row.pupils, row.label)).suppressed = True


def report_for(user: User) -> list[SchoolReport]:
    """Every school the admin manages (their own school, or their board's) with its classes."""
    minimum = minimum_group_size()
    # The status prober's synthetic tenant never counts (it has no administrators either).
    schools = list(access.manageable_schools(user).filter(municipality__synthetic=False).order_by("name"))
    classes = list(access.manageable_classes(user).filter(school__in=schools).order_by("-school_year", "name"))
    class_ids = [c.pk for c in classes]
    pupils: dict[int, set[int]] = defaultdict(set)
    memberships = Membership.objects.filter(school_class_id__in=class_ids, role=Membership.Role.STUDENT)
    for class_id, pupil_id in memberships.values_list("school_class_id", "user_id"):
        pupils[class_id].add(pupil_id)
    lessons = dict(
        Lesson.objects.filter(school_class_id__in=class_ids)
        .order_by()
        .values("school_class_id")
        .annotate(n=Count("id"))
        .values_list("school_class_id", "n")
    )
    submitted = {
        row["box__lesson__school_class_id"]: (row["n"], row["late"])
        for row in Submission.objects.filter(is_current=True, box__lesson__school_class_id__in=class_ids)
        .order_by()
        .values("box__lesson__school_class_id")
        .annotate(n=Count("id"), late=Count("id", filter=Q(is_late=True)))
    }
    reports = []
    for school in schools:
        rows = []
        for school_class in (c for c in classes if c.school_id == school.pk):
            n, late = submitted.get(school_class.pk, (0, 0))
            row = Row(school_class.name, frozenset(pupils[school_class.pk]), lessons.get(school_class.pk, 0), n, late)
            rows.append((school_class, row))
        total = Row(
            school.name,
            frozenset().union(*(row.people for _, row in rows)),
            sum(row.lessons for _, row in rows),
            sum(row.submissions for _, row in rows),
            sum(row.late for _, row in rows),
        )
        total.suppressed = total.pupils < minimum
        suppress([row for _, row in rows], minimum)
        reports.append(
            SchoolReport(
                school.name,
                total.figures(minimum),
                [(c.name, c.school_year, row.figures(minimum)) for c, row in rows],
            )
        )
    return reports
