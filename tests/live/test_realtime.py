"""Real time, end to end, against real server processes: a card sent by the teacher reaches the
students' open event streams; a student who reconnects with Last-Event-ID receives exactly the
events missed; with two processes on PostgreSQL and Redis, a card sent through one process
reaches a student connected to the other."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.conftest import require_service
from tests.live.server import ROOT, Browser, Server, Stream, first, postgres_database, running, server_env

pytestmark = pytest.mark.slow


def open_lesson(teacher: Browser, title: str) -> tuple[int, int]:
    home = teacher.get("/home/").text
    class_id = int(first(r'href="/classes/(\d+)/"', home))
    teacher.get(f"/classes/{class_id}/")
    response = teacher.post(f"/classes/{class_id}/lessons/", {"title": title})
    assert response.status_code == 302
    lesson_id = int(first(r"/lessons/(\d+)/", response.headers["location"]))
    teacher.get(f"/lessons/{lesson_id}/")
    return class_id, lesson_id


def send_text_card(teacher: Browser, lesson_id: int, title: str) -> None:
    made = teacher.post("/cards/", {"kind": "text", "title": title, "lesson": str(lesson_id)})
    assert made.status_code == 302, made.text[:300]
    card_id = int(first(r"/cards/(\d+)/", made.headers["location"]))
    teacher.get(f"/lessons/{lesson_id}/")
    sent = teacher.post(f"/lessons/{lesson_id}/send/", {"cards": str(card_id), "to": "class"})
    assert sent.status_code == 302


def signed_in(server: Server, role: str, index: int = 0) -> Browser:
    browser = Browser(server.url)
    login, password = server.login_of(role, index=index)
    (browser.login_student if role == "student" else browser.login_staff)(login, password)
    return browser


def test_cards_arrive_live_and_a_reconnect_gets_exactly_what_was_missed(tmp_path: Path) -> None:
    with running(tmp_path / "home", "--demo") as server:
        teacher, student = signed_in(server, "teacher"), signed_in(server, "student")
        _class_id, lesson_id = open_lesson(teacher, "Live lesson")
        since = first(r'data-since="(\d+)"', student.get(f"/lessons/{lesson_id}/").text)
        stream = Stream(student, f"/events/lesson/{lesson_id}/?since={since}").open()
        send_text_card(teacher, lesson_id, "First card")
        received = stream.wait_for("cards.received")
        assert received[0]["data"]["data"]["mine"][0]["title"] == "First card"
        last_seen = stream.last_id
        stream.close()

        # Offline: two more cards are sent.
        send_text_card(teacher, lesson_id, "Second card")
        send_text_card(teacher, lesson_id, "Third card")

        again = Stream(student, f"/events/lesson/{lesson_id}/", last_id=last_seen).open()
        missed = again.wait_for("cards.received", count=2)
        titles = [e["data"]["data"]["mine"][0]["title"] for e in missed]
        assert titles == ["Second card", "Third card"]
        ids = [int(e["id"]) for e in again.events]
        assert ids == sorted(set(ids)) and ids[0] == int(last_seen) + 1  # exactly once, in order
        send_text_card(teacher, lesson_id, "Fourth card")
        assert again.wait_for("cards.received", count=3)[-1]["data"]["data"]["mine"][0]["title"] == "Fourth card"
        again.close()


def test_streams_refuse_outsiders(tmp_path: Path) -> None:
    with running(tmp_path / "home", "--demo") as server:
        teacher = signed_in(server, "teacher")
        _class_id, lesson_id = open_lesson(teacher, "Closed door")
        member = signed_in(server, "student")
        with member.client.stream("GET", f"/events/lesson/{lesson_id}/", timeout=10) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            assert response.headers["cache-control"] == "no-store"
            assert response.headers["x-accel-buffering"] == "no"
            assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
            assert response.headers["x-content-type-options"] == "nosniff"
        outsider = Browser(server.url)
        login, password = server.login_of("student", where="臺北市立內湖高工")
        outsider.login_student(login, password)
        assert outsider.client.get(f"/events/lesson/{lesson_id}/").status_code == 404
        assert Browser(server.url).client.get(f"/events/lesson/{lesson_id}/").status_code in (302, 401)


def test_two_processes_on_postgresql_and_redis_share_events(tmp_path: Path) -> None:
    require_service("PostgreSQL", "127.0.0.1", 5432)
    require_service("Redis", "127.0.0.1", 6379)

    with postgres_database("classnote_live") as name:
        env = {
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{name}",
            "REDIS_URL": "redis://127.0.0.1:6379/14",
            "SECRET_KEY": "live-test-" + uuid.uuid4().hex * 2,
        }
        with (
            running(tmp_path / "a", "--demo", **env) as server_a,
            running(tmp_path / "b", "--no-migrate", **env) as b,
        ):
            (tmp_path / "b" / "demo-logins.txt").write_text((tmp_path / "a" / "demo-logins.txt").read_text())
            teacher = signed_in(server_a, "teacher")
            student = Browser(b.url)
            login, password = server_a.login_of("student")
            student.login_student(login, password)
            _class_id, lesson_id = open_lesson(teacher, "Across processes")
            since = first(r'data-since="(\d+)"', student.get(f"/lessons/{lesson_id}/").text)
            stream = Stream(student, f"/events/lesson/{lesson_id}/?since={since}").open()
            send_text_card(teacher, lesson_id, "Sent through A")
            assert stream.wait_for("cards.received")[0]["data"]["data"]["mine"][0]["title"] == "Sent through A"
            last_seen = stream.last_id
            stream.close()
            send_text_card(teacher, lesson_id, "Missed while away")
            again = Stream(student, f"/events/lesson/{lesson_id}/", last_id=last_seen).open()
            missed = again.wait_for("cards.received")
            assert [e["data"]["data"]["mine"][0]["title"] for e in missed] == ["Missed while away"]
            assert int(missed[0]["id"]) == int(last_seen) + 1
            again.close()


def run_action(server: Server, code: str, **env: str) -> None:
    """Carry out a domain action in a third process on the same database and Redis (as a worker or
    an administrator's request on yet another process would)."""
    done = subprocess.run(
        [sys.executable, "-m", "classnote", "shell", "-c", code],
        env=server_env(server.home, **env),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_across_two_processes_streams_follow_access_and_are_capped(tmp_path: Path) -> None:
    """Issue 12, findings 2 and 4 on the scale-out path: a pupil's streams on two processes; opening
    a fifth stream of the session (cap 4) closes the oldest, on the other process; removing the pupil
    from the class (in a third process) ends the streams on both at once, and nothing of the lesson
    reaches them after."""
    require_service("PostgreSQL", "127.0.0.1", 5432)
    require_service("Redis", "127.0.0.1", 6379)

    with postgres_database("classnote_access") as name:
        env = {
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{name}",
            "REDIS_URL": "redis://127.0.0.1:6379/14",
            "SECRET_KEY": "live-test-" + uuid.uuid4().hex * 2,
        }
        with (
            running(tmp_path / "a", "--demo", **env) as a,
            running(tmp_path / "b", "--no-migrate", **env) as b,
        ):
            (tmp_path / "b" / "demo-logins.txt").write_text((tmp_path / "a" / "demo-logins.txt").read_text())
            teacher = signed_in(a, "teacher")
            class_id, lesson_id = open_lesson(teacher, "Access across processes")
            login, password = a.login_of("student")
            pupil_b = Browser(b.url)
            pupil_b.login_student(login, password)
            pupil_a = Browser(a.url)
            pupil_a.client.cookies = pupil_b.client.cookies  # one session, used through both processes
            path = f"/events/lesson/{lesson_id}/"
            streams = [Stream(pupil_a, path).open() for _ in range(2)]
            streams += [Stream(pupil_b, path).open() for _ in range(2)]
            streams.append(Stream(pupil_b, path).open())  # the fifth: the oldest (on A) closes
            streams[0].wait_ended()
            assert [e["event"] for e in streams[0].events] == ["stream.closed"]
            assert not any(stream.ended for stream in streams[1:])

            send_text_card(teacher, lesson_id, "Before the removal")
            for stream in streams[1:]:
                stream.wait_for("cards.received")
            code, number = login.split(" / ")
            run_action(
                a,
                "from classnote.accounts.models import User; from classnote.roster.actions import remove_member; "
                f"pupil = User.objects.get(username='{code}/{number}'.lower()); "
                "admin = User.objects.filter(role='school_admin', school=pupil.school).first(); "
                f"remove_member(admin, {class_id}, pupil.pk)",
                **env,
            )
            for stream in streams[1:]:
                stream.wait_ended()
                assert stream.events[-1]["event"] == "access.ended"
            send_text_card(teacher, lesson_id, "After the removal")
            for stream in streams[1:]:
                assert [e["event"] for e in stream.events] == ["cards.received", "access.ended"]
            refused = Stream(pupil_b, path)
            with contextlib.suppress(AssertionError):
                refused.open()
            assert refused.status == 404


def _threads(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    return int(first(r"Threads:\s+(\d+)", status))


def _open_raw_stream(server: Server, path: str, cookie: str) -> socket.socket:
    """An event stream read only until its first line: then it sits idle, as a pupil's screen does."""
    host, port = server.url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=20)
    sock.sendall(
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\nCookie: {cookie}\r\n\r\n".encode()
    )
    received = b""
    while b"retry:" not in received:
        chunk = sock.recv(4096)
        assert chunk, received[:300]
        received += chunk
    assert received.startswith(b"HTTP/1.1 200"), received[:300]
    return sock


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="counts threads through /proc")
def test_idle_streams_hold_no_thread_each(tmp_path: Path) -> None:
    """Structural, not timing: 200 open streams must not add a thread per stream to the server."""
    with running(tmp_path / "home", "--demo", "--no-jobs") as server:
        teacher = signed_in(server, "teacher")
        _class_id, lesson_id = open_lesson(teacher, "Many screens")
        student = signed_in(server, "student")
        cookie = "; ".join(f"{name}={value}" for name, value in student.client.cookies.items())
        path = f"/events/lesson/{lesson_id}/"
        _open_raw_stream(server, path, cookie).close()  # the shared thread pools exist from here on
        idle = _threads(server.process.pid)
        streams = [_open_raw_stream(server, path, cookie) for _ in range(200)]
        try:
            held = _threads(server.process.pid)
            assert held - idle < 20, f"{held - idle} more threads with 200 idle streams"
            send_text_card(teacher, lesson_id, "Still live")  # the idle streams still receive
            tail = b""
            while b"cards.received" not in tail:
                chunk = streams[-1].recv(65536)
                assert chunk
                tail += chunk
        finally:
            for sock in streams:
                sock.close()
