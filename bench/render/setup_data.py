"""Data of the render load benchmark, made in the server's CLASSNOTE_HOME before it starts.

    python bench/render/setup_data.py OUT.json STROKES.json CARDS

run with the server's own Python and environment (so it works against older code too: it uses the
models only). Two municipalities: in A a pupil with CARDS drawing cards holding STROKES (written
straight to the database, past the budget check, so the same drawing can be put to old code); in B
a teacher, whose /home/ is measured. Everything gets the same random password (written to OUT.json).
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from pathlib import Path


def main(out: Path, strokes_file: Path, cards: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "classnote.settings")
    import django

    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import transaction

    from classnote.accounts.models import User, student_username
    from classnote.base.roles import Role
    from classnote.cards.models import Card
    from classnote.tenancy.models import Country, Membership, Municipality, Region, School, SchoolClass

    call_command("migrate", interactive=False, verbosity=0)
    strokes = json.loads(strokes_file.read_text(encoding="utf-8"))
    password = "bench-" + secrets.token_urlsafe(12)
    hashed = make_password(password)
    with transaction.atomic():
        country, _ = Country.objects.get_or_create(code="JP", defaults={"name": "Japan"})
        region, _ = Region.objects.get_or_create(country=country, name="Render bench")
        towns = [Municipality.objects.create(region=region, name=f"Render town {k}") for k in ("A", "B")]
        code = "rb" + secrets.token_hex(3)
        schools = [
            School.objects.create(municipality=town, name=f"School {k}", code=f"{code}{k.lower()}")
            for town, k in zip(towns, "AB", strict=True)
        ]
        classes = [SchoolClass.objects.create(school=school, name="1-1", school_year=2026) for school in schools]
        pupil = User.objects.create(
            username=student_username(schools[0], "1001"),
            display_name="Render pupil",
            role=Role.STUDENT,
            municipality=towns[0],
            school=schools[0],
            student_number="1001",
            password=hashed,
        )
        Membership.objects.create(school_class=classes[0], user=pupil, role="student")
        teacher = User.objects.create(
            username=f"{code}-teacher",
            display_name="Teacher of another town",
            role=Role.TEACHER,
            municipality=towns[1],
            school=schools[1],
            password=hashed,
        )
        Membership.objects.create(school_class=classes[1], user=teacher, role="teacher")
        made = Card.objects.bulk_create(
            [
                Card(owner=pupil, school=schools[0], kind="drawing", title=f"Drawing {n}", strokes=strokes)
                for n in range(cards)
            ]
        )
    ids = [card.pk for card in made] or list(Card.objects.filter(owner=pupil).values_list("pk", flat=True))
    result = {
        "password": password,
        "pupil": {"school_code": schools[0].code, "student_number": "1001"},
        "teacher": teacher.username,
        "cards": sorted(ids),
    }
    out.write_text(json.dumps(result), encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]))
