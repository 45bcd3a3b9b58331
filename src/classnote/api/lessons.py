"""The lesson: lessons of a class, open, send, peer sending, screen lock, close, groups; submission boxes,
submissions, returning them, shared answers; the student's portfolio.

Every write goes through classnote.lessons.actions, as the web pages do (which also publishes the
lesson's events)."""

from collections.abc import Mapping, Sequence

from ninja import Router, Status

from classnote.api.common import answers, box_out, card_summary, lesson_out, shared_out, submission_out
from classnote.api.schemas import (
    BoxIn,
    BoxOut,
    GroupIn,
    GroupOut,
    Id,
    LessonDetail,
    LessonOut,
    OpenLessonIn,
    PeerSendIn,
    PeerSendingIn,
    PortfolioEntry,
    ReturnIn,
    RosterEntryOut,
    ScreenLockIn,
    SendIn,
    SendOut,
    SharedAnswerOut,
    SharingIn,
    SubmissionOut,
    SubmitIn,
)
from classnote.base.requests import AuthedRequest
from classnote.base.roles import LESSON_ROLES, TEACHING_ROLES, Role
from classnote.lessons import access as lesson_access
from classnote.lessons import actions
from classnote.lessons import activity as lesson_activity
from classnote.lessons import queries as lesson_queries
from classnote.lessons.models import Group, Submission
from classnote.portfolio.export import submissions_of
from classnote.tenancy import access as tenancy_access
from classnote.tenancy.access import audience

router = Router(tags=["lessons"])


def _sent(delivered: Mapping[int, Sequence[object]]) -> dict[str, int]:
    return {"recipients": len(delivered), "copies": sum(len(cards) for cards in delivered.values())}


# --- Lessons --------------------------------------------------------------------------------------


@router.get("/classes/{class_id}/lessons", response=answers({200: list[LessonOut]}))
@audience(*LESSON_ROLES)
def list_lessons(request: AuthedRequest, class_id: int) -> object:
    """The lessons of a class that I teach or attend, newest first."""
    user = request.user
    school_class = tenancy_access.get_class_for(user, class_id)
    return [lesson_out(lesson, lesson.teaching) for lesson in lesson_queries.class_lessons(user, school_class)]


@router.post("/classes/{class_id}/lessons", response=answers({201: LessonOut}))
@audience(*TEACHING_ROLES)
def open_lesson(request: AuthedRequest, class_id: int, payload: OpenLessonIn) -> object:
    lesson = actions.open_lesson(request.user, class_id, payload.title)
    return Status(201, lesson_out(lesson, True))


@router.get("/lessons/{lesson_id}", response=answers({200: LessonDetail}))
@audience(*LESSON_ROLES)
def get_lesson(request: AuthedRequest, lesson_id: int) -> object:
    """A lesson with its submission boxes. Teachers also get the class and its groups; students
    get their classmates while peer sending is allowed (to choose whom to send to)."""
    user = request.user
    lesson = lesson_access.get_lesson_for(user, lesson_id)
    groups: list[dict[str, object]] = []
    if lesson.teaching:
        students = lesson_queries.class_students(lesson)
        shown = [{"id": s.pk, "display_name": s.display_name, "student_number": s.student_number} for s in students]
        for group in Group.objects.filter(school_class_id=lesson.school_class_id).prefetch_related("members"):
            members = sorted(member.pk for member in group.members.all())
            groups.append({"id": group.pk, "name": group.name, "member_ids": members})
    else:
        lesson_activity.note_opened(user, lesson.pk)  # as the lesson page does (the teacher's roster strip)
        shown = lesson_queries.classmate_choices(user, lesson)
    return lesson_out(lesson, lesson.teaching) | {
        "boxes": [box_out(box) for box in lesson.boxes.all()],
        "students": shown,
        "groups": groups,
    }


@router.post("/lessons/{lesson_id}/send", response=answers({200: SendOut}))
@audience(*TEACHING_ROLES)
def send_cards(request: AuthedRequest, lesson_id: int, payload: SendIn) -> object:
    """Send copies of my cards to the whole class, a group or chosen students."""
    delivered = actions.send_cards(
        request.user,
        lesson_id,
        payload.card_ids,
        to=payload.to,
        student_ids=payload.student_ids,
        group_id=payload.group_id,
    )
    return _sent(delivered)


@router.post("/lessons/{lesson_id}/peer-send", response=answers({200: SendOut}))
@audience(Role.STUDENT)
def peer_send(request: AuthedRequest, lesson_id: int, payload: PeerSendIn) -> object:
    """A student sends a copy of their card to classmates, while the teacher allows it."""
    delivered = actions.peer_send(request.user, lesson_id, payload.card_id, payload.student_ids)
    return _sent(delivered)


@router.post("/lessons/{lesson_id}/peer-sending", response=answers({200: LessonOut}))
@audience(*TEACHING_ROLES)
def set_peer_sending(request: AuthedRequest, lesson_id: int, payload: PeerSendingIn) -> object:
    lesson = actions.set_peer_sending(request.user, lesson_id, payload.allowed)
    return lesson_out(lesson, True)


@router.post("/lessons/{lesson_id}/screen-lock", response=answers({200: LessonOut}))
@audience(*TEACHING_ROLES)
def set_screen_lock(request: AuthedRequest, lesson_id: int, payload: ScreenLockIn) -> object:
    """Lock or unlock the screens of the lesson's pupils ("eyes on me"). While locked, their pages are
    covered and their submissions and cards sent to classmates are refused; saving drafts goes on.
    The lock lapses after an hour, and ending the lesson unlocks it."""
    lesson = actions.set_screen_lock(request.user, lesson_id, payload.locked)
    return lesson_out(lesson, True)


@router.post("/lessons/{lesson_id}/close", response=answers({200: LessonOut}))
@audience(*TEACHING_ROLES)
def close_lesson(request: AuthedRequest, lesson_id: int) -> object:
    """Close the lesson: its submission boxes close, nothing more can be sent."""
    lesson = actions.close_lesson(request.user, lesson_id)
    return lesson_out(lesson, True)


@router.post("/lessons/{lesson_id}/groups", response=answers({201: GroupOut}))
@audience(*TEACHING_ROLES)
def create_group(request: AuthedRequest, lesson_id: int, payload: GroupIn) -> object:
    """A named group of students of the lesson's class (to send cards to)."""
    group = actions.create_lesson_group(request.user, lesson_id, payload.name, payload.student_ids)
    members = sorted(group.members.values_list("pk", flat=True))
    return Status(201, {"id": group.pk, "name": group.name, "member_ids": members})


# --- Submission boxes -----------------------------------------------------------------------------


@router.post("/lessons/{lesson_id}/boxes", response=answers({201: BoxOut}))
@audience(*TEACHING_ROLES)
def create_box(request: AuthedRequest, lesson_id: int, payload: BoxIn) -> object:
    box = actions.create_box(request.user, lesson_id, payload.title, payload.deadline)
    return Status(201, box_out(box))


@router.post("/boxes/{box_id}/open", response=answers({200: BoxOut}))
@audience(*TEACHING_ROLES)
def open_box(request: AuthedRequest, box_id: int) -> object:
    return box_out(actions.set_box_open(request.user, box_id, True))


@router.post("/boxes/{box_id}/close", response=answers({200: BoxOut}))
@audience(*TEACHING_ROLES)
def close_box(request: AuthedRequest, box_id: int) -> object:
    return box_out(actions.set_box_open(request.user, box_id, False))


@router.post("/boxes/{box_id}/sharing", response=answers({200: BoxOut}))
@audience(*TEACHING_ROLES)
def share_answers(request: AuthedRequest, box_id: int, payload: SharingIn) -> object:
    """Show (or stop showing) every student the class's current answers; anonymous hides names."""
    box = actions.share_answers(request.user, box_id, payload.sharing, anonymous=payload.anonymous)
    return box_out(box)


@router.get("/boxes/{box_id}/submissions", response=answers({200: list[SubmissionOut]}))
@audience(*TEACHING_ROLES)
def list_box_submissions(request: AuthedRequest, box_id: int) -> object:
    """The current submission of each student (earlier ones are history)."""
    # The class's overview, as on the teacher's lesson page: not recorded per pupil; opening one
    # card (GET /api/cards/{id}) is (see classnote.audit.reads).
    box = lesson_access.get_box_for(request.user, box_id, teach=True)
    return [submission_out(submission) for submission in lesson_queries.current_submissions(box)]


@router.get("/boxes/{box_id}/roster", response=answers({200: list[RosterEntryOut]}))
@audience(*TEACHING_ROLES)
def box_roster(request: AuthedRequest, box_id: int) -> object:
    """Every pupil of the class with their state for this box, in class order: "submitted" (late
    tells whether after the deadline), "drafting" (opened the lesson or worked on a card of it;
    edited tells which) or "not_opened". Teachers of the lesson only; pupils see nobody's state."""
    return [
        {
            "student_id": entry.pupil.pk,
            "display_name": entry.pupil.display_name,
            "state": entry.state,
            "late": entry.late,
            "edited": entry.edited,
            "submission_id": entry.submission_id,
        }
        for entry in lesson_queries.box_roster(request.user, box_id).entries
    ]


@router.post("/boxes/{box_id}/submissions", response=answers({201: SubmissionOut}))
@audience(Role.STUDENT)
def submit(request: AuthedRequest, box_id: int, payload: SubmitIn) -> object:
    """Submit a snapshot of my card; an earlier submission to the box stays as history."""
    submission = actions.submit(request.user, box_id, payload.card_id)
    return Status(201, submission_out(submission))


@router.get("/boxes/{box_id}/shared", response=answers({200: list[SharedAnswerOut]}))
@audience(Role.STUDENT)
def list_shared_answers(request: AuthedRequest, box_id: int) -> object:
    """The class's current answers while the teacher shares them; without names when anonymous."""
    box = lesson_access.get_box_for(request.user, box_id)
    return [shared_out(answer) for answer in lesson_queries.shared_answers(box)]


@router.get("/submissions", response=answers({200: list[SubmissionOut]}))
@audience(Role.STUDENT)
def list_my_submissions(request: AuthedRequest, box_id: Id | None = None, lesson_id: Id | None = None) -> object:
    """All my submissions, earlier ones included (is_current tells which one counts)."""
    mine = Submission.objects.filter(student=request.user)
    if box_id is not None:
        mine = mine.filter(box_id=box_id)
    if lesson_id is not None:
        mine = mine.filter(box__lesson_id=lesson_id)
    mine = mine.select_related("box", "student", "card").order_by("-submitted_at", "-pk")
    return [submission_out(submission) for submission in mine]


@router.post("/submissions/{submission_id}/return", response=answers({200: SubmissionOut}))
@audience(*TEACHING_ROLES)
def return_submission(request: AuthedRequest, submission_id: int, payload: ReturnIn) -> object:
    """Return a submission to its student with a comment and an optional mark (◎, ○ or △)."""
    submission = actions.return_submission(request.user, submission_id, payload.comment, payload.mark)
    return submission_out(submission)


# --- Portfolio ------------------------------------------------------------------------------------


@router.get("/portfolio", response=answers({200: list[PortfolioEntry]}))
@audience(Role.STUDENT)
def list_portfolio(request: AuthedRequest) -> object:
    """Every current submission of mine, across lessons and years, newest first."""
    entries = []
    for submission in submissions_of(request.user):
        lesson = submission.box.lesson
        entries.append(
            {
                "submission_id": submission.pk,
                "submitted_at": submission.submitted_at,
                "late": submission.is_late,
                "school_year": lesson.school_class.school_year,
                "class_name": lesson.school_class.name,
                "lesson_id": lesson.pk,
                "lesson_title": lesson.title,
                "task": submission.box.title,
                "card": card_summary(submission.card),
                "returned_at": submission.returned_at,
                "teacher_comment": submission.return_comment,
                "teacher_mark": submission.return_mark,
            }
        )
    return entries
