""" "Eyes on me": the teacher locks and unlocks the pupils' screens (lessons.actions.set_screen_lock),
from the lesson's page and the API. Only the lesson's teachers may; the lock is announced on the
lesson's channel and the class's; pupils' pages are rendered covered while it holds; submissions and
cards sent to classmates are refused meanwhile, saving drafts is not; it lapses, and ending the
lesson lifts it; a replay shows today's state."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone, translation

from classnote.accounts.models import User
from classnote.audit.models import AuditEntry
from classnote.base.errors import ActionError, NotFound
from classnote.base.roles import Role
from classnote.cards import actions as cards
from classnote.lessons import actions, streams
from classnote.lessons.models import Lesson, Submission
from classnote.realtime.channels import Listener
from classnote.realtime.messages import Message
from classnote.realtime.models import Event
from classnote.tenancy.models import Membership
from tests.api.conftest import send, session
from tests.conftest import Tenant, login_as
from tests.pages import (
    browser,
    copy_of,
    english_tenant,  # noqa: F401 - provides the fixture `t`
    follow,
    form_on,
    lesson_url,
    messages_of,
    parse,
)


def other_teacher(t: Tenant) -> User:
    """A teacher of the same school who does not teach the lesson's class."""
    user = User.objects.create_user(
        "aaa-other-teacher",
        "x-Pass-4567-word",
        display_name="Other teacher",
        role=Role.TEACHER,
        municipality=t.municipality,
        school=t.school,
    )
    Membership.objects.create(school_class=t.other_class, user=user, role="teacher")
    return user


def events(channel: str, kind: str) -> list[Event]:
    return list(Event.objects.filter(channel__name=channel, kind=kind).order_by("seq"))


def overlay(response: object) -> dict[str, object]:
    """The lock overlay of a page and whether the rest of it is inert (None: no overlay at all)."""
    root = parse(response)
    found = [e for e in root.iter() if e.get("data-screen-lock") is not None]
    main = next(root.iter("main"))
    header = next(e for e in root.iter("header") if "topbar" in (e.get("class") or ""))
    return {
        "present": bool(found),
        "shown": bool(found) and found[0].get("hidden") is None,
        "main_inert": main.get("inert") is not None,
        "header_inert": header.get("inert") is not None,
        "streams": [e.get("data-lock-stream") for e in root.iter() if e.get("data-lock-stream")],
    }


# --- The action -------------------------------------------------------------------------------------


def test_the_teacher_locks_and_unlocks_and_both_channels_hear_it(tenant_a: Tenant) -> None:
    lesson = actions.set_screen_lock(tenant_a.teacher, tenant_a.lesson.pk, True)
    lesson.refresh_from_db()
    assert lesson.is_locked and lesson.locked_by == tenant_a.teacher
    assert 3500 < lesson.lock_seconds_left() <= 3600
    class_channel = streams.class_channel(tenant_a.school_class.pk)
    [on_lesson] = events(lesson.channel, "lesson.locked")
    [on_class] = events(class_channel, "lesson.locked")
    assert on_lesson.data == on_class.data == {"lesson_id": lesson.pk}  # ids only are stored
    assert on_class.audience == {"roles": ["student"]}
    entry = AuditEntry.objects.latest("pk")
    assert (entry.action, entry.actor_id, entry.target_type, entry.target_id) == (
        "lesson.locked",
        tenant_a.teacher.pk,
        "Lesson",
        str(lesson.pk),
    )

    actions.set_screen_lock(tenant_a.teacher, lesson.pk, False)
    lesson.refresh_from_db()
    assert not lesson.is_locked and lesson.locked_at is None and lesson.locked_by is None
    assert len(events(lesson.channel, "lesson.unlocked")) == len(events(class_channel, "lesson.unlocked")) == 1
    assert AuditEntry.objects.latest("pk").action == "lesson.unlocked"

    # Unlocking what is not locked changes nothing and says nothing.
    actions.set_screen_lock(tenant_a.teacher, lesson.pk, False)
    assert len(events(lesson.channel, "lesson.unlocked")) == 1


def test_a_pupil_another_teacher_or_an_admin_cannot_lock(tenant_a: Tenant, tenant_b: Tenant) -> None:
    stranger = other_teacher(tenant_a)
    for user in (tenant_a.student, stranger, tenant_a.school_admin, tenant_b.teacher):
        with pytest.raises(NotFound):
            actions.set_screen_lock(user, tenant_a.lesson.pk, True)
    tenant_a.lesson.refresh_from_db()
    assert tenant_a.lesson.locked_at is None
    assert not Event.objects.filter(kind="lesson.locked").exists()


def test_a_closed_lesson_cannot_be_locked_and_ending_the_lesson_unlocks(tenant_a: Tenant) -> None:
    actions.set_screen_lock(tenant_a.teacher, tenant_a.lesson.pk, True)
    actions.close_lesson(tenant_a.teacher, tenant_a.lesson.pk)
    lesson = Lesson.objects.get(pk=tenant_a.lesson.pk)
    assert lesson.locked_at is None and not lesson.is_locked
    assert len(events(streams.class_channel(tenant_a.school_class.pk), "lesson.unlocked")) == 1
    with pytest.raises(ActionError):
        actions.set_screen_lock(tenant_a.teacher, lesson.pk, True)


def test_a_forgotten_lock_lapses(tenant_a: Tenant) -> None:
    actions.set_screen_lock(tenant_a.teacher, tenant_a.lesson.pk, True)
    Lesson.objects.filter(pk=tenant_a.lesson.pk).update(locked_at=timezone.now() - Lesson.LOCK_LAPSE)
    lesson = Lesson.objects.get(pk=tenant_a.lesson.pk)
    assert not lesson.is_locked and lesson.lock_seconds_left() == 0
    mine = copy_of(tenant_a, tenant_a.student)
    actions.submit(tenant_a.student, tenant_a.box.pk, mine.pk)  # accepted again


# --- What the lock refuses, and what it does not ----------------------------------------------------


def test_while_locked_submitting_and_peer_sending_are_refused_but_drafts_are_saved(tenant_a: Tenant) -> None:
    actions.set_peer_sending(tenant_a.teacher, tenant_a.lesson.pk, True)
    actions.set_screen_lock(tenant_a.teacher, tenant_a.lesson.pk, True)
    mine = copy_of(tenant_a, tenant_a.student)
    before = Submission.objects.count()

    saved = cards.autosave(tenant_a.student, mine.pk, mine.version, {"text": "typed before the lock"})
    assert saved.text == "typed before the lock"
    with translation.override("ja"), pytest.raises(ActionError) as refused:
        actions.submit(tenant_a.student, tenant_a.box.pk, mine.pk)
    assert "ロック" in str(refused.value)
    with pytest.raises(ActionError):
        actions.peer_send(tenant_a.student, tenant_a.lesson.pk, mine.pk, [tenant_a.classmate.pk])
    assert Submission.objects.count() == before

    actions.set_screen_lock(tenant_a.teacher, tenant_a.lesson.pk, False)
    actions.submit(tenant_a.student, tenant_a.box.pk, mine.pk)
    assert Submission.objects.count() == before + 1


def test_the_page_refuses_a_submission_while_locked_with_a_message(t: Tenant) -> None:
    client = browser(t.student)
    client.defaults["HTTP_REFERER"] = f"http://testserver{lesson_url(t)}"  # the page the form is on, as a browser says
    form = form_on(client.get(lesson_url(t)), f"/boxes/{t.box.pk}/submit/")  # rendered before the lock
    actions.set_screen_lock(t.teacher, t.lesson.pk, True)
    before = Submission.objects.count()
    page = follow(client, form.submit(client), lesson_url(t))
    assert messages_of(page) == ["Your teacher has locked the screens. Wait until they are unlocked, then try again."]
    assert Submission.objects.count() == before


def test_the_api_refuses_a_submission_while_locked_in_the_pupils_language(tenant_a: Tenant) -> None:
    actions.set_screen_lock(tenant_a.teacher, tenant_a.lesson.pk, True)
    mine = copy_of(tenant_a, tenant_a.student)
    answer = send(session(tenant_a.student), "POST", f"/api/boxes/{tenant_a.box.pk}/submissions", {"card_id": mine.pk})
    assert answer.status_code == 400, answer.content
    assert "ロック" in answer.json()["detail"]  # tenant A speaks Japanese


# --- The front doors --------------------------------------------------------------------------------


def test_the_teachers_header_toggles_the_lock_in_one_tap(t: Tenant) -> None:
    client = browser(t.teacher)
    settings_url = f"{lesson_url(t)}settings/"
    form = form_on(client.get(lesson_url(t)), settings_url, "Lock screens")
    page = follow(client, form.submit(client, "Lock screens"), lesson_url(t))
    t.lesson.refresh_from_db()
    assert t.lesson.is_locked
    assert overlay(page)["present"] is False  # a teacher never sees the overlay

    form = form_on(page, settings_url, "Unlock screens")
    follow(client, form.submit(client, "Unlock screens"), lesson_url(t))
    t.lesson.refresh_from_db()
    assert not t.lesson.is_locked


def test_pupils_and_other_teachers_cannot_lock_through_the_page(t: Tenant) -> None:
    url = f"{lesson_url(t)}settings/"
    pupil = login_as(Client(), t.student)
    assert pupil.post(url, {"lock": "1"}).status_code == 403
    stranger = login_as(Client(), other_teacher(t))
    assert stranger.post(url, {"lock": "1"}).status_code == 404
    t.lesson.refresh_from_db()
    assert t.lesson.locked_at is None


def test_the_api_locks_and_unlocks_for_the_lessons_teachers_only(tenant_a: Tenant) -> None:
    path = f"/api/lessons/{tenant_a.lesson.pk}/screen-lock"
    assert send(session(tenant_a.student), "POST", path, {"locked": True}).status_code == 403
    assert send(session(other_teacher(tenant_a)), "POST", path, {"locked": True}).status_code == 404
    assert not Lesson.objects.get(pk=tenant_a.lesson.pk).is_locked

    teacher = session(tenant_a.teacher)
    locked = send(teacher, "POST", path, {"locked": True})
    assert locked.status_code == 200, locked.content
    assert locked.json()["screen_locked"] is True
    pupil_view = session(tenant_a.student).get(f"/api/lessons/{tenant_a.lesson.pk}").json()
    assert pupil_view["screen_locked"] is True
    assert send(teacher, "POST", path, {"locked": False}).json()["screen_locked"] is False


# --- Pages rendered while locked --------------------------------------------------------------------


def test_every_page_of_a_pupil_is_rendered_covered_while_locked(t: Tenant) -> None:
    pupil = browser(t.student)
    mine = copy_of(t, t.student)
    pages = ["/home/", f"/classes/{t.school_class.pk}/", lesson_url(t), f"/cards/{mine.pk}/", "/portfolio/"]
    for url in pages:
        state = overlay(pupil.get(url))
        assert state["present"] and not state["shown"] and not state["main_inert"], url

    actions.set_screen_lock(t.teacher, t.lesson.pk, True)
    for url in pages:
        state = overlay(pupil.get(url))
        assert state["shown"] and state["main_inert"] and state["header_inert"], url
    # The lesson's page follows the lesson's stream, home and class page the class's (prompts.js):
    # the card page has no stream of its own, so the lock follows the class's channel there.
    assert overlay(pupil.get(lesson_url(t)))["streams"] == []
    assert overlay(pupil.get("/home/"))["streams"] == []
    assert overlay(pupil.get(f"/cards/{mine.pk}/"))["streams"] == [f"/events/class/{t.school_class.pk}/"]

    # A pupil of another class and the teacher are not covered.
    assert overlay(browser(t.other_class_student).get("/home/"))["shown"] is False
    assert overlay(browser(t.teacher).get(lesson_url(t)))["present"] is False

    actions.set_screen_lock(t.teacher, t.lesson.pk, False)
    assert overlay(pupil.get(f"/cards/{mine.pk}/"))["shown"] is False


# --- Replays under today's rules --------------------------------------------------------------------


def stored(channel: str) -> list[Message]:
    return [Message.from_event(e, channel) for e in Event.objects.filter(channel__name=channel).order_by("seq")]


def test_a_replayed_lock_shows_todays_state(tenant_a: Tenant) -> None:
    lesson = tenant_a.lesson
    class_channel = streams.class_channel(tenant_a.school_class.pk)
    listener = Listener(class_channel, streams.PUPIL)
    actions.set_screen_lock(tenant_a.teacher, lesson.pk, True)

    replayed = [m for m in streams.class_replay(tenant_a.student, listener, stored(class_channel)) if "lock" in m.kind]
    assert [m.kind for m in replayed] == ["lesson.locked"]
    assert replayed[0].data["lesson_id"] == lesson.pk and replayed[0].data["seconds"] > 3500
    on_lesson = streams.replay(tenant_a.student, Listener(lesson.channel, streams.PUPIL), stored(lesson.channel))
    assert [m.data["seconds"] > 0 for m in on_lesson if m.kind == "lesson.locked"] == [True]

    # Unlocked since: the stored lock is not replayed, the unlock is.
    actions.set_screen_lock(tenant_a.teacher, lesson.pk, False)
    replayed = [m for m in streams.class_replay(tenant_a.student, listener, stored(class_channel)) if "lock" in m.kind]
    assert [m.kind for m in replayed] == ["lesson.unlocked"]

    # Locked again, but the reader has left the class: nothing of it is replayed as a lock.
    actions.set_screen_lock(tenant_a.teacher, lesson.pk, True)
    Membership.objects.filter(user=tenant_a.student).delete()
    replayed = [m for m in streams.class_replay(tenant_a.student, listener, stored(class_channel)) if "lock" in m.kind]
    assert [m.kind for m in replayed] == ["lesson.unlocked"]


def test_the_lock_lapses_in_a_replay_too(tenant_a: Tenant) -> None:
    actions.set_screen_lock(tenant_a.teacher, tenant_a.lesson.pk, True)
    Lesson.objects.filter(pk=tenant_a.lesson.pk).update(locked_at=timezone.now() - timedelta(hours=2))
    class_channel = streams.class_channel(tenant_a.school_class.pk)
    replayed = streams.class_replay(tenant_a.student, Listener(class_channel, streams.PUPIL), stored(class_channel))
    assert not [m for m in replayed if m.kind == "lesson.locked"]
