"""IPA checklist 1 — SQL injection.

Promise: every value a visitor sends reaches the database as a bound parameter, never as SQL.
Hostile strings (quotes, `' OR 1=1 --`, `; DROP TABLE`, full-width and other Unicode, NUL) in
login fields, query and path parameters, form fields and API JSON log nobody in, change no other
row and no table, show no database error, and are stored exactly as typed (a string spliced into
SQL could not survive its own quote). A static check finds no SQL built from strings anywhere in
the code base (no `.raw()`, `.extra()`, `RawSQL` or `cursor.execute()` with anything but a
literal), so a future change cannot add one unnoticed.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client

from classnote.accounts.models import User
from classnote.cards.models import Card
from classnote.lessons.models import Group, Lesson, SubmissionBox
from tests.conftest import PASSWORD, Tenant, fresh_login, login_as
from tests.security.static import Finding, built_string, is_constant_string, python_files, resolved_calls
from tests.test_isolation import _markers

SQL_PAYLOADS = [
    "' OR 1=1 --",
    "' OR '1'='1",
    '" OR ""="',
    "admin'--",
    "x'); DROP TABLE accounts_user; --",
    "1; DELETE FROM cards_card",
    "1 UNION SELECT password, username FROM accounts_user --",
    "%' OR '%'='",
    "\\'; SELECT 1; --",
    "＇ ＯＲ １＝１ －－",  # full-width: must not be folded into SQL by a normalising layer
    "' OR 1=1 --\u202e\ufeff😀",
]
# NUL is refused (forms) or dropped (actions) before the database: PostgreSQL cannot store it.
NUL_PAYLOAD = "a\x00' OR 1=1 --"
# What must never reach a page or a JSON error.
DATABASE_ERRORS = (
    "syntax error",
    "OperationalError",
    "ProgrammingError",
    "IntegrityError",
    "DatabaseError",
    "sqlite3",
    "psycopg",
    "unrecognized token",
    'SELECT "',  # the ORM's SQL quotes its identifiers; a payload echoed back does not
    "Traceback",
)


# Rows a request writes as a matter of course: sessions of the test's own logins, audit entries.
BOOKKEEPING = {"sessions.Session", "audit.AuditEntry", "audit.AuditHead", "usersessions.UserSession"}


def database_fingerprint() -> dict[str, int]:
    """Every table and its row count: a dropped table or a deleted row shows up here."""
    tables = sorted(connection.introspection.table_names())
    counts = {}
    for model in apps.get_models():
        if model._meta.db_table in tables and model._meta.label not in BOOKKEEPING:
            counts[model._meta.label] = model.objects.count()
    return {"_tables": len(tables), **counts}


def leaks(response: Any) -> list[str]:
    body = response.content.decode("utf-8", "replace")
    return [word for word in DATABASE_ERRORS if word in body]


@pytest.fixture
def teacher(tenant_a: Tenant) -> Client:
    return login_as(Client(raise_request_exception=False), tenant_a.teacher)


# --- Logins -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", [*SQL_PAYLOADS, NUL_PAYLOAD])
def test_sql_in_login_fields_logs_nobody_in_and_shows_no_database_error(
    tenant_a: Tenant, tenant_b: Tenant, payload: str
) -> None:
    before = database_fingerprint()
    attempts = {
        "staff": ("/accounts/login/", {"login": payload, "password": payload}),
        "staff, real login ID": ("/accounts/login/", {"login": tenant_a.teacher.username, "password": payload}),
        "staff, injected after the login ID": (
            "/accounts/login/",
            {"login": f"{tenant_a.teacher.username}{payload}", "password": PASSWORD + payload},
        ),
        "student": (
            "/login/student/",
            {"school_code": payload, "student_number": payload, "password": payload},
        ),
        "student, real school": (
            "/login/student/",
            {"school_code": tenant_a.school.code, "student_number": payload, "password": payload},
        ),
        "student, injected after the student ID": (
            "/login/student/",
            {
                "school_code": tenant_a.school.code,
                "student_number": tenant_a.student.student_number + payload,
                "password": payload,
            },
        ),
        "QR card": ("/login/card/", {"token": (payload * 4)[:64].ljust(16, "'")}),
    }
    for label, (path, data) in attempts.items():
        client = Client(raise_request_exception=False)
        response = client.post(path, data)
        assert response.status_code in {200, 400, 429}, f"{label}: {response.status_code}"
        assert not leaks(response), f"{label}: the page shows {leaks(response)}"
        assert client.get("/home/").status_code == 302, f"{label}: {payload!r} logged somebody in"
    assert database_fingerprint() == before


# --- Free text through forms and the API is stored as typed -------------------------------------


def test_sql_in_card_text_and_titles_is_stored_verbatim_through_the_api(tenant_a: Tenant, tenant_b: Tenant) -> None:
    pupil = login_as(Client(raise_request_exception=False), tenant_a.student)
    before = database_fingerprint()
    for payload in SQL_PAYLOADS:
        made = pupil.post(
            "/api/cards",
            {"kind": "text", "title": payload[:120], "text": payload, "lesson_id": tenant_a.lesson.pk},
            content_type="application/json",
        )
        assert made.status_code == 201, made.content
        card = Card.objects.get(pk=made.json()["id"])
        assert (card.title, card.text, card.owner_id) == (payload[:120], payload, tenant_a.student.pk)
        edited = pupil.patch(
            f"/api/cards/{card.pk}",
            {"version": card.version, "fields": {"text": payload + payload, "title": payload[:60]}},
            content_type="application/json",
        )
        assert edited.status_code == 200, edited.content
        card.refresh_from_db()
        assert (card.text, card.title) == (payload + payload, payload[:60])
        # Read back through the API exactly as stored.
        assert pupil.get(f"/api/cards/{card.pk}").json()["text"] == payload + payload
    nul = pupil.post("/api/cards", {"kind": "text", "text": NUL_PAYLOAD}, content_type="application/json")
    assert nul.status_code == 422 and not leaks(nul)
    after = database_fingerprint()
    assert after.pop("cards.Card") == before.pop("cards.Card") + len(SQL_PAYLOADS)
    # The pupil's first work in the lesson, for the teacher's roster strip: one record, one event.
    assert after.pop("lessons.LessonActivity") == before.pop("lessons.LessonActivity") + 1
    assert after.pop("realtime.Event") == before.pop("realtime.Event") + 1
    assert after == before
    # Nothing else of anyone changed: the teacher's task card and B's card are as they were.
    assert Card.objects.get(pk=tenant_a.card.pk).text == "Secret task text aaa"
    assert Card.objects.get(pk=tenant_b.card.pk).text == "Secret task text bbb"


def test_sql_in_lesson_box_and_group_names_is_stored_verbatim_through_the_forms(
    teacher: Client, tenant_a: Tenant
) -> None:
    lesson = tenant_a.lesson
    for payload in SQL_PAYLOADS:
        response = teacher.post(f"/classes/{tenant_a.school_class.pk}/lessons/", {"title": payload})
        assert response.status_code == 302, response.status_code
        assert Lesson.objects.filter(title=payload.strip()[:120]).exists(), payload
        assert teacher.post(f"/lessons/{lesson.pk}/boxes/", {"title": payload}).status_code == 302
        assert SubmissionBox.objects.filter(lesson=lesson, title=payload.strip()).exists(), payload
        assert teacher.post(f"/lessons/{lesson.pk}/groups/", {"name": payload[:80]}).status_code == 302
        assert Group.objects.filter(name=payload[:80].strip()).exists(), payload
    refused = teacher.post(f"/lessons/{lesson.pk}/boxes/", {"title": NUL_PAYLOAD})
    assert refused.status_code == 302
    # (Checked in Python: SQLite ends a LIKE pattern at a NUL, so title__contains would match every row.)
    assert not any("\x00" in title for title in SubmissionBox.objects.values_list("title", flat=True))
    # The pages that list them still work and show no database error.
    page = teacher.get(f"/lessons/{lesson.pk}/")
    assert page.status_code == 200 and not leaks(page)


def test_sql_in_a_pupils_name_and_id_is_stored_verbatim(tenant_a: Tenant) -> None:
    admin = login_as(Client(raise_request_exception=False), tenant_a.school_admin)
    for number, payload in enumerate(SQL_PAYLOADS):
        response = admin.post(
            f"/schools/{tenant_a.school.pk}/",
            {"form": "student", "student-display_name": payload[:80], "student-student_number": f"sql{number}"},
        )
        assert response.status_code == 201, (payload, response.status_code)
        assert not leaks(response)
        assert User.objects.filter(display_name=payload[:80], school=tenant_a.school).count() == 1
    # A student ID with SQL in it is refused by its format check, not by the database.
    response = admin.post(
        f"/schools/{tenant_a.school.pk}/",
        {"form": "student", "student-display_name": "x", "student-student_number": "1' OR '1'='1"},
    )
    assert response.status_code == 400 and not leaks(response)


# --- Query strings and path parameters -------------------------------------------------------------


def hostile_query_urls(tenant: Tenant) -> Iterator[str]:
    for payload in [*SQL_PAYLOADS, NUL_PAYLOAD]:
        q = quote(payload, safe="")
        yield f"/api/cards?lesson_id={q}"
        yield f"/api/classes/{q}"
        yield f"/api/lessons/{q}"
        yield f"/api/cards/{q}"
        yield f"/api/files/{q}"
        yield f"/api/classes/{tenant.school_class.pk}/lessons?limit={q}&offset={q}"
        yield f"/boxes/{tenant.box.pk}/compare/?s={q}&s={tenant.submission.pk}"
        yield f"/audit/?page={q}"
        yield f"/privacy/views/?page={q}"
        yield f"/cards/{tenant.card.pk}/thumbnail/?w={q}"
        yield f"/files/{q}/"
        # The event stream's ?since= is fuzzed in tests/fuzz/test_text_fuzz.py: a stream opened
        # through the synchronous test client on PostgreSQL hands the test transaction's
        # connection back to the pool when it is closed, so it is not called here.


def test_sql_in_query_strings_and_path_parameters_finds_nothing(tenant_a: Tenant, tenant_b: Tenant) -> None:
    before = database_fingerprint()
    markers = [m for m in _markers(tenant_b) if m]
    problems = []
    for actor in (tenant_a.teacher, tenant_a.school_admin, tenant_a.student):
        client = login_as(Client(raise_request_exception=False), actor)
        for url in hostile_query_urls(tenant_a):
            response = client.get(url)
            if response.get("Content-Type", "").startswith("text/event-stream"):
                response.close()
                continue
            where = f"GET {url} as {actor.role} -> {response.status_code}"
            if response.status_code >= 500:
                problems.append(f"{where}: server error")
            if leaks(response):
                problems.append(f"{where}: shows {leaks(response)}")
            body = response.content.decode("utf-8", "replace")
            if any(marker in body for marker in markers):
                problems.append(f"{where}: shows data of another municipality")
    assert not problems, "\n".join(problems)
    assert database_fingerprint() == before


def test_sql_in_api_json_bodies_is_data(tenant_a: Tenant) -> None:
    teacher = fresh_login(Client(raise_request_exception=False), tenant_a.teacher)  # (tokens need a recent login)
    for payload in SQL_PAYLOADS:
        box = teacher.post(
            f"/api/lessons/{tenant_a.lesson.pk}/boxes", {"title": payload}, content_type="application/json"
        )
        assert box.status_code == 201, box.content
        assert SubmissionBox.objects.get(pk=box.json()["id"]).title == payload.strip()
        token = teacher.post("/api/tokens", {"name": payload[:80]}, content_type="application/json")
        assert token.status_code in {201, 422}, token.content
        assert not leaks(token)
        # Ids that are SQL, not numbers, are refused by validation before any query.
        send = teacher.post(
            f"/api/lessons/{tenant_a.lesson.pk}/send",
            {"card_ids": [payload], "to": "class"},
            content_type="application/json",
        )
        assert send.status_code == 422 and not leaks(send)


# --- No SQL built from strings anywhere in the code ---------------------------------------------------

# Calls that run SQL the ORM did not write.
RAW_SQL_CALLS = ("execute", "executemany", "executescript", "raw", "extra", "RawSQL", "RunSQL")
# A justified exception: file -> why its SQL is safe. Keep it empty if you can.
ALLOWED_RAW_SQL: dict[str, str] = {
    "core/sqlite/base.py": "the database backend's cursor: passes the ORM's own SQL and parameters through unchanged",
}


def raw_sql_findings(tree: ast.Module, path: str) -> list[Finding]:
    findings = []
    for call, name in resolved_calls(tree):
        last = name.rsplit(".", 1)[-1]
        if last not in RAW_SQL_CALLS:
            continue
        if last in ("raw", "extra", "RawSQL", "RunSQL"):
            findings.append(Finding(path, call.lineno, f"{name}(...): SQL outside the ORM"))
            continue
        if not call.args:
            continue
        sql = call.args[0]
        if not is_constant_string(sql):
            how = built_string(sql) or "a value that is not a literal"
            findings.append(Finding(path, call.lineno, f"{name}(...) with SQL built by {how}"))
    return findings


def test_the_code_base_builds_no_sql_from_strings() -> None:
    findings = [
        str(finding)
        for path, tree in python_files()
        if path not in ALLOWED_RAW_SQL
        for finding in raw_sql_findings(tree, path)
    ]
    assert not findings, (
        "SQL outside the ORM (use the ORM, or bind parameters with cursor.execute(sql_literal, params) "
        "and justify the file in ALLOWED_RAW_SQL):\n" + "\n".join(findings)
    )


def test_the_static_check_finds_sql_built_from_strings() -> None:
    """The check itself: each way of building SQL from input is found; literals with bound parameters are not."""
    sample = """
from django.db import connection
from django.db.models.expressions import RawSQL as R
def views(name, pk):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM t WHERE name = '{name}'")
        cursor.execute("SELECT * FROM t WHERE id = %s" % pk)
        cursor.execute("SELECT * FROM t WHERE name = '" + name + "'")
        cursor.execute("SELECT * FROM t WHERE name = '{}'".format(name))
        cursor.execute("SELECT 1")
        cursor.execute("SELECT * FROM t WHERE name = %s", [name])
    User.objects.raw("SELECT * FROM accounts_user")
    User.objects.extra(where=["1=1"])
    User.objects.annotate(x=R("1", []))
"""
    findings = raw_sql_findings(ast.parse(sample), "sample.py")
    assert sorted(f.line for f in findings) == [6, 7, 8, 9, 12, 13, 14], [str(f) for f in findings]
