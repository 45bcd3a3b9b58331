"""Create the classroom benchmark's data in a fresh CLASSNOTE_HOME, before the server starts.

Run by the benchmark as `python -m bench.classroom.setup_data K STUDENTS_PER_CLASS OUT.json` with
CLASSNOTE_HOME set (or the server's environment). One school, K classes of STUDENTS_PER_CLASS students
(40 for bell and steady; broadcast: one class of the whole school, e.g. 1,000), one teacher per class, an open lesson with a submission
box and a text card ready to send. Every account gets a real Argon2 hash of the same benchmark
password (computed once: hashing 1,000 times would take minutes), so logging in runs the real
hasher; every student also gets a QR login card (its token is written to OUT.json).
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import time
from pathlib import Path


def main(classes: int, students_per_class: int, out: Path) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "classnote.settings")
    import django

    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import transaction

    from classnote.accounts.models import LoginCard, User, student_username
    from classnote.base.roles import Role
    from classnote.cards.actions import create_card
    from classnote.lessons.models import Lesson, SubmissionBox
    from classnote.tenancy.models import Country, Membership, Municipality, Region, School, SchoolClass

    call_command("migrate", interactive=False, verbosity=0)
    password = "bench-" + secrets.token_urlsafe(12)
    began = time.perf_counter()
    hashed = make_password(password)  # the configured (production) hasher: Argon2
    hash_ms = round((time.perf_counter() - began) * 1000, 1)  # a login's check costs the same
    width = max(3, len(str(students_per_class)))  # student numbers stay unique for any class size
    result: dict[str, object] = {"password": password, "classes": [], "argon2_hash_ms": hash_ms}
    with transaction.atomic():
        country, _ = Country.objects.get_or_create(code="JP", defaults={"name": "Japan"})
        region, _ = Region.objects.get_or_create(country=country, name="Bench")
        town, _ = Municipality.objects.get_or_create(region=region, name="Bench City")
        # A new school per run, so runs against one long-lived database (--base-url) do not collide.
        code = "bench" + secrets.token_hex(3)
        school = School.objects.create(municipality=town, name=f"Bench School {code}", code=code)
        result["school_code"] = school.code
        for c in range(classes):
            school_class = SchoolClass.objects.create(school=school, name=f"Class {c + 1}", school_year=2026)
            teacher = User(
                username=f"{code}-teacher{c + 1}",
                display_name=f"Teacher {c + 1}",
                role=Role.TEACHER,
                municipality=town,
                school=school,
                password=hashed,
            )
            teacher.save()
            Membership.objects.create(school_class=school_class, user=teacher, role="teacher")
            numbers = [f"{c + 1}{n + 1:0{width}d}" for n in range(students_per_class)]
            students = User.objects.bulk_create(
                [
                    User(
                        username=student_username(school, number),
                        display_name=f"Pupil {number}",
                        role=Role.STUDENT,
                        municipality=town,
                        school=school,
                        student_number=number,
                        password=hashed,
                    )
                    for number in numbers
                ]
            )
            students = list(User.objects.filter(username__in=[s.username for s in students]).order_by("pk"))
            Membership.objects.bulk_create(
                [Membership(school_class=school_class, user=s, role="student") for s in students]
            )
            tokens = [secrets.token_urlsafe(24) for _ in students]
            LoginCard.objects.bulk_create(
                [
                    LoginCard(user=s, token_hash=LoginCard.hash_token(t), issued_by=teacher)
                    for s, t in zip(students, tokens, strict=True)
                ]
            )
            lesson = Lesson.objects.create(school_class=school_class, title="Bell lesson", created_by=teacher)
            box = SubmissionBox.objects.create(lesson=lesson, title="Answers")
            card = create_card(teacher, kind="text", lesson_id=lesson.pk, title="Question of the day")
            result["classes"].append(  # type: ignore[attr-defined]
                {
                    "class_id": school_class.pk,
                    "lesson_id": lesson.pk,
                    "box_id": box.pk,
                    "card_id": card.pk,
                    "teacher": teacher.username,
                    "students": [
                        {"number": s.student_number, "token": t} for s, t in zip(students, tokens, strict=True)
                    ],
                }
            )
    out.write_text(json.dumps(result), encoding="utf-8")


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3]))
