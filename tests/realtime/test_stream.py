"""The lesson's event stream (Server-Sent Events), in-process, through its public entry points only:
the ASGI application that `classnote serve` runs (classnote.asgi.application) is sent the same
request a browser's EventSource sends, events come from the real lesson actions, and the stream's
URL and starting point are read from the lesson page, as lesson.js reads them. Of the realtime code
only the bus is looked into (its subscriptions: a closed stream lets go of its own), so
the tests keep working when the stream's modules move.

Every wait on a stream is bounded (TIMEOUT): a stream that stops delivering fails its test instead of
hanging it. A stream does its database work in a worker thread, so what it reads must be committed:
the tests use transactional databases."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from classnote.accounts.models import User
from classnote.lessons import actions
from tests.conftest import Tenant
from tests.realtime.sse import EventStream, Screens, act, lesson_page, mine, new_card, run, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)

# --- Connecting, and live events of real actions --------------------------------------------------------


def test_the_lessons_teacher_and_pupil_get_retry_then_the_events_of_real_actions(tenant_a: Tenant) -> None:
    # The pupil's page first: a pupil's first visit is announced to the teachers (pupil.activity).
    path, since = lesson_page(tenant_a.student, tenant_a)
    assert lesson_page(tenant_a.teacher, tenant_a) == (path, since)
    card = new_card(tenant_a, "Live card")
    teacher, pupil = session_cookie(tenant_a.teacher), session_cookie(tenant_a.student)
    lesson, box = tenant_a.lesson.pk, tenant_a.box.pk

    async def scenario(screens: Screens) -> None:
        watching = await screens.open(path, teacher)
        reading = await screens.open(path, pupil)
        for stream in (watching, reading):
            assert stream.status == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            assert stream.headers["cache-control"] == "no-store"
            assert stream.headers["x-accel-buffering"] == "no"
            await stream.read_until(lambda s: s.blocks, "the first block")
            assert list(stream.blocks[0]) == ["retry"] and int(stream.blocks[0]["retry"]) > 0, stream.blocks

        delivered = await act(actions.send_cards, tenant_a.teacher, lesson, [card])
        pupils_copy = delivered[tenant_a.student.pk][0].pk
        await act(actions.submit, tenant_a.student, box, pupils_copy)
        await act(actions.share_answers, tenant_a.teacher, box, True)

        expected = [(since + 1, "cards.received"), (since + 2, "submission.added"), (since + 3, "sharing.changed")]
        for stream in (watching, reading):
            events = await stream.wait_events(3)
            # Without since or Last-Event-ID a stream starts at the present: the lesson's earlier
            # events are not replayed; the new ones come in order, each with its sequence number.
            assert stream.kinds() == expected
            assert [event["data"]["seq"] for event in events] == [seq for seq, _kind in expected]
            assert [event["data"]["kind"] for event in events] == [kind for _seq, kind in expected]
            assert events[1]["data"]["data"]["submission"]["student_id"] == tenant_a.student.pk
            assert events[2]["data"]["data"]["box"]["sharing"] is True
        assert mine(reading.events[0]) == [pupils_copy]

    run(scenario)


# --- Replay: exactly what was missed ---------------------------------------------------------------------


@pytest.mark.parametrize("how", ["since", "Last-Event-ID"])
def test_a_reconnect_replays_exactly_the_missed_events_in_order(tenant_a: Tenant, how: str) -> None:
    path, _since = lesson_page(tenant_a.student, tenant_a)
    cards = [new_card(tenant_a, f"Card {n}") for n in range(3)]
    pupil = session_cookie(tenant_a.student)
    teacher, lesson, box = tenant_a.teacher, tenant_a.lesson.pk, tenant_a.box.pk

    async def scenario(screens: Screens) -> None:
        first = await screens.open(path, pupil)
        delivered = await act(actions.send_cards, teacher, lesson, [cards[0]])
        [seen] = await first.wait_events(1)
        await first.close()

        # Away: three events, one of them for the classmate only (the pupil may not see it).
        await act(actions.send_cards, teacher, lesson, [cards[1]], to="students", student_ids=[tenant_a.classmate.pk])
        await act(actions.submit, tenant_a.student, box, delivered[tenant_a.student.pk][0].pk)
        await act(actions.share_answers, teacher, box, True)

        last = str(seen["id"])
        again = await (
            screens.open(f"{path}?since={last}", pupil)
            if how == "since"
            else screens.open(path, pupil, last_event_id=last)
        )
        # A live event right away, without waiting for the replay: whichever comes first on the
        # server, the missed events come before it, each once (a catch-up later cannot reorder them).
        await act(actions.send_cards, teacher, lesson, [cards[2]])
        await again.wait_events(3)
        n = seen["id"]
        assert again.kinds() == [(n + 2, "submission.added"), (n + 3, "sharing.changed"), (n + 4, "cards.received")]

    run(scenario)


def test_the_last_event_id_header_wins_over_since(tenant_a: Tenant) -> None:
    """EventSource reconnects by itself to the URL it was opened with (?since= of the page it was
    rendered from) and adds Last-Event-ID: what it already has must not come again."""
    path, since = lesson_page(tenant_a.teacher, tenant_a)
    assert since >= 2, "the lesson has events before the page's starting point"
    card = new_card(tenant_a, "After the reconnect")
    teacher = session_cookie(tenant_a.teacher)

    async def scenario(screens: Screens) -> None:
        stream = await screens.open(f"{path}?since=0", teacher, last_event_id=str(since - 1))
        await stream.wait_events(1)
        await act(actions.send_cards, tenant_a.teacher, tenant_a.lesson.pk, [card])
        await stream.wait_events(2)
        assert [seq for seq, _kind in stream.kinds()] == [since, since + 1]

    run(scenario)


# --- Who receives what ------------------------------------------------------------------------------------


def test_a_submission_reaches_the_teacher_and_the_submitting_pupil_not_the_classmate(tenant_a: Tenant) -> None:
    path, since = lesson_page(tenant_a.teacher, tenant_a)
    card = new_card(tenant_a, "Answer me")
    delivered = actions.send_cards(tenant_a.teacher, tenant_a.lesson.pk, [card])
    since += 1
    cookies = {who: session_cookie(getattr(tenant_a, who)) for who in ("teacher", "student", "classmate")}
    box = tenant_a.box.pk

    async def scenario(screens: Screens) -> None:
        streams = {who: await screens.open(f"{path}?since={since}", cookie) for who, cookie in cookies.items()}
        await act(actions.submit, tenant_a.student, box, delivered[tenant_a.student.pk][0].pk)
        # An event everyone receives, after it: once it is there, whatever came before it has too.
        await act(actions.share_answers, tenant_a.teacher, box, True)
        added, shared = (since + 1, "submission.added"), (since + 2, "sharing.changed")
        await streams["teacher"].wait_events(2)
        await streams["student"].wait_events(2)
        await streams["classmate"].wait_events(1)
        assert streams["teacher"].kinds() == [added, shared]
        assert streams["student"].kinds() == [added, shared]
        assert streams["classmate"].kinds() == [shared]
        assert tenant_a.student.display_name not in streams["classmate"].body

        # With answers shared, the classmate's submission goes to the teacher and to the class's
        # pupils (without their name when anonymous); the teacher gets no copy of the shared one.
        await act(actions.share_answers, tenant_a.teacher, box, True, anonymous=True)
        await act(actions.submit, tenant_a.classmate, box, delivered[tenant_a.classmate.pk][0].pk)
        await act(actions.share_answers, tenant_a.teacher, box, False)
        changed, added, updated, closed = (
            (since + 3, "sharing.changed"),
            (since + 4, "submission.added"),
            (since + 5, "shared.updated"),
            (since + 6, "sharing.changed"),
        )
        await streams["teacher"].wait_events(5)
        await streams["student"].wait_events(5)
        await streams["classmate"].wait_events(5)
        assert streams["teacher"].kinds()[2:] == [changed, added, closed]
        assert streams["student"].kinds()[2:] == [changed, updated, closed]
        assert streams["classmate"].kinds()[1:] == [changed, added, updated, closed]
        shown = streams["student"].events[3]["data"]["data"]["submission"]
        assert shown["student"] is None and shown["student_id"] is None
        assert tenant_a.classmate.display_name not in streams["student"].body

    run(scenario)


def test_each_pupil_sees_only_their_own_cards_in_an_event(tenant_a: Tenant) -> None:
    path, since = lesson_page(tenant_a.teacher, tenant_a)
    card = new_card(tenant_a, "Everyone's own copy")
    only_for_student = new_card(tenant_a, "Just for one")
    cookies = {who: session_cookie(getattr(tenant_a, who)) for who in ("teacher", "student", "classmate")}

    async def scenario(screens: Screens) -> None:
        streams = {who: await screens.open(path, cookie) for who, cookie in cookies.items()}
        delivered = await act(actions.send_cards, tenant_a.teacher, tenant_a.lesson.pk, [card])
        copies = {pk: [copy.pk for copy in cards] for pk, cards in delivered.items()}
        assert copies.keys() == {tenant_a.student.pk, tenant_a.classmate.pk}
        await act(
            actions.send_cards,
            tenant_a.teacher,
            tenant_a.lesson.pk,
            [only_for_student],
            to="students",
            student_ids=[tenant_a.student.pk],
        )
        # Then an event for everyone, so that the classmate's stream has gone past the second one.
        await act(actions.share_answers, tenant_a.teacher, tenant_a.box.pk, True)
        for stream in streams.values():
            await stream.wait_events(2)
        await streams["teacher"].wait_events(3)
        await streams["student"].wait_events(3)

        received, only, shared = (
            (since + 1, "cards.received"),
            (since + 2, "cards.received"),
            (since + 3, "sharing.changed"),
        )
        assert streams["teacher"].kinds() == [received, only, shared]
        assert streams["student"].kinds() == [received, only, shared]
        assert streams["classmate"].kinds() == [received, shared]
        assert mine(streams["student"].events[0]) == copies[tenant_a.student.pk]
        assert mine(streams["classmate"].events[0]) == copies[tenant_a.classmate.pk]
        [just_for_one] = streams["student"].events[1]["data"]["data"]["mine"]
        assert just_for_one["title"] == "Just for one"
        assert just_for_one["id"] not in copies[tenant_a.student.pk] + copies[tenant_a.classmate.pk]
        for stream in (streams["teacher"], streams["student"]):
            assert [event["data"]["data"]["count"] for event in stream.events[:2]] == [1, 1]
        # The sender gets the news, not the copies; nobody's slice travels to anyone else.
        assert mine(streams["teacher"].events[0]) is None and mine(streams["teacher"].events[1]) is None
        assert "Just for one" not in streams["classmate"].body

    run(scenario)


# --- Refusals ---------------------------------------------------------------------------------------------

OUTSIDERS: dict[str, Callable[[Tenant, Tenant], User]] = {
    "another municipality's teacher": lambda a, b: b.teacher,
    "another municipality's pupil": lambda a, b: b.student,
    "another municipality's administrator": lambda a, b: b.municipal_admin,
    "a pupil of another class": lambda a, b: a.other_class_student,
}


def assert_refused_without_data(stream: EventStream) -> None:
    assert stream.ended, "a refusal ends"
    assert not stream.headers.get("content-type", "").startswith("text/event-stream")
    assert "retry:" not in stream.body and "event:" not in stream.body and "data:" not in stream.body


@pytest.mark.parametrize("who", list(OUTSIDERS))
def test_outsiders_get_404_and_no_events(tenant_a: Tenant, tenant_b: Tenant, who: str) -> None:
    path, since = lesson_page(tenant_a.teacher, tenant_a)
    outsider = session_cookie(OUTSIDERS[who](tenant_a, tenant_b))

    async def scenario(screens: Screens) -> None:
        for variant in (path, f"{path}?since=0"):
            refused = await screens.open(variant, outsider)
            assert refused.status == 404, (variant, refused.status)
            assert_refused_without_data(refused)
        replay = await screens.open(path, outsider, last_event_id="0")
        assert replay.status == 404
        assert_refused_without_data(replay)
        assert since > 0  # there were events to leak

    run(scenario)


def test_an_anonymous_visitor_gets_no_stream(tenant_a: Tenant) -> None:
    path, _since = lesson_page(tenant_a.teacher, tenant_a)

    async def scenario(screens: Screens) -> None:
        refused = await screens.open(f"{path}?since=0", None)
        assert refused.status in (302, 401), refused.status
        if refused.status == 302:
            assert "login" in refused.headers["location"]
        assert_refused_without_data(refused)

    run(scenario)


def test_an_unknown_channel_kind_or_lesson_gets_404(tenant_a: Tenant) -> None:
    teacher = session_cookie(tenant_a.teacher)
    lesson = tenant_a.lesson.pk

    async def scenario(screens: Screens) -> None:
        for path in (f"/events/nosuchkind/{lesson}/", f"/events/lesson/{lesson + 1000}/"):
            refused = await screens.open(path, teacher)
            assert refused.status == 404, (path, refused.status)
            assert_refused_without_data(refused)

    run(scenario)
