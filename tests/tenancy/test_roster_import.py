"""Roster import (tenancy.roster): a school's administrators upload a CSV of pupils, check every
line in a preview, confirm, and get the new pupils' first passwords once — through the pages, as a
school office would, with the files Japanese school systems really export."""

from __future__ import annotations

import codecs
from typing import Any

import pytest
from django.contrib.auth import authenticate
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import translation

from classnote.accounts.actions import create_student
from classnote.accounts.models import User, student_username
from classnote.audit.models import AuditEntry
from classnote.base.roles import Role
from classnote.roster import reader as roster
from classnote.tenancy.models import Membership, SchoolClass
from tests.conftest import Tenant, fresh_login, login_as
from tests.test_isolation import _snapshot

HEADER = "Student ID,Name,Class\n"


def admin(user: User, language: str = "en") -> Client:
    user.language = language
    user.save(update_fields=["language"])
    return fresh_login(Client(), user)


def url(tenant: Tenant) -> str:
    return f"/schools/{tenant.school.pk}/roster/"


def upload(client: Client, tenant: Tenant, content: bytes | str, *, name: str = "pupils.csv", year: int = 2026) -> Any:
    data = content.encode() if isinstance(content, str) else content
    return client.post(url(tenant), {"file": SimpleUploadedFile(name, data, "text/csv"), "school_year": year})


def signed_plan(response: Any) -> str:
    plan = response.context["signed"]
    assert plan, "the preview offers nothing to confirm"
    return str(plan)


def lines(response: Any) -> dict[int, roster.Line]:
    return {line.row.line: line for line in response.context["plan"].lines}


def pupil(tenant: Tenant, number: str) -> User | None:
    return User.objects.filter(username=student_username(tenant.school, number)).first()


def message(text: str, language: str = "en", **values: object) -> str:
    with translation.override(language):
        translated = translation.gettext(text)
    return translated % values if values else translated


def test_preview_then_confirm_creates_pupils_with_printable_first_passwords(tenant_a: Tenant) -> None:
    client = admin(tenant_a.school_admin)
    csv = HEADER + "S001,Aiko Tanaka,Class aaa-1\nS002,Ben Sato,Class aaa-2\n"
    preview = upload(client, tenant_a, csv)
    assert preview.status_code == 200, preview.content
    assert preview["Cache-Control"] == "no-store"
    assert [line.outcome for line in lines(preview).values()] == [roster.CREATE, roster.CREATE]
    assert pupil(tenant_a, "S001") is None, "the preview saved something"

    done = client.post(url(tenant_a), {"plan": signed_plan(preview)})
    assert done.status_code == 201, done.content
    assert done["Cache-Control"] == "no-store"
    body = done.content.decode()
    created = {user.student_number: password for user, password, _class in done.context["imported"].created}
    assert set(created) == {"S001", "S002"}
    for number, password in created.items():
        assert password in body and "data-print" in body
        user = authenticate(None, school_code=tenant_a.school.code, student_number=number, password=password)
        assert user is not None and user.role == Role.STUDENT and user.school_id == tenant_a.school.pk
    aiko = pupil(tenant_a, "S001")
    assert aiko is not None and aiko.display_name == "Aiko Tanaka"
    assert Membership.objects.filter(user=aiko, school_class=tenant_a.school_class, role="student").exists()
    assert Membership.objects.filter(user=pupil(tenant_a, "S002"), school_class=tenant_a.other_class).exists()
    # One audit entry, with counts only: no names, no student IDs, no passwords.
    entry = AuditEntry.objects.get(action="roster.imported")
    assert entry.details == {"created": 2, "updated": 0, "unchanged": 0, "refused": 0}
    assert entry.school_id == tenant_a.school.pk and entry.actor_id == tenant_a.school_admin.pk


def test_each_refused_line_says_why_and_the_others_are_imported(tenant_a: Tenant) -> None:
    client = admin(tenant_a.school_admin)
    csv = HEADER + "\n".join(
        [
            "S100,Good Pupil,Class aaa-1",  # 2
            "bad id!,Bad Id,Class aaa-1",  # 3
            "S101,,Class aaa-1",  # 4
            "S102," + "x" * 81 + ",Class aaa-1",  # 5
            "S103,Lost Pupil,Class zzz-9",  # 6
            "S104,Twin One,Class aaa-1",  # 7
            "s104,Twin Two,Class aaa-1",  # 8: the same ID (IDs are not case-sensitive at login)
            "S105,\"=cmd|' /C calc'!A0\",Class aaa-1",  # 9
            "S106,+SUM(A1:A9),Class aaa-1",  # 10
            "S107,@SUM(A1),Class aaa-1",  # 11
            "S108,-2+3,Class aaa-1",  # 12
            'S109,＝HYPERLINK("http://x"),Class aaa-1',  # 13: a full-width equals sign
            "S110,No Class,",  # 14
        ]
    )
    preview = upload(client, tenant_a, csv)
    assert preview.status_code == 200
    found = lines(preview)
    assert found[2].outcome == roster.CREATE
    refused = {line: found[line] for line in range(3, 15)}
    assert all(line.outcome == roster.REFUSE for line in refused.values()), {n: x.outcome for n, x in refused.items()}
    notes = {number: " ".join(line.notes) for number, line in found.items()}
    assert "Use up to 32 letters, digits" in notes[3]
    assert "This field is required." in notes[4]
    assert "at most 80 characters" in notes[5]
    assert message("This school has no class named “%(name)s” in %(year)s.", name="Class zzz-9", year=2026) in notes[6]
    assert "appears more than once in the file (also on line 8)" in notes[7]
    assert "appears more than once in the file (also on line 7)" in notes[8]
    for formula_line in (9, 10, 11, 12, 13):
        assert "spreadsheets would run it as a formula" in notes[formula_line], notes[formula_line]
    assert message("The class is missing.") in notes[14]
    body = preview.content.decode()
    assert "=cmd|&#x27; /C calc&#x27;!A0" in body  # shown, escaped, so the office can correct it

    done = client.post(url(tenant_a), {"plan": signed_plan(preview)})
    assert done.status_code == 201
    assert [user.student_number for user, _p, _c in done.context["imported"].created] == ["S100"]
    for number in ("S101", "S102", "S103", "S104", "S105", "S106", "S107", "S108", "S109", "S110"):
        assert pupil(tenant_a, number) is None, number
    assert AuditEntry.objects.get(action="roster.imported").details["refused"] == 12


def test_reasons_are_translated(tenant_a: Tenant) -> None:
    client = admin(tenant_a.school_admin, "ja")
    preview = upload(client, tenant_a, HEADER + "S001,=1+1,Class zzz\n")
    body = preview.content.decode()
    assert message("Not imported", "ja") in body
    assert message("Must not start with =, +, - or @ (spreadsheets would run it as a formula).", "ja") in body
    assert message("This school has no class named “%(name)s” in %(year)s.", "ja", name="Class zzz", year=2026) in body
    assert "spreadsheets" not in body


def test_a_shift_jis_file_with_japanese_headers_as_school_systems_export_it(tenant_a: Tenant) -> None:
    tenant_a.municipality.collect_name_reading = True
    tenant_a.municipality.save(update_fields=["collect_name_reading"])
    SchoolClass.objects.create(school=tenant_a.school, school_year=2026, name="1年1組")
    # 髙 and ① exist only in CP932 (Windows' Shift_JIS), as exported on Japanese school PCs.
    text = "学籍番号,氏名,学級,よみがな,生年月日\r\n１２３４,髙橋　①太郎,１年１組,たかはし いちたろう,2019-04-02\r\n"
    preview = upload(admin(tenant_a.school_admin), tenant_a, text.encode("cp932"))
    assert preview.status_code == 200, preview.content
    plan = preview.context["plan"]
    assert plan.roster.encoding == "cp932"
    assert plan.roster.ignored_columns == ["生年月日"]  # other columns are not read, let alone stored
    (line,) = plan.lines
    assert line.outcome == roster.CREATE, line.notes
    assert line.row.student_number == "1234"  # full-width digits as typed in Japanese
    done = admin(tenant_a.school_admin).post(url(tenant_a), {"plan": signed_plan(preview)})
    assert done.status_code == 201, done.content
    created = pupil(tenant_a, "1234")
    assert created is not None
    assert created.display_name == "髙橋　①太郎"
    assert created.name_reading == "たかはし いちたろう"
    assert Membership.objects.filter(user=created, school_class__name="1年1組").exists()


def test_utf8_with_byte_order_mark_and_japanese_headers(tenant_a: Tenant) -> None:
    text = "学籍番号,氏名,学級\nA-1,佐藤 花子,Class aaa-1\n"
    preview = upload(admin(tenant_a.school_admin), tenant_a, codecs.BOM_UTF8 + text.encode())
    assert preview.status_code == 200, preview.content
    (line,) = preview.context["plan"].lines
    assert (line.outcome, line.row.student_number, line.row.display_name) == (roster.CREATE, "A-1", "佐藤 花子")
    assert preview.context["plan"].roster.encoding == "utf-8"


def test_tab_separated_and_quoted_cells(tenant_a: Tenant) -> None:
    text = 'Student ID\tName\tClass\nT1\t"Smith,\nJohn"\tClass aaa-1\n'
    preview = upload(admin(tenant_a.school_admin), tenant_a, text)
    (line,) = preview.context["plan"].lines
    assert line.outcome == roster.CREATE
    assert line.row.display_name == "Smith, John"  # a line break inside a name becomes a space


def test_the_reading_column_is_ignored_where_the_board_does_not_record_readings(tenant_a: Tenant) -> None:
    assert not tenant_a.municipality.collect_name_reading
    client = admin(tenant_a.school_admin)
    preview = upload(client, tenant_a, "Student ID,Name,Class,Reading\nR1,Rin,Class aaa-1,りん\n")
    assert preview.context["plan"].reading_ignored
    assert "does not record readings" in preview.content.decode()
    client.post(url(tenant_a), {"plan": signed_plan(preview)})
    created = pupil(tenant_a, "R1")
    assert created is not None and created.name_reading == ""


def test_existing_pupils_are_updated_not_duplicated(tenant_a: Tenant) -> None:
    number = tenant_a.student.student_number
    other = tenant_a.classmate.student_number
    csv = HEADER + f"{number},Renamed Pupil,Class aaa-2\n{other},{tenant_a.classmate.display_name},Class aaa-1\n"
    client = admin(tenant_a.school_admin)
    preview = upload(client, tenant_a, csv)
    first, second = preview.context["plan"].lines
    assert first.outcome == roster.UPDATE and first.existing == tenant_a.student
    assert second.outcome == roster.UNCHANGED
    done = client.post(url(tenant_a), {"plan": signed_plan(preview)})
    assert done.status_code == 201
    tenant_a.student.refresh_from_db()
    assert tenant_a.student.display_name == "Renamed Pupil"
    # Joined the new class, and stays in the old one: an import never removes anybody.
    classes = set(Membership.objects.filter(user=tenant_a.student).values_list("school_class", flat=True))
    assert classes == {tenant_a.school_class.pk, tenant_a.other_class.pk}
    assert User.objects.filter(school=tenant_a.school, role=Role.STUDENT).count() == 3
    assert AuditEntry.objects.get(action="roster.imported").details == {
        "created": 0,
        "updated": 1,
        "unchanged": 1,
        "refused": 0,
    }


def test_a_deactivated_pupil_is_refused(tenant_a: Tenant) -> None:
    tenant_a.student.is_active = False
    tenant_a.student.save(update_fields=["is_active"])
    preview = upload(
        admin(tenant_a.school_admin), tenant_a, HEADER + f"{tenant_a.student.student_number},X,Class aaa-1\n"
    )
    (line,) = preview.context["plan"].lines
    assert line.outcome == roster.REFUSE and "deactivated" in line.notes[0]


def test_a_municipal_admin_imports_into_a_school_of_their_board(tenant_a: Tenant) -> None:
    client = admin(tenant_a.municipal_admin)
    preview = upload(client, tenant_a, HEADER + "M1,Mio,Class aaa-1\n")
    assert preview.status_code == 200
    assert client.post(url(tenant_a), {"plan": signed_plan(preview)}).status_code == 201
    assert pupil(tenant_a, "M1") is not None


def test_teachers_and_pupils_cannot_import(tenant_a: Tenant) -> None:
    for user in (tenant_a.teacher, tenant_a.student):
        client = fresh_login(Client(), user)
        assert client.get(url(tenant_a)).status_code == 403
        assert upload(client, tenant_a, HEADER + "X1,X,Class aaa-1\n").status_code == 403
    assert pupil(tenant_a, "X1") is None


def test_importing_needs_a_recent_login(tenant_a: Tenant) -> None:
    client = login_as(Client(), tenant_a.school_admin)  # signed in long ago
    response = client.get(url(tenant_a))
    assert response.status_code == 302 and "/accounts/reauthenticate/" in response["Location"]


def test_another_schools_class_name_is_refused(tenant_a: Tenant, tenant_b: Tenant) -> None:
    before = _snapshot(tenant_b)
    client = admin(tenant_a.school_admin)
    preview = upload(client, tenant_a, HEADER + f"B1,Intruder,{tenant_b.school_class.name}\n")
    (line,) = preview.context["plan"].lines
    assert line.outcome == roster.REFUSE and line.school_class is None
    assert not preview.context["signed"]
    assert _snapshot(tenant_b) == before


def test_school_a_cannot_import_into_school_b(tenant_a: Tenant, tenant_b: Tenant) -> None:
    before = _snapshot(tenant_b)
    csv = HEADER + f"B2,Intruder,{tenant_b.school_class.name}\n"
    for user in (tenant_a.school_admin, tenant_a.municipal_admin):
        client = admin(user)
        assert client.get(url(tenant_b)).status_code == 404
        assert upload(client, tenant_b, csv).status_code == 404
    # A plan signed for A's school is worth nothing at B's address, nor in another admin's hands.
    preview = upload(admin(tenant_a.school_admin), tenant_a, HEADER + "B3,Pupil,Class aaa-1\n")
    plan = signed_plan(preview)
    assert admin(tenant_a.school_admin).post(url(tenant_b), {"plan": plan}).status_code == 404
    b_admin = fresh_login(Client(), tenant_b.school_admin)
    assert b_admin.post(url(tenant_b), {"plan": plan}).status_code == 400
    muni = admin(tenant_a.municipal_admin)
    refused = muni.post(url(tenant_a), {"plan": plan})
    assert refused.status_code == 400 and "could not be read" in refused.content.decode()
    assert pupil(tenant_a, "B3") is None and pupil(tenant_b, "B2") is None and pupil(tenant_b, "B3") is None
    assert _snapshot(tenant_b) == before


def test_a_tampered_or_stale_plan_is_refused(tenant_a: Tenant) -> None:
    client = admin(tenant_a.school_admin)
    preview = upload(client, tenant_a, HEADER + "P1,Pia,Class aaa-1\nP2,Paul,Class aaa-1\n")
    plan = signed_plan(preview)
    tampered = client.post(url(tenant_a), {"plan": plan[:-3] + ("AAA" if not plan.endswith("AAA") else "BBB")})
    assert tampered.status_code == 400
    # Someone adds P1 by hand between preview and confirmation: the plan changed, nothing is imported.
    create_student(tenant_a.school_admin, tenant_a.school, display_name="Pia", student_number="P1")
    again = client.post(url(tenant_a), {"plan": plan})
    assert again.status_code == 409
    assert [line.outcome for line in again.context["plan"].lines] == [roster.UPDATE, roster.CREATE]
    assert pupil(tenant_a, "P2") is None
    assert not AuditEntry.objects.filter(action="roster.imported").exists()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "empty"),
        (b" \r\n\r\n", "The file is empty."),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 40, "This is not a CSV file."),
        (b"PK\x03\x04" + b"\x00" * 60, "This is an Excel workbook"),
        (codecs.BOM_UTF16_LE + "Student ID,Name,Class\n".encode("utf-16-le"), "saved as UTF-16"),
        (b"Student ID,Name,Class\nA1,\x00,Class aaa-1\n", "This is not a CSV file."),
        (b"Student ID,Name,Class\n\x81 is neither UTF-8 nor Shift_JIS", "could not be read"),
        (b"Pupil,Group\nA1,1\n", "The first line must name the columns"),
        (b"Name,Name,Student ID,Class\n", "appears twice"),
        (b"Student ID,Name,Class\n\n,,\n", "lists no pupils"),
        (("Student ID,Name,Class\n" + "A1,Aa,Class aaa-1\n" * 2001).encode(), "more than 2,000 pupils"),
        (b"Student ID,Name,Class\n" + b"A" * (1024 * 1024), "larger than 1 MB"),
    ],
)
def test_files_that_are_no_roster_are_refused_with_a_reason(tenant_a: Tenant, content: bytes, expected: str) -> None:
    response = upload(admin(tenant_a.school_admin), tenant_a, content)
    assert response.status_code == 400
    assert expected in response.content.decode()
    assert (
        not User.objects.filter(school=tenant_a.school, role=Role.STUDENT)
        .exclude(pk__in=[tenant_a.student.pk, tenant_a.classmate.pk, tenant_a.other_class_student.pk])
        .exists()
    )


def test_hostile_posts_get_a_4xx(tenant_a: Tenant) -> None:
    client = admin(tenant_a.school_admin)
    assert client.post(url(tenant_a), {}).status_code == 400
    assert client.post(url(tenant_a), {"plan": ""}).status_code == 400
    assert client.post(url(tenant_a), {"plan": "x" * 5000}).status_code == 400
    assert upload(client, tenant_a, HEADER + "A1,Aa,Class aaa-1\n", year=1999).status_code == 400
    assert client.post(url(tenant_a), {"school_year": "2026", "file": "not a file"}).status_code == 400


def test_a_school_without_classes_is_told_to_add_them_first(tenant_a: Tenant) -> None:
    SchoolClass.objects.filter(school=tenant_a.school).update(archived=True)
    response = admin(tenant_a.school_admin).get(url(tenant_a))
    assert response.status_code == 200
    assert "Add the classes first" in response.content.decode()
