"""Create N students in one class of the demo school, one lesson, and a logged-in session per
student, written straight to the session store (no password hashing: this measures streams, not
login). Run with the server's CLASSNOTE_HOME. Prints JSON: lesson id and the session cookies file."""

from __future__ import annotations

import datetime
import json
import os
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "classnote.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.contrib.sessions.models import Session  # noqa: E402
from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from django.utils.crypto import get_random_string  # noqa: E402

from classnote.accounts import sessions  # noqa: E402
from classnote.accounts.models import User, student_username  # noqa: E402
from classnote.base.roles import Role  # noqa: E402
from classnote.lessons.models import Lesson  # noqa: E402
from classnote.tenancy.models import Membership, School, SchoolClass  # noqa: E402


def main(count: int, out: str) -> None:
    started = time.monotonic()
    school = School.objects.order_by("pk").first()
    assert school is not None, "start the server with --demo first"
    with transaction.atomic():
        school_class = SchoolClass.objects.create(school=school, name=f"bench-{int(time.time())}", school_year=2026)
        teacher = User.objects.filter(school=school, role=Role.TEACHER).first()
        lesson = Lesson.objects.create(school_class=school_class, title="Streams bench", created_by=teacher)
        prefix = f"b{school_class.pk}x"
        unusable = make_password(None)
        users = User.objects.bulk_create(
            [
                User(
                    username=student_username(school, f"{prefix}{n:05d}"),
                    password=unusable,
                    display_name=f"Bench {n}",
                    role=Role.STUDENT,
                    municipality=school.municipality,
                    school=school,
                    student_number=f"{prefix}{n:05d}",
                )
                for n in range(count)
            ],
            batch_size=500,
        )
        if users and users[0].pk is None:  # (backends that do not return ids)
            users = list(User.objects.filter(username__startswith=student_username(school, prefix)).order_by("pk"))
        Membership.objects.bulk_create(
            [Membership(school_class=school_class, user=u, role="student") for u in users], batch_size=500
        )
        now = int(time.time())
        absolute, _idle = settings.SESSION_LIFETIMES[users[0].session_kind()]
        expire = timezone.now() + datetime.timedelta(seconds=absolute)
        encoder = SessionStore()
        rows, keys = [], []
        for user in users:
            key = get_random_string(32, "abcdefghijklmnopqrstuvwxyz0123456789")
            data = {
                SESSION_KEY: str(user.pk),
                BACKEND_SESSION_KEY: "classnote.accounts.backends.StudentBackend",
                HASH_SESSION_KEY: user.get_session_auth_hash(),
                sessions.LOGIN_AT: now,
                sessions.SEEN_AT: now,
                "_session_expiry": absolute,
            }
            rows.append(Session(session_key=key, session_data=encoder.encode(data), expire_date=expire))
            keys.append(key)
        Session.objects.bulk_create(rows, batch_size=500)
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"lesson": lesson.pk, "cookie_name": settings.SESSION_COOKIE_NAME, "sessions": keys}, f)
    print(json.dumps({"lesson": lesson.pk, "students": len(keys), "seconds": round(time.monotonic() - started, 1)}))


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
