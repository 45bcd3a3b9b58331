"""Writes of the lesson: open, send, collect, return, share. Each takes the acting user and ids,
checks access through lessons.access (the only check: views and the API do not check before),
runs in one transaction, and stores its event for the lesson's stream (published after commit),
so nothing is pushed that was not saved. Events store ids; names, titles and comments travel only
live (``detail``) and are filled in again for a replay by lessons.streams. A refusal is an
ActionError."""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from classnote.accounts.models import User
from classnote.audit.log import record
from classnote.base.errors import ActionError, NotFound
from classnote.base.roles import Role
from classnote.base.text import clean_text
from classnote.cards import access as card_access
from classnote.cards.actions import copy_card, copy_cards
from classnote.cards.models import Card
from classnote.lessons import access, queries, streams, summaries
from classnote.lessons.models import Group, Lesson, Submission, SubmissionBox
from classnote.realtime.events import emit
from classnote.tenancy import access as tenancy_access
from classnote.tenancy.models import Membership

# Events meant for the lesson's teachers or pupils name their listener role (lessons.streams).
TEACHERS = [streams.TEACHER]
PUPILS = [streams.PUPIL]
MAX_COMMENT = 2000


def open_lesson(actor: User, class_id: int, title: str) -> Lesson:
    school_class = tenancy_access.get_class_for(actor, class_id)
    if not tenancy_access.teaches(actor, school_class):
        raise ActionError(_("Only a teacher of this class can open a lesson."))
    title = clean_text(title, 120)
    if not title:
        raise ActionError(_("Enter a title for the lesson."))
    with transaction.atomic():
        lesson = Lesson.objects.create(school_class=school_class, title=title, created_by=actor)
        # The class's pupils are told at once (their home and class page offer "join").
        emit(
            streams.class_channel(school_class.pk),
            streams.STARTED,
            data={"lesson_id": lesson.pk},
            detail=streams.started_detail(lesson),
        )
    return lesson


def _recipients(lesson: Lesson, to: str, student_ids: list[int], group_id: int | None) -> list[User]:
    students = queries.class_students(lesson)
    if to == "class":
        return students
    if to == "group":
        group = Group.objects.filter(pk=group_id or 0, school_class_id=lesson.school_class_id).first()
        if group is None:
            raise ActionError(_("Choose a group of this class."))
        members = set(group.members.values_list("pk", flat=True))
        return [s for s in students if s.pk in members]
    if to == "students":
        wanted = set(student_ids)
        chosen = [s for s in students if s.pk in wanted]
        if not chosen or len(chosen) != len(wanted):
            raise ActionError(_("Choose students of this class."))
        return chosen
    raise ActionError(_("Choose whom to send to."))


def send_cards(
    actor: User,
    lesson_id: int,
    card_ids: list[int],
    *,
    to: str = "class",
    student_ids: list[int] | None = None,
    group_id: int | None = None,
) -> dict[int, list[Card]]:
    """Send copies of the teacher's cards; each recipient gets their own copy, the originals stay."""
    lesson = access.get_lesson_for(actor, lesson_id, teach=True)
    if not lesson.is_open:
        raise ActionError(_("This lesson is closed."))
    originals = list(card_access.readable_cards(actor).filter(pk__in=card_ids, sequence__isnull=True))
    if not originals or len(originals) != len(set(card_ids)):
        raise ActionError(_("Choose cards to send."))
    recipients = _recipients(lesson, to, student_ids or [], group_id)
    if not recipients:
        raise ActionError(_("There is nobody to send to."))
    return _deliver(actor, lesson, originals, recipients)


def peer_send(actor: User, lesson_id: int, card_id: int, student_ids: list[int]) -> dict[int, list[Card]]:
    """A pupil sends a copy of their own card to classmates, while the teacher allows it."""
    lesson = access.get_lesson_for(actor, lesson_id)
    if actor.role != Role.STUDENT:
        raise ActionError(_("Only students send to classmates here."))
    if not lesson.allows_peer_sending:
        raise ActionError(_("Sending to classmates is not allowed right now."))
    _refuse_while_locked(lesson)
    card = card_access.get_card_for(actor, card_id, edit=True)
    allowed = {student.pk: student for student in queries.peer_recipients(actor, lesson)}
    wanted = set(student_ids) - {actor.pk}
    if wanted - set(allowed):
        raise ActionError(_("Choose students of this class."))
    if not wanted:
        raise ActionError(_("Choose classmates to send to."))
    return _deliver(actor, lesson, [card], [allowed[pk] for pk in allowed if pk in wanted])


def _deliver(actor: User, lesson: Lesson, originals: list[Card], recipients: list[User]) -> dict[int, list[Card]]:
    with transaction.atomic():
        delivered = copy_cards(originals, owners=recipients, lesson=lesson, sent_by=actor)
        emit(
            lesson.channel,
            "cards.received",
            data={"from_id": actor.pk, "count": len(originals)},
            detail={"from": actor.display_name},
            users=[s.pk for s in recipients] + [actor.pk],
            per_user={uid: [c.pk for c in cards] for uid, cards in delivered.items()},
            per_user_detail={uid: [summaries.card(c) for c in cards] for uid, cards in delivered.items()},
        )
    return delivered


def _deadline(value: datetime | None) -> datetime | None:
    """A box's deadline: a moment without an offset is read in the service's time zone (TIME_ZONE),
    for the page and the API alike; years outside 2000–2999 are refused."""
    if value is None:
        return None
    try:
        moment = timezone.make_aware(value) if timezone.is_naive(value) else value
        year = moment.astimezone(UTC).year
    except (OverflowError, ValueError):
        year = 0
    if not 2000 <= year <= 2999:
        raise ActionError(_("Choose a deadline between the years 2000 and 2999."))
    return moment


def create_box(actor: User, lesson_id: int, title: str, deadline: datetime | None = None) -> SubmissionBox:
    lesson = access.get_lesson_for(actor, lesson_id, teach=True)
    if not lesson.is_open:  # a closed lesson's boxes are closed; a new one must not open it again
        raise ActionError(_("This lesson is closed."))
    title = clean_text(title, 120)
    if not title:
        raise ActionError(_("Enter the task of the submission box."))
    deadline = _deadline(deadline)
    with transaction.atomic():
        box = SubmissionBox.objects.create(lesson=lesson, title=title, deadline=deadline)
        emit(lesson.channel, "box.changed", data={"box": summaries.box(box)})
    return box


def set_box_open(actor: User, box_id: int, is_open: bool) -> SubmissionBox:
    box = access.get_box_for(actor, box_id, teach=True)
    if is_open and not box.lesson.is_open:
        raise ActionError(_("This lesson is closed."))
    with transaction.atomic():
        box.is_open = is_open
        box.save(update_fields=["is_open"])
        emit(box.lesson.channel, "box.changed", data={"box": summaries.box(box)})
    return box


def submit(actor: User, box_id: int, card_id: int) -> Submission:
    """A pupil submits a frozen snapshot of their card; earlier submissions stay as history."""
    box = access.get_box_for(actor, box_id)
    if actor.role != Role.STUDENT:
        raise NotFound
    if not box.accepts_submissions():
        raise ActionError(_("This submission box is closed."))
    _refuse_while_locked(box.lesson)
    card = card_access.get_card_for(actor, card_id, edit=True)
    now = timezone.now()
    with transaction.atomic():
        previous = Submission.objects.select_for_update().filter(box=box, student=actor, is_current=True).first()
        number = 1
        if previous is not None:
            number = previous.number + 1
            previous.is_current = False
            previous.save(update_fields=["is_current"])
        snapshot = copy_card(card, owner=actor, lesson=box.lesson, frozen=True)
        submission = Submission.objects.create(
            box=box, student=actor, card=snapshot, number=number, is_late=box.is_late(now)
        )
        ids = {"box_id": box.pk, "submission_id": submission.pk}
        emit(
            box.lesson.channel,
            "submission.added",
            data=ids,
            detail={"submission": summaries.submission(submission, anonymous=False)},
            roles=TEACHERS,
            users=[actor.pk],
        )
        if box.sharing:
            emit(
                box.lesson.channel,
                "shared.updated",
                data=ids,
                detail={"submission": summaries.submission(submission, anonymous=box.sharing_anonymous)},
                roles=PUPILS,
            )
    return submission


def return_submission(actor: User, submission_id: int, comment: str, mark: str = "") -> Submission:
    """Return a submission to its pupil with an optional comment and an optional mark (◎ ○ △)."""
    submission = access.get_submission_for(actor, submission_id, teach=True)
    comment = clean_text(comment, MAX_COMMENT + 1)
    if len(comment) > MAX_COMMENT:  # refused, never cut: the teacher would lose the end of it
        raise ActionError(_("The comment is too long (at most 2,000 characters)."))
    mark = (mark or "").strip()
    if mark and mark not in Submission.Mark.values:
        raise ActionError(_("Choose a mark from the list (◎, ○ or △), or none."))
    with transaction.atomic():
        submission.returned_at = timezone.now()
        submission.return_comment = comment
        submission.return_mark = mark
        submission.save(update_fields=["returned_at", "return_comment", "return_mark"])
        emit(
            submission.box.lesson.channel,
            "submission.returned",
            data={"box_id": submission.box_id, "submission_id": submission.pk},
            detail={"comment": submission.return_comment, "mark": submission.return_mark},
            users=[submission.student_id],
            roles=TEACHERS,
        )
    return submission


def share_answers(actor: User, box_id: int, sharing: bool, anonymous: bool = False) -> SubmissionBox:
    box = access.get_box_for(actor, box_id, teach=True)
    with transaction.atomic():
        box.sharing, box.sharing_anonymous = sharing, anonymous
        box.save(update_fields=["sharing", "sharing_anonymous"])
        emit(box.lesson.channel, "sharing.changed", data={"box": summaries.box(box)})
    return box


def set_peer_sending(actor: User, lesson_id: int, allowed: bool) -> Lesson:
    lesson = access.get_lesson_for(actor, lesson_id, teach=True)
    with transaction.atomic():
        lesson.peer_sending = allowed
        lesson.save(update_fields=["peer_sending"])
        emit(lesson.channel, "lesson.changed", data={"peer_sending": allowed})
    return lesson


def _refuse_while_locked(lesson: Lesson) -> None:
    """While the teacher has locked the screens, a pupil's submissions and cards sent to classmates
    are refused (the overlay covers the page; this holds the API and a page opened before). Saving
    a draft is not refused: the lock itself saves every open draft first (card.js)."""
    if lesson.is_locked:
        raise ActionError(_("Your teacher has locked the screens. Wait until they are unlocked, then try again."))


def set_screen_lock(actor: User, lesson_id: int, locked: bool) -> Lesson:
    """Lock (or unlock) the screens of every pupil of the lesson ("eyes on me"). The pupils' pages
    hear it live on the lesson's channel (lesson pages) and the class's (every other page); pages
    rendered while locked show the lock from the server. Locking again restarts the lapse."""
    lesson = access.get_lesson_for(actor, lesson_id, teach=True)
    if locked and not lesson.is_open:
        raise ActionError(_("This lesson is closed."))
    if not locked and lesson.locked_at is None:
        return lesson  # nothing to unlock: no event, no entry
    with transaction.atomic():
        lesson.locked_at = timezone.now() if locked else None
        lesson.locked_by = actor if locked else None
        lesson.save(update_fields=["locked_at", "locked_by"])
        _announce_lock(lesson)
        record(
            actor,
            "lesson.locked" if locked else "lesson.unlocked",
            target=lesson,
            school_id=lesson.school_class.school_id,
        )
    return lesson


def _announce_lock(lesson: Lesson) -> None:
    """The lesson's lock state, on its channel (the teacher's page shows the toggle's new state) and
    its class's (for the pupils only: the class page of a teacher has nothing to show). Stored as
    the lesson's id; how long it lasts travels live and a replay reads it again (lessons.streams)."""
    kind = streams.LOCKED if lesson.locked_at is not None else streams.UNLOCKED
    data, detail = {"lesson_id": lesson.pk}, streams.lock_detail(lesson)
    emit(lesson.channel, kind, data=data, detail=detail)
    emit(streams.class_channel(lesson.school_class_id), kind, data=data, detail=detail, roles=PUPILS)


def close_lesson(actor: User, lesson_id: int) -> Lesson:
    lesson = access.get_lesson_for(actor, lesson_id, teach=True)
    with transaction.atomic():
        lesson.closed_at = timezone.now()
        if lesson.locked_at is not None:  # ending the lesson unlocks the screens
            lesson.locked_at, lesson.locked_by = None, None
            _announce_lock(lesson)
        lesson.save(update_fields=["closed_at", "locked_at", "locked_by"])
        SubmissionBox.objects.filter(lesson=lesson).update(is_open=False)
        emit(lesson.channel, "lesson.changed", data={"closed": True})
        emit(streams.class_channel(lesson.school_class_id), streams.ENDED, data={"lesson_id": lesson.pk})
    return lesson


def create_group(actor: User, class_id: int, name: str, student_ids: list[int]) -> Group:
    school_class = tenancy_access.get_class_for(actor, class_id)
    if not tenancy_access.teaches(actor, school_class):
        raise ActionError(_("Only a teacher of this class can make groups."))
    name = clean_text(name, 80)
    if not name:
        raise ActionError(_("Enter a name for the group."))
    members = User.objects.filter(
        pk__in=student_ids, memberships__school_class=school_class, memberships__role=Membership.Role.STUDENT
    )
    with transaction.atomic():
        group = Group.objects.create(school_class=school_class, name=name)
        group.members.set(members)
    return group


def create_lesson_group(actor: User, lesson_id: int, name: str, student_ids: list[int]) -> Group:
    """A group of the class of a lesson the actor teaches (made from the lesson's page or API)."""
    lesson = access.get_lesson_for(actor, lesson_id, teach=True)
    return create_group(actor, lesson.school_class_id, name, student_ids)
