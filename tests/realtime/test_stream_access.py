"""An open event stream follows today's access rules (issue 12, findings 2–5).

* A stream ends as soon as its right to the channel ends: removal from the class, deactivation, log
  out everywhere, a password reset, a revoked or reprinted login card, logging out of its session.
  The change reaches the user's streams as an event, not by polling.
* Replay (?since / Last-Event-ID) applies today's rules: shared answers are not replayed once sharing
  has ended, names not once sharing became anonymous; the store itself keeps ids, not names or text.
* Streams are capped per session and per user (the oldest is closed), and a process near its
  file-descriptor limit answers 503 with Retry-After instead of failing.

All in-process, through classnote.asgi.application (tests/realtime/sse.py); every wait is bounded, so
a stream that is never ended fails its test after sse.TIMEOUT instead of hanging it."""

from __future__ import annotations

import asyncio
import json
import os
import resource
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.contrib.sessions.backends.cached_db import SessionStore
from django.test import Client

from classnote.accounts import actions as account_actions
from classnote.accounts.models import User
from classnote.lessons import actions
from classnote.realtime import bus, views
from classnote.realtime.bus import QUEUE_SIZE
from classnote.realtime.messages import ACCESS_CHANGED
from classnote.realtime.models import Event
from classnote.roster import actions as roster_actions
from tests.conftest import Tenant, login_as, require_service
from tests.realtime.sse import TIMEOUT, EventStream, Screens, act, lesson_page, new_card, run, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


def cookie_of(client: Client) -> str:
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def card_session(tenant: Tenant, user: User) -> tuple[Client, str]:
    """A session opened with a QR login card, as a pupil's tablet does."""
    token = account_actions.issue_login_card(user, issued_by=tenant.school_admin)
    client = Client()
    response = client.post("/login/card/", {"token": token})
    assert response.status_code == 302, response.content[:300]
    return client, cookie_of(client)


def assert_ended_without_later_events(stream: EventStream, seen: int) -> None:
    assert stream.ended
    assert len(stream.events) == seen, f"events after access ended: {stream.events[seen:]}"


# --- Finding 2 and 5: a stream ends when its right to the channel ends ------------------------------


def remove_from_class(t: Tenant, client: Client) -> None:
    roster_actions.remove_member(t.school_admin, t.school_class.pk, t.student.pk)


def deactivate(t: Tenant, client: Client) -> None:
    account_actions.set_active(t.school_admin, t.student.pk, False)


def logout_everywhere(t: Tenant, client: Client) -> None:
    account_actions.logout_everywhere(User.objects.get(pk=t.student.pk))


def reset_password(t: Tenant, client: Client) -> None:
    account_actions.reset_password(t.school_admin, t.student.pk)


def revoke_cards(t: Tenant, client: Client) -> None:
    account_actions.revoke_login_cards(t.school_admin, t.student.pk)


def reprint_cards(t: Tenant, client: Client) -> None:
    account_actions.issue_login_cards(t.school_admin, t.school_class)


def log_out_here(t: Tenant, client: Client) -> None:
    assert client.post("/accounts/logout/").status_code == 302


CHANGES: dict[str, Callable[[Tenant, Client], None]] = {
    "removed from the class": remove_from_class,
    "deactivated": deactivate,
    "logged out everywhere": logout_everywhere,
    "password reset by an administrator": reset_password,
    "login card revoked": revoke_cards,
    "login cards reprinted": reprint_cards,
    "logged out of this session": log_out_here,
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_stream_ends_as_soon_as_its_right_to_the_channel_ends(tenant_a: Tenant, change: str) -> None:
    path, since = lesson_page(tenant_a.teacher, tenant_a)
    client, cookie = card_session(tenant_a, tenant_a.student)
    classmate = session_cookie(tenant_a.classmate)
    card = new_card(tenant_a, "Before")

    async def scenario(screens: Screens) -> None:
        pupil = await screens.open(f"{path}?since={since}", cookie)
        other = await screens.open(f"{path}?since={since}", classmate)
        assert pupil.status == 200
        await act(actions.send_cards, tenant_a.teacher, tenant_a.lesson.pk, [card])
        await pupil.wait_events(1)

        await act(CHANGES[change], tenant_a, client)
        # No polling: the change itself reaches the stream, which says why and ends.
        await pupil.read_until(lambda s: s.ended, "the end of the stream")
        assert "event: access.ended" in pupil.body
        await act(actions.create_box, tenant_a.teacher, tenant_a.lesson.pk, "After")
        await other.wait_events(2)  # the classmate's stream goes on
        assert_ended_without_later_events(pupil, 1)

        # A new stream of that session is refused too.
        again = await screens.open(f"{path}?since={since}", cookie)
        assert again.status in (401, 404), again.status

    run(scenario)


def test_a_logout_tells_the_streams_only_once_its_session_is_gone(tenant_a: Tenant, monkeypatch: Any) -> None:
    """Django sends user_logged_out before it flushes the session: a notice sent from the signal as
    it stood reached a stream that re-checked at once and found the session still there, and that
    window followed the lesson on until the next periodic re-check (a minute). The session is ended
    in the store first, so every stream the notice wakes finds it gone."""
    client = login_as(Client(), tenant_a.student)
    key = client.session.session_key
    live = bus.get_bus()
    publish = live.publish
    session_there: list[bool] = []

    def watching(message: Any) -> Any:
        if message.kind == ACCESS_CHANGED:
            session_there.append(SessionStore().exists(key))
        return publish(message)

    monkeypatch.setattr(live, "publish", watching)
    assert client.post("/accounts/logout/").status_code == 302
    assert session_there == [False]


def test_a_card_session_ends_with_its_card_but_a_password_session_stays(tenant_a: Tenant) -> None:
    """Finding 5: revoking (or reprinting) a QR login card ends the sessions it opened, at once."""
    card_client, _cookie = card_session(tenant_a, tenant_a.student)
    password_client = login_as(Client(), tenant_a.student)
    assert card_client.get("/home/").status_code == 200
    account_actions.revoke_login_cards(tenant_a.school_admin, tenant_a.student.pk)
    ended = card_client.get("/home/")
    assert ended.status_code == 302 and "login" in ended["Location"]
    assert password_client.get("/home/").status_code == 200

    card_client, _cookie = card_session(tenant_a, tenant_a.student)
    assert card_client.get("/home/").status_code == 200
    account_actions.issue_login_cards(tenant_a.school_admin, tenant_a.school_class)
    assert card_client.get("/home/").status_code == 302


def test_a_stream_of_a_pupil_moved_to_another_class_ends_but_their_new_class_streams(tenant_a: Tenant) -> None:
    path, since = lesson_page(tenant_a.teacher, tenant_a)
    pupil = session_cookie(tenant_a.student)

    async def scenario(screens: Screens) -> None:
        stream = await screens.open(f"{path}?since={since}", pupil)
        await act(
            roster_actions.add_member, tenant_a.school_admin, tenant_a.other_class.pk, tenant_a.student.pk, "student"
        )
        await act(actions.create_box, tenant_a.teacher, tenant_a.lesson.pk, "Still here")
        await stream.wait_events(1)  # joining another class changes nothing here
        await act(roster_actions.remove_member, tenant_a.school_admin, tenant_a.school_class.pk, tenant_a.student.pk)
        await stream.read_until(lambda s: s.ended, "the end of the stream")
        assert_ended_without_later_events(stream, 1)

    run(scenario)


# --- Finding 3: replay applies today's rules, and the store keeps ids ---------------------------------


def shared_submission(tenant: Tenant, *, anonymous: bool = False) -> int:
    """The classmate's answer, shared with the class (by name unless anonymous); returns the page's since."""
    _path, since = lesson_page(tenant.teacher, tenant)
    card = new_card(tenant, "Question")
    delivered = actions.send_cards(tenant.teacher, tenant.lesson.pk, [card])
    actions.share_answers(tenant.teacher, tenant.box.pk, True, anonymous=anonymous)
    actions.submit(tenant.classmate, tenant.box.pk, delivered[tenant.classmate.pk][0].pk)
    return since


def replay_everything(tenant: Tenant, cookie: str, path: str, how: str) -> EventStream:
    result: dict[str, EventStream] = {}

    async def scenario(screens: Screens) -> None:
        stream = await (
            screens.open(f"{path}?since=0", cookie) if how == "since" else screens.open(path, cookie, last_event_id="0")
        )
        assert stream.status == 200
        # Then one live event: once it is there, the whole replay has come before it.
        await act(actions.set_peer_sending, tenant.teacher, tenant.lesson.pk, True)
        await stream.read_until(lambda s: "peer_sending" in s.body, "the live event after the replay")
        result["stream"] = stream

    run(scenario)
    return result["stream"]


@pytest.mark.parametrize("how", ["since", "Last-Event-ID"])
def test_shared_answers_are_not_replayed_once_sharing_has_ended(tenant_a: Tenant, how: str) -> None:
    t = tenant_a
    shared_submission(t)
    actions.share_answers(t.teacher, t.box.pk, False)
    path, _since = lesson_page(t.student, t)
    newcomer = User.objects.create_user(
        "late-joiner",
        "pw-late-joiner-1",
        display_name="Late Joiner",
        role="student",
        school=t.school,
        municipality=t.municipality,
        student_number="999",
    )
    roster_actions.add_member(t.school_admin, t.school_class.pk, newcomer.pk, "student")
    for user in (t.student, newcomer):
        stream = replay_everything(t, session_cookie(user), path, how)
        assert "shared.updated" not in stream.body
        assert t.classmate.display_name not in stream.body
        assert str(t.classmate.student_number) not in {
            str(e["data"]["data"].get("submission", {}).get("student_id")) for e in stream.events
        }


def test_names_are_not_replayed_once_sharing_became_anonymous(tenant_a: Tenant) -> None:
    t = tenant_a
    shared_submission(t)
    actions.share_answers(t.teacher, t.box.pk, True, anonymous=True)
    path, _since = lesson_page(t.student, t)
    stream = replay_everything(t, session_cookie(t.student), path, "since")
    replayed = [e for e in stream.events if e["event"] == "shared.updated"]
    assert replayed, "still shared: the answer is replayed"
    assert replayed[0]["data"]["data"]["submission"]["student"] is None
    assert t.classmate.display_name not in stream.body


def test_a_replay_while_shared_gives_what_the_live_stream_gave(tenant_a: Tenant) -> None:
    t = tenant_a
    shared_submission(t)
    path, _since = lesson_page(t.student, t)
    stream = replay_everything(t, session_cookie(t.student), path, "since")
    shared = [e for e in stream.events if e["event"] == "shared.updated"]
    submission = shared[-1]["data"]["data"]["submission"]
    assert submission["student"] == t.classmate.display_name
    assert submission["card"]["title"] == "Question"
    teacher = replay_everything(t, session_cookie(t.teacher), path, "since")
    added = [e for e in teacher.events if e["event"] == "submission.added"]
    assert added[-1]["data"]["data"]["submission"]["student"] == t.classmate.display_name
    mine = [e for e in stream.events if e["event"] == "cards.received"][-1]["data"]["data"]["mine"]
    assert [card["title"] for card in mine] == ["Question"]


def test_stored_events_keep_ids_not_names_or_text(tenant_a: Tenant) -> None:
    t = tenant_a
    shared_submission(t)
    stored = json.dumps([[e.data, e.per_user] for e in Event.objects.all()], ensure_ascii=False)
    for person in (t.classmate, t.teacher):
        assert person.display_name not in stored
    assert "Question" not in stored


# --- Replay starting points ---------------------------------------------------------------------------


def test_a_starting_point_beyond_the_channel_does_not_silence_the_stream(tenant_a: Tenant) -> None:
    """A device that saw sequence numbers the store no longer has (a restore from backup) still gets
    what happens next."""
    path, since = lesson_page(tenant_a.student, tenant_a)
    pupil = session_cookie(tenant_a.student)

    async def scenario(screens: Screens) -> None:
        stream = await screens.open(f"{path}?since={since + 1000}", pupil)
        await act(actions.create_box, tenant_a.teacher, tenant_a.lesson.pk, "After a restore")
        await stream.wait_events(1)

    run(scenario)


def test_a_malformed_last_event_id_falls_back_to_since(tenant_a: Tenant) -> None:
    # The pupil's first visit is the lesson's last event (pupil.activity, for its teachers): the
    # teacher's stream from just before it must bring it, whatever the Last-Event-ID says.
    lesson_page(tenant_a.student, tenant_a)
    path, since = lesson_page(tenant_a.teacher, tenant_a)
    assert since >= 1
    teacher = session_cookie(tenant_a.teacher)

    async def scenario(screens: Screens) -> None:
        stream = await screens.open(f"{path}?since={since - 1}", teacher, last_event_id="not-a-number")
        await stream.wait_events(1)
        assert stream.events[0]["id"] == since

    run(scenario)


def test_an_anonymous_visitor_gets_401_not_a_login_page(tenant_a: Tenant) -> None:
    """EventSource follows a redirect to the login page and retries for ever; 401 ends it."""
    path, _since = lesson_page(tenant_a.teacher, tenant_a)

    async def scenario(screens: Screens) -> None:
        refused = await screens.open(path, None)
        assert refused.status == 401
        assert refused.headers["content-type"].startswith("application/json")

    run(scenario)


# --- Finding 4: streams per session and per user, and the file-descriptor limit ----------------------


def test_a_session_holds_at_most_its_cap_of_streams_the_oldest_is_closed(tenant_a: Tenant) -> None:
    path, since = lesson_page(tenant_a.student, tenant_a)
    pupil = session_cookie(tenant_a.student)
    cap = settings.REALTIME_STREAMS_PER_SESSION

    async def scenario(screens: Screens) -> None:
        streams = [await screens.open(f"{path}?since={since}", pupil) for _ in range(cap + 2)]
        for old in streams[:2]:
            await old.read_until(lambda s: s.ended, "the end of an old stream")
        await act(actions.create_box, tenant_a.teacher, tenant_a.lesson.pk, "Still live")
        for live in streams[2:]:
            await live.wait_events(1)
            assert not live.ended

    run(scenario)


def test_a_user_holds_at_most_their_cap_of_streams_across_sessions(tenant_a: Tenant) -> None:
    path, since = lesson_page(tenant_a.student, tenant_a)
    cap = settings.REALTIME_STREAMS_PER_USER
    cookies = [session_cookie(tenant_a.student) for _ in range(cap + 1)]

    async def scenario(screens: Screens) -> None:
        streams = [await screens.open(f"{path}?since={since}", cookie) for cookie in cookies]
        await streams[0].read_until(lambda s: s.ended, "the end of the oldest stream")
        await act(actions.create_box, tenant_a.teacher, tenant_a.lesson.pk, "Still live")
        for live in streams[1:]:
            await live.wait_events(1)

    run(scenario)


def test_a_burst_of_opens_from_one_session_leaves_at_most_its_cap_open(tenant_a: Tenant) -> None:
    """Found by bench/probe/streams.py through the scale-out path: 300 opens at once from one session
    left 17 open. Every open closes the oldest over the cap with a notice to all of the person's
    streams; a stream still busy with its own start-up (the database work of its replay) while more
    notices than its queue holds arrived lost the one that named it, and stayed open outside the book."""
    path, since = lesson_page(tenant_a.student, tenant_a)
    pupil = session_cookie(tenant_a.student)
    cap = settings.REALTIME_STREAMS_PER_SESSION
    burst = QUEUE_SIZE + 44

    async def scenario(screens: Screens) -> None:
        streams = await asyncio.gather(*(screens.open(f"{path}?since={since}", pupil) for _ in range(burst)))
        assert all(stream.status == 200 for stream in streams)
        # Read every stream until it ends; the ones that stay open for TIMEOUT.
        await asyncio.gather(*(stream.read_for(TIMEOUT) for stream in streams))
        still_open = [stream for stream in streams if not stream.ended]
        assert len(still_open) <= cap, f"{len(still_open)} streams of one session open (cap {cap})"
        assert all("event: stream.closed" in stream.body for stream in streams if stream.ended)

    run(scenario)


def test_on_redis_a_stream_of_a_busy_lesson_still_counts_toward_the_cap(
    tenant_a: Tenant, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shared book (Redis) forgets a stream whose entry is not refreshed within BOOK_STALE_SECONDS.
    The refresh came only with the heartbeat, sent when the stream had been idle for HEARTBEAT_SECONDS:
    in a lesson with an event more often than that (a pupil resubmitting is enough), the person's
    streams fell out of the book and no cap counted them any more. Here both times are shortened."""
    require_service("Redis", "127.0.0.1", 6379)
    settings.REALTIME_CHANNEL_PREFIX = f"test-{uuid.uuid4().hex}:"
    monkeypatch.setattr(bus, "BOOK_STALE_SECONDS", 2)
    monkeypatch.setattr(views, "HEARTBEAT_SECONDS", 0.5)
    monkeypatch.setattr(bus, "_bus", bus.RedisBus("redis://127.0.0.1:6379/15"))
    path, since = lesson_page(tenant_a.student, tenant_a)
    pupil = session_cookie(tenant_a.student)
    cap = settings.REALTIME_STREAMS_PER_SESSION

    async def scenario(screens: Screens) -> None:
        oldest = await screens.open(f"{path}?since={since}", pupil)
        for n in range(12):  # busy for about 3 s: an event every 0.25 s
            await act(actions.create_box, tenant_a.teacher, tenant_a.lesson.pk, f"Busy {n}")
            await asyncio.sleep(0.25)
        await oldest.wait_events(12)
        for _ in range(cap):
            await screens.open(f"{path}?since={since}", pupil)
        await oldest.read_until(lambda s: s.ended, "the end of the oldest stream, over the cap")
        assert "event: stream.closed" in oldest.body

    run(scenario)


def test_on_redis_a_stream_whose_close_notice_was_lost_closes_at_its_next_heartbeat(
    tenant_a: Tenant, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pub/sub delivers at most once: a close notice published while a process was (re)subscribing
    never arrives there. The stream closed by the cap then finds its entry gone from the shared book at
    its next heartbeat, is counted again, and closes."""
    require_service("Redis", "127.0.0.1", 6379)
    settings.REALTIME_CHANNEL_PREFIX = f"test-{uuid.uuid4().hex}:"
    monkeypatch.setattr(views, "HEARTBEAT_SECONDS", 0.5)
    monkeypatch.setattr(bus, "_bus", bus.RedisBus("redis://127.0.0.1:6379/15"))
    other_process = bus.RedisBus("redis://127.0.0.1:6379/15")
    monkeypatch.setattr(other_process, "publish", lambda message: None)  # its notices are lost
    path, since = lesson_page(tenant_a.student, tenant_a)
    pupil = session_cookie(tenant_a.student)
    cap = settings.REALTIME_STREAMS_PER_SESSION

    async def scenario(screens: Screens) -> None:
        streams = [await screens.open(f"{path}?since={since}", pupil) for _ in range(cap)]
        # One more stream of the session, opened on another process: over the cap, the oldest closes.
        await other_process.admit(bus.Ticket.of(tenant_a.student.pk, pupil.partition("=")[2]))
        await streams[0].read_until(lambda s: s.ended, "the end of the oldest stream, over the cap")
        assert "event: stream.closed" in streams[0].body
        assert not any(stream.ended for stream in streams[1:])

    run(scenario)


def test_near_the_file_descriptor_limit_a_new_stream_gets_503_with_retry_after(tenant_a: Tenant, settings: Any) -> None:
    """The process's real limit is lowered to just above what it holds, with the high-water mark at
    10 %: the stream is refused before it could run the process out of descriptors."""
    settings.REALTIME_FD_HIGH_WATER = 10
    path, since = lesson_page(tenant_a.student, tenant_a)
    pupil = session_cookie(tenant_a.student)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    in_use = len(os.listdir("/proc/self/fd"))
    result: dict[str, EventStream] = {}

    async def scenario(screens: Screens) -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (in_use + 20, hard))
        try:
            result["stream"] = await screens.open(f"{path}?since={since}", pupil)
        finally:
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

    run(scenario)
    refused = result["stream"]
    assert refused.status == 503
    assert int(refused.headers["retry-after"]) > 0
