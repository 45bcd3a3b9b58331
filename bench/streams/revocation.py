"""How soon a pupil removed from a class stops receiving the lesson (issue 12, finding 2).

Run with the server's environment (CLASSNOTE_HOME, or DATABASE_URL + REDIS_URL): it writes its data
straight into that database (a class of PUPILS pupils with sessions, one lesson, a school
administrator's session that has passed its second factor), opens every pupil's event stream (spread
over the given servers: with two processes, half the pupils are on each), then removes the pupils
one by one through the administrator's page (POST /classes/C/members/U/remove/, alternating between
the servers) while the teacher keeps the lesson busy (a new submission box every 50 ms through the
first server). For each removal it measures, on one clock:

* from the removal's response (the change is committed) to the end of that pupil's stream
  (``access.ended``), and
* whether any event of the lesson reached the pupil after the response.

Usage: python bench/streams/revocation.py --url http://127.0.0.1:P1 [--url http://127.0.0.1:P2]
       [--pupils 30] [--removals 20]
Prints one JSON line. 127.0.0.1 only; bounded (every wait has a deadline).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import threading
import time
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "classnote.settings")

import django  # noqa: E402

django.setup()

import httpx  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.contrib.sessions.models import Session  # noqa: E402
from django.utils import timezone  # noqa: E402
from django.utils.crypto import get_random_string  # noqa: E402

from classnote.accounts import sessions  # noqa: E402
from classnote.accounts.middleware import MFA_OK  # noqa: E402
from classnote.accounts.models import User, student_username  # noqa: E402
from classnote.base.roles import Role  # noqa: E402
from classnote.lessons.models import Lesson  # noqa: E402
from classnote.tenancy.models import Membership, School, SchoolClass  # noqa: E402

DEADLINE = 15.0  # seconds a stream may take to end before the removal counts as failed


def session_for(user: User, **extra: Any) -> str:
    key = get_random_string(32, "abcdefghijklmnopqrstuvwxyz0123456789")
    absolute, _idle = settings.SESSION_LIFETIMES[user.session_kind()]
    now = int(time.time())
    data = {
        SESSION_KEY: str(user.pk),
        BACKEND_SESSION_KEY: "classnote.accounts.backends.StaffBackend",
        HASH_SESSION_KEY: user.get_session_auth_hash(),
        sessions.LOGIN_AT: now,
        sessions.SEEN_AT: now,
        "_session_expiry": absolute,
        **extra,
    }
    expire = timezone.now() + datetime.timedelta(seconds=absolute)
    Session.objects.create(session_key=key, session_data=SessionStore().encode(data), expire_date=expire)
    return key


def setup(pupils: int) -> dict[str, Any]:
    school = School.objects.order_by("pk").first()
    assert school is not None, "start the server with --demo first"
    school_class = SchoolClass.objects.create(school=school, name=f"revocation-{int(time.time())}", school_year=2026)
    teacher = User.objects.filter(school=school, role=Role.TEACHER).first()
    admin = User.objects.filter(school=school, role=Role.SCHOOL_ADMIN).first()
    assert teacher and admin, "the demo school has a teacher and a school administrator"
    Membership.objects.create(school_class=school_class, user=teacher, role="teacher")
    lesson = Lesson.objects.create(school_class=school_class, title="Revocation bench", created_by=teacher)
    prefix = f"r{school_class.pk}x"
    people = []
    for n in range(pupils):
        pupil = User.objects.create(
            username=student_username(school, f"{prefix}{n:03d}"),
            password=make_password(None),
            display_name=f"Pupil {n}",
            role=Role.STUDENT,
            municipality=school.municipality,
            school=school,
            student_number=f"{prefix}{n:03d}",
        )
        Membership.objects.create(school_class=school_class, user=pupil, role="student")
        people.append({"id": pupil.pk, "session": session_for(pupil)})
    return {
        "class": school_class.pk,
        "lesson": lesson.pk,
        "teacher": session_for(teacher),
        "admin": session_for(admin, **{MFA_OK: True}),
        "pupils": people,
    }


class Reader(threading.Thread):
    """One pupil's event stream: the time each event arrived, and when the stream ended."""

    def __init__(self, url: str, path: str, cookies: dict[str, str]) -> None:
        super().__init__(daemon=True)
        self.url, self.path, self.cookies = url, path, cookies
        self.events: list[tuple[float, str]] = []
        self.ended_at: float | None = None
        self.opened = threading.Event()

    def run(self) -> None:
        try:
            with (
                httpx.Client(base_url=self.url, cookies=self.cookies, timeout=httpx.Timeout(10, read=60)) as client,
                client.stream("GET", self.path, headers={"Accept": "text/event-stream"}) as response,
            ):
                self.opened.set()
                for line in response.iter_lines():
                    if line.startswith("event: "):
                        self.events.append((time.time(), line[7:]))
        except httpx.HTTPError:
            pass
        finally:
            self.ended_at = time.time()
            self.opened.set()


class Staff:
    """A staff member's browser on one server: a session cookie and the CSRF token of a page."""

    def __init__(self, url: str, session: str) -> None:
        self.client = httpx.Client(base_url=url, cookies={settings.SESSION_COOKIE_NAME: session}, timeout=30)
        self.client.get("/home/")
        self.url = url

    def post(self, path: str, data: dict[str, str]) -> httpx.Response:
        token = self.client.cookies.get(settings.CSRF_COOKIE_NAME) or ""
        headers = {"X-CSRFToken": token, "Referer": self.url + "/home/"}
        return self.client.post(path, data=data, headers=headers)


def busy_lesson(teacher: Staff, lesson: int, stop: threading.Event) -> None:
    n = 0
    while not stop.is_set():
        teacher.post(f"/lessons/{lesson}/boxes/", {"title": f"Box {n}"})
        n += 1
        stop.wait(0.05)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", action="append", required=True)
    parser.add_argument("--pupils", type=int, default=30)
    parser.add_argument("--removals", type=int, default=20)
    args = parser.parse_args()
    data = setup(args.pupils)
    cookie = settings.SESSION_COOKIE_NAME
    path = f"/events/lesson/{data['lesson']}/"
    readers = []
    for n, pupil in enumerate(data["pupils"]):
        reader = Reader(args.url[n % len(args.url)], path, {cookie: pupil["session"]})
        reader.start()
        readers.append(reader)
    for reader in readers:
        reader.opened.wait(10)
    teacher = Staff(args.url[0], data["teacher"])
    admins = [Staff(url, data["admin"]) for url in args.url]
    stop = threading.Event()
    load = threading.Thread(target=busy_lesson, args=(teacher, data["lesson"], stop), daemon=True)
    load.start()
    time.sleep(1)
    latencies, late_events, failed = [], 0, 0
    for n in range(min(args.removals, len(readers))):
        pupil, reader, admin = data["pupils"][n], readers[n], admins[n % len(admins)]
        response = admin.post(f"/classes/{data['class']}/members/{pupil['id']}/remove/", {})
        committed = time.time()
        assert response.status_code == 302, (response.status_code, response.text[:300])
        deadline = committed + DEADLINE
        while reader.ended_at is None and time.time() < deadline:
            time.sleep(0.002)
        if reader.ended_at is None:
            failed += 1
            continue
        latencies.append(reader.ended_at - committed)
        late_events += sum(1 for at, kind in reader.events if at > committed and kind != "access.ended")
        time.sleep(0.1)
    stop.set()
    load.join(5)
    ordered = sorted(latencies)
    print(
        json.dumps(
            {
                "servers": len(args.url),
                "pupils": args.pupils,
                "removals": len(latencies) + failed,
                "not_ended_within_s": {str(DEADLINE): failed},
                "ms_commit_to_stream_end": {
                    "median": round(statistics.median(ordered) * 1000, 1) if ordered else None,
                    "p95": round(ordered[int(len(ordered) * 0.95) - 1] * 1000, 1) if ordered else None,
                    "max": round(ordered[-1] * 1000, 1) if ordered else None,
                },
                "lesson_events_after_removal": late_events,
                "lesson_events_during_run": sum(len(r.events) for r in readers),
            }
        )
    )


if __name__ == "__main__":
    main()
