"""Kill one of two app processes (SIGKILL) while a class submits, on PostgreSQL + Redis (the
scale-out topology without its proxy): nothing acknowledged is lost, and the students of the dead
process reconnect to the other one with Last-Event-ID and receive every event they missed, exactly
once, in order.

Why nothing can be lost: a write and its event are stored in one transaction (realtime.events.emit)
and a request is acknowledged only after that commit; an event is published to Redis after the
commit, and a reconnecting stream replays from the store, not from Redis. The test checks that
reasoning end to end instead of trusting it.

Making the kill land mid-traffic without sleeping: the test holds the lesson channel's row lock
(SELECT ... FOR UPDATE on realtime_channel), which every emit on that channel takes; the submissions
of the second half of the class then wait inside their transactions (after their inserts, before
their commit) — the test waits until PostgreSQL shows them all waiting on that lock, kills process A,
and only then releases the lock. A's waiting transactions can never commit (their client is gone),
so their students get a connection error and retry against B, as a browser behind the proxy would.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import require_service
from tests.live.server import Browser, Server, Stream, first, postgres_database, running
from tests.live.test_realtime import open_lesson

pytestmark = pytest.mark.slow
STUDENTS = 12  # one demo class: six on each process


@dataclass
class Pupil:
    index: int
    login: tuple[str, str]
    browser: Browser
    since: int = 0
    streams: list[Stream] = field(default_factory=list)
    acked: int = 0  # submissions answered 302 (acknowledged)
    failed_over: bool = False
    user_id: int = 0

    @property
    def stream(self) -> Stream:
        return self.streams[-1]

    def events(self) -> list[dict[str, Any]]:
        return [event for stream in self.streams for event in stream.events]

    def cards(self) -> list[int]:
        return [e["data"]["data"]["mine"][0]["id"] for e in self.events() if e["event"] == "cards.received"]


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def stream_ended(stream: Stream) -> bool:
    thread = stream._thread
    return thread is None or not thread.is_alive()


def has_events(pupil: Pupil, count: int) -> bool:
    return len(pupil.events()) >= count


def test_killing_one_of_two_processes_mid_submission_loses_nothing(tmp_path: Path) -> None:
    require_service("PostgreSQL", "127.0.0.1", 5432)
    require_service("Redis", "127.0.0.1", 6379)
    import psycopg

    with postgres_database("classnote_failover") as name:
        dsn = f"postgresql://postgres@127.0.0.1:5432/{name}"
        env = {
            "DATABASE_URL": dsn.replace("postgresql://", "postgres://"),
            "REDIS_URL": "redis://127.0.0.1:6379/14",
            "REALTIME_CHANNEL_PREFIX": f"{name}:events:",
            "SECRET_KEY": "failover-" + uuid.uuid4().hex * 2,
        }
        with (
            running(tmp_path / "a", "--demo", "--no-jobs", **env) as server_a,
            running(tmp_path / "b", "--no-migrate", "--no-jobs", **env) as server_b,
            psycopg.connect(dsn, autocommit=True) as db,
        ):
            run_the_bell(server_a, server_b, db, name)


def run_the_bell(server_a: Server, server_b: Server, db: Any, database: str) -> None:  # noqa: PLR0915
    import psycopg

    responses: list[tuple[str, int, str]] = []  # (server url, status, path) of every answer

    def watch(browser: Browser) -> Browser:
        def record(response: httpx.Response) -> None:
            responses.append((f"http://127.0.0.1:{response.url.port}", response.status_code, response.url.path))

        browser.client.event_hooks["response"].append(record)
        return browser

    teacher = watch(Browser(server_b.url))  # the teacher's screen stays on B throughout
    teacher.login_staff(*server_a.login_of("teacher"))
    _class_id, lesson_id = open_lesson(teacher, "Failover lesson")
    assert teacher.post(f"/lessons/{lesson_id}/boxes/", {"title": "Answers"}).status_code == 302
    page = teacher.get(f"/lessons/{lesson_id}/").text
    box_id = int(first(r'data-box="(\d+)"', page))
    teacher_since = int(first(r'data-since="(\d+)"', page))
    teacher_stream = Stream(teacher, f"/events/lesson/{lesson_id}/?since={teacher_since}").open()
    school_code = server_a.login_of("student")[0].split(" / ")[0]

    # The class, split across both processes (even: A, odd: B), each holding the lesson's stream.
    pupils: list[Pupil] = []
    for index in range(STUDENTS):
        home = server_a if index % 2 == 0 else server_b
        login = server_a.login_of("student", index=index)
        browser = watch(Browser(home.url))
        browser.login_student(*login)
        pupil = Pupil(index, login, browser)
        pupil.since = int(first(r'data-since="(\d+)"', browser.get(f"/lessons/{lesson_id}/").text))
        pupil.streams.append(Stream(browser, f"/events/lesson/{lesson_id}/?since={pupil.since}").open())
        row = db.execute(
            "SELECT u.id FROM accounts_user u JOIN tenancy_school s ON s.id = u.school_id"
            " WHERE s.code = %s AND u.student_number = %s",
            [school_code, login[0].split(" / ")[1]],
        ).fetchone()
        pupil.user_id = row[0]
        pupils.append(pupil)

    def fail_over(pupil: Pupil) -> None:
        """What the proxy does for a browser: the next attempt goes to the live process."""
        pupil.failed_over = True
        pupil.browser.client.base_url = httpx.URL(server_b.url)

    def submit(pupil: Pupil, card_id: int) -> None:
        """A submission, retried (up to 3 attempts) on a connection error or a 5xx."""
        for _attempt in range(3):
            try:
                response = pupil.browser.post(f"/boxes/{box_id}/submit/", {"card": str(card_id)})
            except httpx.TransportError:
                fail_over(pupil)
                continue
            if response.status_code >= 500:
                fail_over(pupil)
                continue
            assert response.status_code == 302, (pupil.index, response.status_code, response.text[:300])
            pupil.acked += 1
            return
        raise AssertionError(f"pupil {pupil.index}: submission failed three times")

    def send_card(title: str) -> None:
        made = teacher.post("/cards/", {"kind": "text", "title": title, "lesson": str(lesson_id)})
        assert made.status_code == 302, made.text[:300]
        card_id = int(first(r"/cards/(\d+)/", made.headers["location"]))
        teacher.get(f"/lessons/{lesson_id}/")
        assert teacher.post(f"/lessons/{lesson_id}/send/", {"cards": str(card_id), "to": "class"}).status_code == 302

    # The bell: the card reaches every stream on both processes.
    send_card("Question one")
    for pupil in pupils:
        pupil.stream.wait_for("cards.received")

    # First half of the class submits and is acknowledged (three pupils on each process).
    first_half, second_half = pupils[: STUDENTS // 2], pupils[STUDENTS // 2 :]
    for pupil in first_half:
        submit(pupil, pupil.cards()[0])
    for pupil in first_half:
        pupil.stream.wait_for("submission.added")

    # Second half submits at once; the kill lands while all of these are inside their transactions.
    in_flight = [threading.Thread(target=submit, args=(p, p.cards()[0])) for p in second_half]
    channel = f"lesson:{lesson_id}"
    with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{database}") as lock:
        lock.execute("SELECT 1 FROM realtime_channel WHERE name = %s FOR UPDATE", [channel])
        for thread in in_flight:
            thread.start()

        def waiting() -> int:
            return int(
                db.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'",
                    [database],
                ).fetchone()[0]
            )

        wait_until(lambda: waiting() >= len(second_half), "the second half's submissions to wait on the lock")
        server_a.kill()  # SIGKILL to A's process group, mid-transaction for three of its pupils
        lock.rollback()
    for thread in in_flight:
        thread.join(timeout=30)
        assert not thread.is_alive(), "a submission did not finish after the kill"
    on_a = [p for p in pupils if p.index % 2 == 0]
    for pupil in on_a:  # A's streams broke with it
        wait_until(partial(stream_ended, pupil.stream), "A's streams to end")
    assert all(p.failed_over for p in second_half if p.index % 2 == 0)  # their POSTs to A failed

    # While A's pupils are away, the teacher (on B) sends a second card: they must not miss it.
    send_card("Question two")
    for pupil in pupils:
        if pupil.index % 2 == 1:
            pupil.stream.wait_for("cards.received", count=2)

    # A's pupils reconnect, to B, with the last event id they saw (as EventSource does).
    for pupil in on_a:
        fail_over(pupil)
        pupil.streams.append(
            Stream(pupil.browser, f"/events/lesson/{lesson_id}/?since={pupil.since}", last_id=pupil.stream.last_id)
        )
        pupil.stream.open()
    for pupil in on_a:
        pupil.stream.wait_for("cards.received")

    # Everyone answers the second card, now all on B.
    for pupil in pupils:
        submit(pupil, pupil.cards()[1])

    # Acknowledged submissions are all stored: one row per acknowledgement, no more, no fewer (the
    # in-flight ones on A never committed; their retries on B did).
    stored = dict(
        db.execute(
            "SELECT student_id, count(*) FROM lessons_submission WHERE box_id = %s GROUP BY student_id", [box_id]
        ).fetchall()
    )
    assert {p.index: stored.get(p.user_id, 0) for p in pupils} == {p.index: p.acked for p in pupils}
    assert all(p.acked == 2 for p in pupils)

    # No event missed: each screen received exactly the stored events it may see, once, in order.
    store = db.execute(
        "SELECT e.seq, e.kind, e.audience, e.data FROM realtime_event e"
        " JOIN realtime_channel c ON c.id = e.channel_id WHERE c.name = %s ORDER BY e.seq",
        [channel],
    ).fetchall()

    def visible(user_id: int, role: str, since: int) -> list[int]:
        seqs = []
        for seq, _kind, audience, _data in store:
            users, roles = audience.get("users"), audience.get("roles")
            if seq > since and ((users is None and roles is None) or user_id in (users or []) or role in (roles or [])):
                seqs.append(seq)
        return seqs

    for pupil in pupils:
        expected = visible(pupil.user_id, "student", pupil.since)
        wait_until(partial(has_events, pupil, len(expected)), f"pupil {pupil.index}'s events", 10)
        received = [int(e["id"]) for e in pupil.events()]
        assert received == expected, (pupil.index, received, expected)
        mine = {e["data"]["data"]["submission"]["id"] for e in pupil.events() if e["event"] == "submission.added"}
        rows = db.execute(
            "SELECT id FROM lessons_submission WHERE box_id = %s AND student_id = %s", [box_id, pupil.user_id]
        ).fetchall()
        assert mine == {row[0] for row in rows}
    teacher_me = db.execute(
        "SELECT u.id FROM accounts_user u WHERE u.username = %s", [server_a.login_of("teacher")[0]]
    ).fetchone()[0]
    expected = visible(teacher_me, "teacher", teacher_since)
    wait_until(lambda: len(teacher_stream.events) >= len(expected), "the teacher's events", 10)
    assert [int(e["id"]) for e in teacher_stream.events] == expected
    added = [e for e in teacher_stream.events if e["event"] == "submission.added"]
    assert len(added) == sum(stored.values()) == 2 * STUDENTS

    # B never answered with a server error (neither did A before it died).
    assert [r for r in responses if r[1] >= 500] == []
    assert any(url == server_b.url for url, _status, _path in responses)
