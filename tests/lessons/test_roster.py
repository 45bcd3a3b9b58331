"""Issue 14, defect 5: the teacher's roster strip. Each box lists every pupil of the class as
submitted (late marked), working on it ("drafting": opened the lesson or one of its cards, or worked
on one) or not yet opened. What is stored for it (LessonActivity) is written on the two transitions
only, announced to the lesson's teachers only, and read by them only."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from classnote.cards import actions as cards
from classnote.cards.models import Card
from classnote.lessons import actions, activity, queries, streams
from classnote.lessons.models import LessonActivity, SubmissionBox
from classnote.realtime import channels
from classnote.realtime.models import Event
from classnote.realtime.store import load_since
from tests.api.conftest import session
from tests.conftest import Tenant, login_as

ACTIVITY_WRITES = ('INSERT INTO "lessons_lessonactivity"', 'UPDATE "lessons_lessonactivity"')


def states(tenant: Tenant, box: SubmissionBox | None = None) -> dict[int, tuple[str, bool, bool]]:
    """pupil id -> (state, late, edited) of the box (the tenant's box unless given)."""
    found = queries.box_roster(tenant.teacher, (box or tenant.box).pk)
    return {entry.pupil.pk: (entry.state, entry.late, entry.edited) for entry in found.entries}


def copy_of(tenant: Tenant, pupil: object) -> Card:
    return Card.objects.get(origin=tenant.card, owner=pupil)


def activity_events() -> list[Event]:
    return list(Event.objects.filter(kind=streams.ACTIVITY).order_by("seq"))


def test_every_pupil_of_the_class_in_class_order_with_their_state(tenant_a: Tenant) -> None:
    # The tenant's pupil has submitted (tests/conftest.py); the classmate has done nothing yet.
    assert states(tenant_a) == {
        tenant_a.student.pk: ("submitted", False, False),
        tenant_a.classmate.pk: ("not_opened", False, False),
    }
    roster = queries.box_roster(tenant_a.teacher, tenant_a.box.pk)
    assert [e.pupil.pk for e in roster.entries] == [tenant_a.student.pk, tenant_a.classmate.pk]
    assert (roster.submitted, roster.drafting, roster.not_opened) == (1, 0, 1)
    assert tenant_a.other_class_student.pk not in states(tenant_a)

    # The classmate opens the lesson page: working on it, not yet writing.
    assert login_as(Client(), tenant_a.classmate).get(f"/lessons/{tenant_a.lesson.pk}/").status_code == 200
    assert states(tenant_a)[tenant_a.classmate.pk] == ("drafting", False, False)
    # ... saves an edit of the card the teacher sent: writing.
    mine = copy_of(tenant_a, tenant_a.classmate)
    cards.autosave(tenant_a.classmate, mine.pk, mine.version, {"text": "3/4"})
    assert states(tenant_a)[tenant_a.classmate.pk] == ("drafting", False, True)

    # A second box with a deadline gone by: nobody has submitted there; the classmate's late
    # submission is marked late there and does not count in the first box.
    late_box = actions.create_box(tenant_a.teacher, tenant_a.lesson.pk, "Late box", timezone.now() - timedelta(hours=1))
    actions.submit(tenant_a.classmate, late_box.pk, mine.pk)
    assert states(tenant_a, late_box) == {
        tenant_a.student.pk: ("not_opened", False, False),  # submitted elsewhere, never opened the lesson
        tenant_a.classmate.pk: ("submitted", True, False),
    }
    assert states(tenant_a)[tenant_a.classmate.pk] == ("drafting", False, True)


def test_opening_a_card_of_the_lesson_counts_as_opening_it(tenant_a: Tenant) -> None:
    mine = copy_of(tenant_a, tenant_a.classmate)
    assert login_as(Client(), tenant_a.classmate).get(f"/cards/{mine.pk}/").status_code == 200
    assert states(tenant_a)[tenant_a.classmate.pk] == ("drafting", False, False)


def test_a_card_made_in_the_lesson_counts_as_working_on_it(tenant_a: Tenant) -> None:
    cards.create_card(tenant_a.classmate, kind="text", lesson_id=tenant_a.lesson.pk, title="My own")
    assert states(tenant_a)[tenant_a.classmate.pk] == ("drafting", False, True)


def test_only_the_first_open_and_the_first_edit_write_and_announce(tenant_a: Tenant) -> None:
    pupil, lesson_id = tenant_a.classmate, tenant_a.lesson.pk
    assert activity.note_opened(pupil, lesson_id) is True
    assert activity.note_opened(pupil, lesson_id) is False
    mine = copy_of(tenant_a, pupil)
    version = cards.autosave(pupil, mine.pk, mine.version, {"text": "a"}).version
    assert [(e.data["pupil_id"], e.data["state"]) for e in activity_events()] == [
        (pupil.pk, "opened"),
        (pupil.pk, "drafted"),
    ]
    first = LessonActivity.objects.get(lesson_id=lesson_id, pupil=pupil)

    # Later visits and autosaves: not one write to the activity, nothing more announced.
    with CaptureQueriesContext(connection) as queries_run:
        for text in ("ab", "abc", "abcd"):
            version = cards.autosave(pupil, mine.pk, version, {"text": text}).version
        assert login_as(Client(), pupil).get(f"/lessons/{lesson_id}/").status_code == 200
    writes = [q["sql"] for q in queries_run.captured_queries if q["sql"].startswith(ACTIVITY_WRITES)]
    assert writes == []
    assert len(activity_events()) == 2
    again = LessonActivity.objects.get(lesson_id=lesson_id, pupil=pupil)
    assert (again.opened_at, again.drafted_at) == (first.opened_at, first.drafted_at)


def test_teachers_other_pupils_and_ended_lessons_are_not_recorded(tenant_a: Tenant, tenant_b: Tenant) -> None:
    lesson_id = tenant_a.lesson.pk
    assert login_as(Client(), tenant_a.teacher).get(f"/lessons/{lesson_id}/").status_code == 200
    assert activity.note_opened(tenant_a.teacher, lesson_id) is False
    assert activity.note_opened(tenant_a.other_class_student, lesson_id) is False  # not their class
    assert activity.note_drafted(tenant_b.student, lesson_id) is False  # another school
    actions.close_lesson(tenant_a.teacher, lesson_id)
    assert login_as(Client(), tenant_a.classmate).get(f"/lessons/{lesson_id}/").status_code == 200
    assert not LessonActivity.objects.exists()
    assert activity_events() == []


def test_the_activity_event_goes_to_the_teachers_with_ids_only_and_names_on_replay(tenant_a: Tenant) -> None:
    pupil = tenant_a.classmate
    activity.note_opened(pupil, tenant_a.lesson.pk)
    (event,) = activity_events()
    assert event.audience == {"roles": ["teacher"]}
    assert event.data == {"pupil_id": pupil.pk, "state": "opened"}  # stored: no name
    channel = tenant_a.lesson.channel
    stored = [m for m in load_since(channel, 0) if m.kind == streams.ACTIVITY]

    teacher = streams.listener(tenant_a.teacher, tenant_a.lesson.pk)
    assert teacher is not None and teacher.role == streams.TEACHER
    (shown,) = streams.replay(tenant_a.teacher, teacher, stored)
    assert shown.data == {"pupil_id": pupil.pk, "state": "opened", "pupil": pupil.display_name}

    # Pupils: not addressed, and a replay for one drops it even so.
    student = streams.listener(tenant_a.student, tenant_a.lesson.pk)
    assert student is not None and student.role == streams.PUPIL
    assert not stored[0].visible_to(tenant_a.student.pk, student.role)
    assert streams.replay(tenant_a.student, student, stored) == []
    # A pupil who has left the class since is not named to the teacher.
    pupil.memberships.all().delete()
    assert streams.replay(tenant_a.teacher, teacher, stored) == []
    assert isinstance(teacher, channels.Listener)


def test_only_the_lessons_teachers_get_the_roster(tenant_a: Tenant, tenant_b: Tenant) -> None:
    url = f"/api/boxes/{tenant_a.box.pk}/roster"
    answer = session(tenant_a.teacher).get(url)
    assert answer.status_code == 200, answer.content
    assert [(row["student_id"], row["state"]) for row in answer.json()] == [
        (tenant_a.student.pk, "submitted"),
        (tenant_a.classmate.pk, "not_opened"),
    ]
    assert session(tenant_a.student).get(url).status_code in {403, 404}  # pupils see nobody's state
    assert session(tenant_b.teacher).get(url).status_code == 404  # a teacher of another school
    assert session(tenant_a.school_admin).get(url).status_code == 404  # not a teacher of this class
    other = session(tenant_b.teacher).get(f"/api/boxes/{tenant_b.box.pk}/roster")
    assert tenant_a.student.pk not in {row["student_id"] for row in other.json()}


def test_the_pages_show_the_strip_to_the_teacher_only(tenant_a: Tenant) -> None:
    lesson_path = f"/lessons/{tenant_a.lesson.pk}/"
    login_as(Client(), tenant_a.classmate).get(lesson_path)  # opened: working on it
    page = login_as(Client(), tenant_a.teacher).get(lesson_path).content.decode()
    assert f'data-roster-pupil="{tenant_a.student.pk}" data-state="submitted"' in page
    assert f'href="#submission-{tenant_a.submission.pk}"' in page
    assert f'id="submission-{tenant_a.submission.pk}"' in page
    assert f'data-roster-pupil="{tenant_a.classmate.pk}" data-state="drafting"' in page
    pupil_page = login_as(Client(), tenant_a.student).get(lesson_path).content.decode()
    assert "data-roster" not in pupil_page
    assert tenant_a.classmate.display_name not in pupil_page
