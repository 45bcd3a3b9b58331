"""The lesson's event channel ("lesson:<id>") and the class's ("class:<id>"), registered with
classnote.realtime.channels when the app is ready.

The class channel says when a lesson of the class starts (``lesson.started``) and ends
(``lesson.ended``), so a pupil's home and class page offer "join" without a reload, and when the
teacher locks and unlocks the pupils' screens (``lesson.locked`` / ``lesson.unlocked``, also on the
lesson's channel), so every page of a pupil covers itself wherever the pupil is. It stores the
lesson's id only; the title travels live and a replay reads it again (or drops the event when the
lesson has ended, is gone or is no longer readable). Its listeners are the class's pupils and teachers.

The lesson channel:

* who may listen: a pupil or teacher of the lesson, decided by lessons.access;
* which lesson channels concern a person (the lessons of their classes), for the data inventory;
* how a stored event is replayed: the store keeps ids (lessons.actions), and a replay fills in the
  names, titles and comments through today's access rules, or drops the event. Shared answers are
  replayed only while the box still shares them, and by name only while sharing is not anonymous; a
  submission, card or comment deleted since is not replayed. A pupil's activity (``pupil.activity``:
  opened the lesson, started working) is addressed to the teachers and replayed only to a teacher,
  with the pupil's name of today, while the pupil is still in a class the teacher teaches.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from classnote.accounts.models import User
from classnote.base.roles import TEACHING_ROLES, Role
from classnote.cards import access as card_access
from classnote.lessons import access, summaries
from classnote.lessons.models import Lesson, Submission
from classnote.realtime import channels
from classnote.realtime.messages import Message
from classnote.tenancy.access import attended_classes, own_school_classes, taught_classes
from classnote.tenancy.models import Membership

# The listener roles of a lesson's channel: events are addressed to them (lessons.actions).
TEACHER = "teacher"
PUPIL = "student"
_OWN_OR_TAUGHT = ("submission.added", "submission.returned")  # a pupil's own submission, or the teacher's class's
# A pupil opened the lesson or started working on it (lessons.activity): the pupil's id and the new
# state are stored; the name travels live and is read again on a replay.
ACTIVITY = "pupil.activity"
OPENED = "opened"
DRAFTED = "drafted"
# The teacher locks and unlocks the pupils' screens ("eyes on me"): on the lesson's channel and its class's.
LOCKED = "lesson.locked"
UNLOCKED = "lesson.unlocked"


def lock_detail(lesson: Lesson) -> dict[str, Any]:
    """What a lock event carries besides the lesson's id: for how many seconds the lock holds (the
    page lifts it by itself when it lapses). Live only; a replay reads it again."""
    return {"seconds": lesson.lock_seconds_left()}


def _locks_replayed(user: Any, messages: list[Message]) -> dict[int, Lesson]:
    """The lessons of the lock events among `messages` that the user may read and that are still
    locked now: a stored "locked" is replayed only for them (a later "unlocked" follows otherwise)."""
    wanted = {pk for m in messages if m.kind == LOCKED and isinstance(pk := m.data.get("lesson_id"), int)}
    if not wanted:
        return {}
    readable = access.readable_lessons(user).filter(pk__in=wanted, locked_at__isnull=False, closed_at__isnull=True)
    return {lesson.pk: lesson for lesson in readable if lesson.is_locked}


def _lock_event(message: Message, locked: dict[int, Lesson]) -> dict[str, Any] | None:
    """A stored lock event as replayed today: a lock still in force with its time left, or dropped;
    an unlock as stored (the lesson's id)."""
    lesson_id = message.data.get("lesson_id")
    if message.kind == UNLOCKED:
        return {"lesson_id": lesson_id}
    found = locked.get(lesson_id) if isinstance(lesson_id, int) else None
    return None if found is None else {"lesson_id": found.pk, **lock_detail(found)}


def listener(user: Any, lesson_id: int) -> channels.Listener | None:
    lesson = access.with_relation(access.readable_lessons(user), user).filter(pk=lesson_id).first()
    if lesson is None:
        return None
    return channels.Listener(lesson.channel, TEACHER if lesson.teaching else PUPIL)


def channels_of(person: Any) -> list[str]:
    """The channels of the lessons of every class the person is (or was, while the membership
    stands) a member of."""
    classes = Membership.objects.filter(user_id=getattr(person, "pk", 0)).values("school_class")
    return [
        Lesson.channel_name(pk) for pk in Lesson.objects.filter(school_class__in=classes).values_list("pk", flat=True)
    ]


def _submission_id(message: Message) -> int | None:
    """The event's submission (stored events before ids-only kept the whole summary)."""
    value = message.data.get("submission_id") or (message.data.get("submission") or {}).get("id")
    return value if isinstance(value, int) else None


def _card_ids(slice_: Any) -> list[int]:
    items = slice_ if isinstance(slice_, list) else []
    ids = [item.get("id") if isinstance(item, dict) else item for item in items]
    return [pk for pk in ids if isinstance(pk, int)]


def replay(user: Any, listener: channels.Listener, messages: list[Message]) -> list[Message]:
    """The stored events as the user may see them today; a few queries for the whole batch."""
    wanted = {pk for m in messages if m.kind in _OWN_OR_TAUGHT and (pk := _submission_id(m)) is not None}
    shared_ids = {pk for m in messages if m.kind == "shared.updated" and (pk := _submission_id(m)) is not None}
    mine = {m.seq: _card_ids(m.per_user.get(str(user.pk))) for m in messages if m.kind == "cards.received"}
    senders = {pk for m in messages if m.kind == "cards.received" and isinstance(pk := m.data.get("from_id"), int)}

    related = ("box", "card", "student")
    readable = Submission.objects.filter(access.submission_rule(user), pk__in=wanted).select_related(*related)
    submissions = {s.pk: s for s in readable} if wanted else {}
    # Shared answers: of a lesson the user attends, in a box that shares them now, still current.
    shared = (
        Submission.objects.filter(
            pk__in=shared_ids, box__sharing=True, is_current=True, box__lesson__in=access.readable_lessons(user)
        ).select_related(*related)
        if shared_ids
        else []
    )
    answers = {s.pk: s for s in shared}
    card_ids = [pk for ids in mine.values() for pk in ids]
    cards = {c.pk: c for c in card_access.readable_cards(user).filter(pk__in=card_ids)} if card_ids else {}
    names = dict(User.objects.filter(pk__in=senders).values_list("pk", "display_name")) if senders else {}
    active = {pk for m in messages if m.kind == ACTIVITY and isinstance(pk := m.data.get("pupil_id"), int)}
    pupils = access.taught_pupils(user, active) if active and listener.role == TEACHER else {}
    locked = _locks_replayed(user, messages)

    shown: list[Message] = []
    for message in messages:
        data: dict[str, Any] | None
        per_user: dict[str, Any] = {}
        if message.kind == "cards.received":
            sender = message.data.get("from_id")
            data = {"from_id": sender, "from": names.get(sender or 0, ""), "count": message.data.get("count", 0)}
            if str(user.pk) in message.per_user:
                per_user = {str(user.pk): [summaries.card(cards[pk]) for pk in mine[message.seq] if pk in cards]}
        elif message.kind == ACTIVITY:
            pupil = message.data.get("pupil_id")
            name = pupils.get(pupil) if isinstance(pupil, int) else None
            data = None if name is None else {"pupil_id": pupil, "state": message.data.get("state"), "pupil": name}
        elif message.kind in _OWN_OR_TAUGHT or message.kind == "shared.updated":
            found = (answers if message.kind == "shared.updated" else submissions).get(_submission_id(message) or 0)
            data = None if found is None else _submission_event(message.kind, found)
        elif message.kind in (LOCKED, UNLOCKED):
            data = _lock_event(message, locked)
        else:  # boxes, sharing, the lesson's state: no one's personal data
            data, per_user = message.data, message.per_user
        if data is not None:
            shown.append(replace(message, data=data, per_user=per_user, stored=False))
    return shown


def _submission_event(kind: str, submission: Submission) -> dict[str, Any]:
    ids = {"box_id": submission.box_id, "submission_id": submission.pk}
    if kind == "submission.returned":
        return {**ids, "comment": submission.return_comment, "mark": submission.return_mark}
    anonymous = kind == "shared.updated" and submission.box.sharing_anonymous
    return {**ids, "submission": summaries.submission(submission, anonymous=anonymous)}


# --- The class's channel: lessons starting and ending ---------------------------------------------

CLASS_KIND = "class"
STARTED = "lesson.started"
ENDED = "lesson.ended"


def class_channel(class_id: int) -> str:
    """The class's event channel: its lessons starting and ending."""
    return f"{CLASS_KIND}:{class_id}"


def class_listener(user: Any, class_id: int) -> channels.Listener | None:
    """A pupil or a teacher of the class (a member, in the user's own school); no one else."""
    if user.role in TEACHING_ROLES:
        classes, role = taught_classes(user), TEACHER
    elif user.role == Role.STUDENT:
        classes, role = attended_classes(user), PUPIL
    else:
        return None
    member = own_school_classes(user, classes).filter(pk=class_id).exists()
    return channels.Listener(class_channel(class_id), role) if member else None


def started_detail(lesson: Lesson) -> dict[str, Any]:
    """What a "lesson started" event carries live (the title is not stored)."""
    return {"title": lesson.title}


def class_replay(user: Any, listener: channels.Listener, messages: list[Message]) -> list[Message]:
    """Lessons started: sent again with today's title while the lesson is open and the user may
    read it, else dropped (ended since, deleted, or no longer the user's class). Lessons ended and
    screens unlocked: ids only, as stored. Screens locked: only while the lock holds now."""
    wanted = {pk for m in messages if m.kind == STARTED and isinstance(pk := m.data.get("lesson_id"), int)}
    lessons = {lesson.pk: lesson for lesson in access.readable_lessons(user).filter(pk__in=wanted)} if wanted else {}
    locked = _locks_replayed(user, messages)
    shown: list[Message] = []
    for message in messages:
        lesson_id = message.data.get("lesson_id")
        if message.kind in (LOCKED, UNLOCKED):
            lock = _lock_event(message, locked)
            if lock is not None:
                shown.append(replace(message, data=lock, per_user={}, stored=False))
            continue
        if message.kind == STARTED:
            found = lessons.get(lesson_id) if isinstance(lesson_id, int) else None
            if found is None or not found.is_open:  # ended since: its "ended" follows
                continue
            data = {"lesson_id": found.pk, **started_detail(found)}
        else:
            data = {"lesson_id": lesson_id}
        shown.append(replace(message, data=data, per_user={}, stored=False))
    return shown


def register() -> None:
    channels.register("lesson", listener, person_channels=channels_of, replay=replay)
    # No person's channels: its events hold a lesson's id and nothing about anyone.
    channels.register(CLASS_KIND, class_listener, replay=class_replay)
