"""The class's event stream (issue 14, defect 3): a pupil's home and class page are told, live, that a
lesson of the class has started or ended, and offer "join". Through the public entry points only: the
pages name the stream and where it starts (data-prompt-stream, data-since), the stream is read
through the ASGI application, events come from the real lesson actions.

Who may listen: the class's pupils and teachers. Everyone else (another class's pupil, another
municipality, an administrator who is not a member) gets 404 and no event, with or without a
replay. The store keeps the lesson's id only; a replay reads the title again, and drops the start
of a lesson that is gone or has ended since."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from classnote.accounts.models import User
from classnote.lessons import actions
from classnote.lessons.models import Lesson
from classnote.realtime.models import Event
from tests.conftest import Tenant, login_as
from tests.realtime.sse import EventStream, Screens, act, run, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


def prompt_streams(user: User, path: str = "/home/") -> list[tuple[str, int]]:
    """The class streams a page follows and where each starts, as prompts.js reads them."""
    response = login_as(Client(), user).get(path)
    assert response.status_code == 200
    page = response.content.decode()
    return [
        (stream, int(since)) for stream, since in re.findall(r'data-prompt-stream="([^"]+)" data-since="(\d+)"', page)
    ]


def data(event: dict[str, object]) -> dict[str, object]:
    return event["data"]["data"]  # type: ignore[index]


def test_the_pupils_home_and_class_page_follow_the_class_and_hear_lessons_start_and_end(tenant_a: Tenant) -> None:
    [(path, since)] = prompt_streams(tenant_a.student)
    assert path == f"/events/class/{tenant_a.school_class.pk}/"
    assert prompt_streams(tenant_a.student, f"/classes/{tenant_a.school_class.pk}/") == [(path, since)]
    pupil, classmate, teacher = (session_cookie(u) for u in (tenant_a.student, tenant_a.classmate, tenant_a.teacher))

    async def scenario(screens: Screens) -> None:
        streams = [await screens.open(f"{path}?since={since}", cookie) for cookie in (pupil, classmate, teacher)]
        assert [stream.status for stream in streams] == [200, 200, 200]
        lesson = await act(actions.open_lesson, tenant_a.teacher, tenant_a.school_class.pk, "Fractions")
        for stream in streams:
            await stream.wait_events(1)
        await act(actions.close_lesson, tenant_a.teacher, lesson.pk)
        for stream in streams:
            started, ended = await stream.wait_events(2)
            assert stream.kinds() == [(since + 1, "lesson.started"), (since + 2, "lesson.ended")]
            assert data(started) == {"lesson_id": lesson.pk, "title": "Fractions"}
            assert data(ended) == {"lesson_id": lesson.pk}

    run(scenario)
    # The store keeps the lesson's id, not its title.
    stored = Event.objects.filter(channel__name=f"class:{tenant_a.school_class.pk}").order_by("seq")
    assert [(e.kind, e.data) for e in stored.filter(seq__gt=since)] == [
        ("lesson.started", {"lesson_id": Lesson.objects.get(title="Fractions").pk}),
        ("lesson.ended", {"lesson_id": Lesson.objects.get(title="Fractions").pk}),
    ]


def test_home_shows_the_open_lessons_with_join_and_only_to_pupils(tenant_a: Tenant) -> None:
    lesson = actions.open_lesson(tenant_a.teacher, tenant_a.school_class.pk, "Open now")
    closed = actions.open_lesson(tenant_a.teacher, tenant_a.school_class.pk, "Over")
    actions.close_lesson(tenant_a.teacher, closed.pk)
    page = login_as(Client(), tenant_a.student).get("/home/").content.decode()
    prompts = page[page.index("data-lesson-prompts") : page.index("</section>", page.index("data-lesson-prompts"))]
    assert f'data-lesson-id="{lesson.pk}"' in prompts and f'href="/lessons/{lesson.pk}/"' in prompts
    assert "Over" not in prompts
    assert 'aria-live="polite"' in prompts
    # Yesterday's lesson, left open, is not one to join now; only the newest few are offered.
    Lesson.objects.filter(pk=lesson.pk).update(created_at=timezone.now() - timedelta(days=1))
    for number in range(7):
        actions.open_lesson(tenant_a.teacher, tenant_a.school_class.pk, f"Today {number}")
    page = login_as(Client(), tenant_a.student).get("/home/").content.decode()
    assert "Open now" not in page[page.index("data-lesson-prompts") :]
    assert re.findall(r'class="prompt-title"[^>]*>([^<]+)<', page) == [f"Today {n}" for n in (6, 5, 4, 3, 2)]
    # A pupil of another class follows their own class only, and does not see the lesson.
    elsewhere = login_as(Client(), tenant_a.other_class_student).get("/home/").content.decode()
    assert f"/events/class/{tenant_a.other_class.pk}/" in elsewhere
    assert f"/events/class/{tenant_a.school_class.pk}/" not in elsewhere and "Open now" not in elsewhere
    # The staff have no prompt (they start lessons).
    for user in (tenant_a.teacher, tenant_a.school_admin):
        assert "data-lesson-prompts" not in login_as(Client(), user).get("/home/").content.decode()


def test_a_replay_reads_the_title_again_and_drops_a_lesson_that_is_gone_or_ended(tenant_a: Tenant) -> None:
    [(path, since)] = prompt_streams(tenant_a.student)
    kept = actions.open_lesson(tenant_a.teacher, tenant_a.school_class.pk, "First title")
    gone = actions.open_lesson(tenant_a.teacher, tenant_a.school_class.pk, "Deleted")
    ended = actions.open_lesson(tenant_a.teacher, tenant_a.school_class.pk, "Ended since")
    actions.close_lesson(tenant_a.teacher, ended.pk)
    Lesson.objects.filter(pk=kept.pk).update(title="Renamed")
    Lesson.objects.filter(pk=gone.pk).delete()
    pupil = session_cookie(tenant_a.student)

    async def scenario(screens: Screens) -> None:
        for replay in (
            await screens.open(f"{path}?since={since}", pupil),
            await screens.open(path, pupil, last_event_id=str(since)),
        ):
            await replay.wait_events(2)
            await replay.read_for(0.3)
            # Gone: not replayed. Ended since: only its end (the page never offers to join it).
            assert replay.kinds() == [(since + 1, "lesson.started"), (since + 4, "lesson.ended")]
            assert data(replay.events[0]) == {"lesson_id": kept.pk, "title": "Renamed"}
            assert data(replay.events[1]) == {"lesson_id": ended.pk}
            assert "Deleted" not in replay.body and "First title" not in replay.body
            assert "Ended since" not in replay.body

    run(scenario)


OUTSIDERS: dict[str, Callable[[Tenant, Tenant], User]] = {
    "a pupil of another class": lambda a, b: a.other_class_student,
    "the school's administrator, not a member": lambda a, b: a.school_admin,
    "the municipality's administrator": lambda a, b: a.municipal_admin,
    "another municipality's teacher": lambda a, b: b.teacher,
    "another municipality's pupil": lambda a, b: b.student,
}


def assert_refused_without_data(stream: EventStream) -> None:
    assert stream.status == 404, stream.status
    assert stream.ended, "a refusal ends"
    assert "retry:" not in stream.body and "event:" not in stream.body and "data:" not in stream.body


@pytest.mark.parametrize("who", list(OUTSIDERS))
def test_an_outsider_gets_no_class_stream(tenant_a: Tenant, tenant_b: Tenant, who: str) -> None:
    actions.open_lesson(tenant_a.teacher, tenant_a.school_class.pk, "Secret title")
    path = f"/events/class/{tenant_a.school_class.pk}/"
    outsider = session_cookie(OUTSIDERS[who](tenant_a, tenant_b))

    async def scenario(screens: Screens) -> None:
        for variant in (path, f"{path}?since=0"):
            assert_refused_without_data(await screens.open(variant, outsider))
        assert_refused_without_data(await screens.open(path, outsider, last_event_id="0"))

    run(scenario)


def test_an_anonymous_visitor_gets_no_class_stream(tenant_a: Tenant) -> None:
    async def scenario(screens: Screens) -> None:
        refused = await screens.open(f"/events/class/{tenant_a.school_class.pk}/?since=0", None)
        assert refused.status in (302, 401), refused.status
        assert "event:" not in refused.body and "Secret" not in refused.body

    run(scenario)
