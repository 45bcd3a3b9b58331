"""What the lesson shows, decided once for both front doors (the lesson pages and the API): who is
in the class, whom a pupil may send to, the teacher's overview of a box, the answers a box shares
(anonymised here, on the server) and a pupil's own history."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from classnote.accounts.models import User
from classnote.base.errors import Refused
from classnote.base.roles import Role
from classnote.cards import access as card_access
from classnote.cards.models import Card
from classnote.lessons import access, summaries
from classnote.lessons.models import Lesson, LessonActivity, Submission, SubmissionBox
from classnote.lessons.streams import class_channel
from classnote.realtime.events import current_seqs
from classnote.tenancy.access import attended_classes, own_school_classes
from classnote.tenancy.models import Membership, SchoolClass

if TYPE_CHECKING:
    from collections.abc import Iterable


def class_lessons(user: User, school_class: SchoolClass) -> QuerySet[Lesson]:
    """The lessons of a class the user teaches or attends, newest first, each with ``teaching``."""
    lessons = access.readable_lessons(user).filter(school_class=school_class)
    return access.with_relation(lessons, user).order_by("-created_at", "-pk")


# A page follows this many classes live at most: each is one stream, and a session keeps only
# REALTIME_STREAMS_PER_SESSION (4) open, one of them for the lesson the pupil joins.
LIVE_CLASSES = 3
# The prompt offers lessons started within this window, newest first, this many at most: lessons
# were long left open (the teacher's page had no "End the lesson"), and yesterday's open lesson is
# not one to join now. The lesson's own page and the class's list still reach every lesson.
PROMPT_WINDOW = timedelta(hours=12)
PROMPT_LESSONS = 5


def lesson_prompts(user: User, school_class: SchoolClass | None = None) -> dict[str, Any] | None:
    """A pupil's "lesson started" prompt on home (every class attended) or on a class page: the
    classes the page follows live, each with the sequence number of its channel the page stands
    at, and their lessons open now. None for anyone but a pupil of the class(es).

    The sequence numbers are read before the lessons, so a lesson opened in between is both shown
    and replayed; the page adds it once."""
    if user.role != Role.STUDENT:
        return None
    classes = own_school_classes(user, attended_classes(user)).filter(archived=False)
    if school_class is not None:
        classes = classes.filter(pk=school_class.pk)
    followed = list(classes.order_by("name", "pk")[:LIVE_CLASSES])
    if not followed:
        return None
    seqs = current_seqs([class_channel(c.pk) for c in followed])
    streams = [{"school_class": c, "since": seqs[class_channel(c.pk)]} for c in followed]
    lessons = (
        access.readable_lessons(user)
        .filter(school_class__in=followed, closed_at__isnull=True, created_at__gte=timezone.now() - PROMPT_WINDOW)
        .order_by("-created_at", "-pk")
    )
    return {"streams": streams, "lessons": list(lessons[:PROMPT_LESSONS])}


def class_students(lesson: Lesson) -> list[User]:
    """The active pupils of the lesson's class, by student number and name."""
    return list(
        User.objects.filter(
            memberships__school_class_id=lesson.school_class_id,
            memberships__role=Membership.Role.STUDENT,
            is_active=True,
        ).order_by("student_number", "display_name", "pk")
    )


def peer_recipients(user: User, lesson: Lesson) -> list[User]:
    """The classmates a pupil may send a card to: none unless the lesson allows peer sending now."""
    if user.role != Role.STUDENT or not lesson.allows_peer_sending:
        return []
    return [student for student in class_students(lesson) if student.pk != user.pk]


def classmate_choices(user: User, lesson: Lesson) -> list[dict[str, Any]]:
    """Whom a pupil may pick to send a card to, as both doors show them: id and display name only."""
    return [{"id": s.pk, "display_name": s.display_name, "student_number": ""} for s in peer_recipients(user, lesson)]


def current_submissions(box: SubmissionBox) -> QuerySet[Submission]:
    """The current submission of each pupil (earlier ones are history), as the teacher sees them."""
    return (
        Submission.objects.filter(box=box, is_current=True)
        .select_related("box", "student", "card")
        .order_by("student__student_number", "student__display_name", "pk")
    )


def projected(submissions: Iterable[Submission], *, names: bool) -> list[dict[str, Any]]:
    """Submissions as the projector shows them to the class: numbered 1, 2, 3... in the order
    given, with the pupil's name only when NAMES (else no name and no student id: the page is
    rendered without them, not merely hiding them). Never the late mark or the teacher's comment."""
    return [
        {
            "number": position,
            "id": submission.pk,
            "name": submission.student.display_name if names else None,
            "student_id": submission.student_id if names else None,
            "card": submission.card,
            "picture": summaries.has_picture(submission.card),
            "resubmission": submission.number if submission.number > 1 else None,
        }
        for position, submission in enumerate(submissions, start=1)
    ]


def projector_submissions(box: SubmissionBox) -> QuerySet[Submission]:
    """The box's current submissions in the order the projector numbers them: by each pupil's
    first submission to the box, so a resubmission keeps its place and a new pupil's work comes last
    (and the order says nothing of names or student numbers when names are hidden)."""
    first = (
        Submission.objects.filter(box_id=OuterRef("box_id"), student_id=OuterRef("student_id"))
        .order_by("submitted_at", "pk")
        .values("submitted_at")[:1]
    )
    return (
        Submission.objects.filter(box=box, is_current=True)
        .select_related("student", "card")
        .annotate(first_submitted=Subquery(first))
        .order_by("first_submitted", "pk")
    )


# --- The teacher's roster strip: who has submitted to a box, who is working, who has not opened ---

SUBMITTED = "submitted"
DRAFTING = "drafting"
NOT_OPENED = "not_opened"
ROSTER_STATES = (SUBMITTED, DRAFTING, NOT_OPENED)


@dataclass(frozen=True)
class RosterEntry:
    pupil: User
    state: str
    late: bool = False
    submission_id: int | None = None
    edited: bool = False  # drafting: has worked on a card of the lesson, not only opened it


@dataclass(frozen=True)
class Roster:
    entries: list[RosterEntry]
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def submitted(self) -> int:
        return self.counts.get(SUBMITTED, 0)

    @property
    def drafting(self) -> int:
        return self.counts.get(DRAFTING, 0)

    @property
    def not_opened(self) -> int:
        return self.counts.get(NOT_OPENED, 0)


def roster(students: Iterable[User], current: Iterable[Submission], activity: dict[int, LessonActivity]) -> Roster:
    """Every pupil of the class (in class order, as given) with their state for one box: submitted
    (a current submission in the box; late marked), drafting (opened the lesson or one of its
    cards, or worked on one, and not submitted here) or not yet opened. A submission counts even
    without an activity row (lessons before the roster strip, or sent through the API)."""
    submitted = {s.student_id: s for s in current}
    entries = []
    for pupil in students:
        found, seen = submitted.get(pupil.pk), activity.get(pupil.pk)
        if found is not None:
            entry = RosterEntry(pupil, SUBMITTED, late=found.is_late, submission_id=found.pk)
        elif seen is not None:
            entry = RosterEntry(pupil, DRAFTING, edited=seen.drafted_at is not None)
        else:
            entry = RosterEntry(pupil, NOT_OPENED)
        entries.append(entry)
    counts = {state: sum(1 for e in entries if e.state == state) for state in ROSTER_STATES}
    return Roster(entries, counts)


def lesson_activity(lesson: Lesson) -> dict[int, LessonActivity]:
    """What the pupils of the lesson have done so far, by pupil id (the teacher's view only)."""
    return {row.pupil_id: row for row in LessonActivity.objects.filter(lesson=lesson)}


def box_roster(user: User, box_id: object) -> Roster:
    """The roster of a box of a lesson the user teaches; NotFound for anyone else."""
    box = access.get_box_for(user, box_id, teach=True)
    return roster(class_students(box.lesson), current_submissions(box), lesson_activity(box.lesson))


def shared_answers(box: SubmissionBox) -> list[dict[str, Any]]:
    """The class's current answers while the teacher shares them, in the order they came in;
    without names or student ids when anonymised. Refused while the box does not share."""
    if not box.sharing:
        raise Refused(_("The answers in this box are not shared right now."))
    current = (
        Submission.objects.filter(box=box, is_current=True)
        .select_related("student", "card")
        .order_by("submitted_at", "pk")
    )
    return [summaries.submission(submission, anonymous=box.sharing_anonymous) for submission in current]


def open_boxes(lesson_id: int) -> QuerySet[SubmissionBox]:
    """The boxes of a lesson that take submissions now (a pupil's card page offers them)."""
    return SubmissionBox.objects.filter(lesson_id=lesson_id, is_open=True)


def own_submissions(user: User, boxes: Iterable[SubmissionBox]) -> dict[int, list[Submission]]:
    """A pupil's own history per box: number, time, late, current, returned."""
    history: dict[int, list[Submission]] = {box.pk: [] for box in boxes}
    for submission in Submission.objects.filter(box_id__in=list(history), student_id=user.pk).order_by(
        "submitted_at", "pk"
    ):
        history[submission.box_id].append(submission)
    return history


def lesson_cards(user: User, lesson: Lesson) -> QuerySet[Card]:
    """The user's own cards in the lesson (not the submitted snapshots, not sequence members)."""
    return card_access.editable_cards(user).filter(lesson=lesson, sequence__isnull=True)


def materials(user: User) -> QuerySet[Card]:
    """The teacher's own materials and the school's, to send in a lesson."""
    return card_access.readable_cards(user).filter(
        Q(owner_id=user.pk, library=Card.Library.PERSONAL) | Q(library=Card.Library.SCHOOL),
        sequence__isnull=True,
    )


def screen_lock(user: User) -> dict[str, Any] | None:
    """What every page of a pupil needs for "eyes on me" (lessons.context_processors): the lessons
    of their classes whose screens are locked now, each with the seconds left, and the class
    channels a page without a stream of its own follows to hear locks and unlocks live (at most
    LIVE_CLASSES), each with the sequence number the page stands at. None for anyone but a pupil.

    The sequence numbers are read before the locks, so a lock made in between is both shown and
    replayed (the page applies it once)."""
    if getattr(user, "role", None) != Role.STUDENT:
        return None
    classes = own_school_classes(user, attended_classes(user)).filter(archived=False)
    followed = list(classes.order_by("name", "pk").values_list("pk", flat=True)[:LIVE_CLASSES])
    seqs = current_seqs([class_channel(pk) for pk in followed])
    streams = [{"class_id": pk, "since": seqs[class_channel(pk)]} for pk in followed]
    now = timezone.now()
    candidates = access.readable_lessons(user).filter(closed_at__isnull=True, locked_at__gt=now - Lesson.LOCK_LAPSE)
    locked = [
        {"lesson_id": lesson.pk, "seconds": seconds}
        for lesson in candidates.order_by("pk")
        if (seconds := lesson.lock_seconds_left(now)) > 0
    ]
    return {"streams": streams, "locked": locked}
