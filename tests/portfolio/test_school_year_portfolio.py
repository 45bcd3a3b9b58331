"""Issue 14, tool 13: the portfolio by school year (April 1 – March 31) with the teacher's comment
and mark; class teachers export their own class's pupils' portfolios, nobody else's."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from classnote.accounts.models import User
from classnote.audit.models import AuditEntry
from classnote.base.errors import ActionError
from classnote.base.roles import Role
from classnote.base.schoolyear import bounds, school_year_of
from classnote.lessons import actions
from classnote.lessons.models import Lesson, Submission
from classnote.tenancy.models import Membership
from tests.api.conftest import send, session
from tests.conftest import PASSWORD, Tenant, fresh_login, login_as

TOKYO = ZoneInfo("Asia/Tokyo")


def test_the_school_year_starts_on_april_first() -> None:
    assert school_year_of(date(2027, 3, 31)) == 2026
    assert school_year_of(date(2027, 4, 1)) == 2027
    assert school_year_of(date(2026, 12, 31)) == 2026
    start, end = bounds(2026)
    assert (start.date(), end.date()) == (date(2026, 4, 1), date(2027, 4, 1))


@pytest.mark.django_db
def test_an_aware_moment_is_read_in_the_server_time_zone(settings: object) -> None:
    settings.TIME_ZONE = "Asia/Tokyo"  # type: ignore[attr-defined]
    # 2027-03-31 16:00 UTC is already April 1 in Tokyo.
    assert school_year_of(datetime(2027, 3, 31, 14, 59, tzinfo=ZoneInfo("UTC"))) == 2026
    assert school_year_of(datetime(2027, 3, 31, 15, 0, tzinfo=ZoneInfo("UTC"))) == 2027


def _lesson_on(tenant: Tenant, title: str, when: datetime) -> Submission:
    """A lesson opened at WHEN with a box and the pupil's submission of their copy of a card."""
    from classnote.cards.actions import create_card

    lesson = actions.open_lesson(tenant.teacher, tenant.school_class.pk, title)
    Lesson.objects.filter(pk=lesson.pk).update(created_at=when)
    card = create_card(tenant.student, kind="text", lesson_id=lesson.pk, title=f"{title} card", text=f"{title} text")
    box = actions.create_box(tenant.teacher, lesson.pk, f"{title} box")
    return actions.submit(tenant.student, box.pk, card.pk)


@pytest.fixture
def two_years(tenant_a: Tenant, settings: object) -> tuple[Submission, Submission]:
    settings.TIME_ZONE = "Asia/Tokyo"  # type: ignore[attr-defined]
    march = _lesson_on(tenant_a, "Spring review", datetime(2027, 3, 31, 15, 0, tzinfo=TOKYO))
    april = _lesson_on(tenant_a, "New year lesson", datetime(2027, 4, 1, 9, 0, tzinfo=TOKYO))
    return march, april


def test_the_portfolio_groups_lessons_by_school_year(
    tenant_a: Tenant, two_years: tuple[Submission, Submission]
) -> None:
    pupil = login_as(Client(), tenant_a.student)
    year_2026 = pupil.get("/portfolio/?year=2026").content.decode()
    assert "Spring review" in year_2026 and "New year lesson" not in year_2026
    year_2027 = pupil.get("/portfolio/?year=2027").content.decode()
    assert "New year lesson" in year_2027 and "Spring review" not in year_2027
    # The selector offers both years; without ?year= the newest is shown.
    assert 'value="2026"' in year_2027 and 'value="2027"' in year_2027
    assert "New year lesson" in pupil.get("/portfolio/").content.decode()
    # The pupil's own cards of the lesson are listed too.
    assert "Spring review card" in year_2026


def test_the_year_export_holds_only_that_year(tenant_a: Tenant, two_years: tuple[Submission, Submission]) -> None:
    response = login_as(Client(), tenant_a.student).get("/portfolio/export.zip?year=2026")
    assert response.status_code == 200
    index = json.loads(zipfile.ZipFile(io.BytesIO(response.content)).read("index.json"))
    lessons = [s["lesson"] for s in index["submissions"]]
    assert "Spring review" in lessons and "New year lesson" not in lessons
    assert index["school_year"] == 2026


@pytest.mark.parametrize("year", ["abc", "1999", "２０２６", "99999999999999999999", "-1"])
def test_a_bad_year_is_a_translated_400(tenant_a: Tenant, year: str) -> None:
    pupil = login_as(Client(), tenant_a.student)
    for path in ("/portfolio/", "/portfolio/export.zip"):
        response = pupil.get(path, {"year": year})
        assert response.status_code == 400
        assert "年度" in response.content.decode()  # Japanese, the tenant's language


def test_a_pupil_sees_only_their_own_portfolio(tenant_a: Tenant) -> None:
    page = login_as(Client(), tenant_a.classmate).get("/portfolio/").content.decode()
    assert "Box aaa" not in page  # the fixture's submission is tenant_a.student's
    assert "Box aaa" in login_as(Client(), tenant_a.student).get("/portfolio/").content.decode()


# --- The mark -------------------------------------------------------------------------------------


def test_a_mark_is_stored_and_shown_to_the_pupil(tenant_a: Tenant) -> None:
    teacher = login_as(Client(), tenant_a.teacher)
    # The Return form on the teacher's tile offers the marks.
    lesson_page = teacher.get(f"/lessons/{tenant_a.lesson.pk}/").content.decode()
    assert 'name="mark"' in lesson_page and 'value="◎"' in lesson_page
    teacher.post(f"/submissions/{tenant_a.submission.pk}/return/", {"comment": "よく書けました", "mark": "◎"})
    tenant_a.submission.refresh_from_db()
    assert tenant_a.submission.return_mark == "◎" and tenant_a.submission.returned_at
    pupil = login_as(Client(), tenant_a.student)
    lesson = pupil.get(f"/lessons/{tenant_a.lesson.pk}/").content.decode()
    assert "◎ よくできました" in lesson and "よく書けました" in lesson
    assert "◎ よくできました" in pupil.get("/portfolio/").content.decode()
    assert pupil.get("/api/portfolio").json()[0]["teacher_mark"] == "◎"


@pytest.mark.parametrize("mark", ["A+", "◎◎", "x" * 21, "5"])
def test_a_bad_mark_is_refused_with_a_translated_message(tenant_a: Tenant, mark: str) -> None:
    with pytest.raises(ActionError):
        actions.return_submission(tenant_a.teacher, tenant_a.submission.pk, "", mark)
    teacher = session(tenant_a.teacher)
    answer = send(teacher, "POST", f"/api/submissions/{tenant_a.submission.pk}/return", {"mark": mark})
    assert 400 <= answer.status_code < 500
    if answer.status_code == 400:
        assert "評価" in answer.json()["detail"]
    page = login_as(Client(), tenant_a.teacher)
    response = page.post(f"/submissions/{tenant_a.submission.pk}/return/", {"comment": "x", "mark": mark}, follow=True)
    assert response.status_code == 200 and "評価" in response.content.decode()
    tenant_a.submission.refresh_from_db()
    assert tenant_a.submission.returned_at is None and tenant_a.submission.return_mark == ""


def test_the_api_return_accepts_a_mark(tenant_a: Tenant) -> None:
    teacher = session(tenant_a.teacher)
    answer = send(teacher, "POST", f"/api/submissions/{tenant_a.submission.pk}/return", {"comment": "", "mark": "△"})
    assert answer.status_code == 200 and answer.json()["return_mark"] == "△"


# --- The class teacher's export -------------------------------------------------------------------


def _zip_index(response: object, name: str = "index.json") -> dict[str, object]:
    archive = zipfile.ZipFile(io.BytesIO(response.content))  # type: ignore[attr-defined]
    return json.loads(archive.read(name))


def test_a_class_teacher_exports_the_class(tenant_a: Tenant) -> None:
    actions.return_submission(tenant_a.teacher, tenant_a.submission.pk, "Good work", "○")
    teacher = fresh_login(Client(), tenant_a.teacher)
    assert teacher.get(f"/classes/{tenant_a.school_class.pk}/").content.decode().count("/portfolios/") == 1
    page = teacher.get(f"/classes/{tenant_a.school_class.pk}/portfolios/")
    assert page.status_code == 200 and tenant_a.student.display_name in page.content.decode()
    before = AuditEntry.objects.filter(action="portfolio.exported").count()
    response = teacher.get(f"/classes/{tenant_a.school_class.pk}/portfolios.zip?year=2026")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = archive.namelist()
    assert "index.html" in names and "index.json" in names
    index = json.loads(archive.read("index.json"))
    assert [row["student"] for row in index["pupils"]] == [
        tenant_a.student.display_name,
        tenant_a.classmate.display_name,
    ]
    folder = index["pupils"][0]["folder"]
    pupil_index = json.loads(archive.read(f"{folder}index.json"))
    assert pupil_index["submissions"][0]["teacher_mark"] == "○"
    assert pupil_index["submissions"][0]["teacher_comment"] == "Good work"
    assert f"{folder}index.html" in names
    assert tenant_a.other_class_student.display_name not in archive.read("index.html").decode()
    # One audit entry per pupil, naming the pupil as the subject.
    entries = AuditEntry.objects.filter(action="portfolio.exported").order_by("pk")[before:]
    assert {entry.subject_id for entry in entries} == {tenant_a.student.pk, tenant_a.classmate.pk}
    # And one pupil at a time.
    one = teacher.get(f"/classes/{tenant_a.school_class.pk}/pupils/{tenant_a.student.pk}/portfolio.zip?year=2026")
    assert one.status_code == 200 and _zip_index(one)["submissions"][0]["teacher_mark"] == "○"


def test_a_class_export_asks_for_the_password_again(tenant_a: Tenant) -> None:
    response = login_as(Client(), tenant_a.teacher).get(f"/classes/{tenant_a.school_class.pk}/portfolios.zip")
    assert response.status_code in (302, 401, 403) and response.get("Content-Type") != "application/zip"


def test_teachers_of_other_classes_and_schools_cannot_export(tenant_a: Tenant, tenant_b: Tenant) -> None:
    other_teacher = User.objects.create_user(
        "aaa-other-teacher",
        PASSWORD,
        display_name="Other teacher",
        role=Role.TEACHER,
        municipality=tenant_a.municipality,
        school=tenant_a.school,
    )
    Membership.objects.create(school_class=tenant_a.other_class, user=other_teacher, role="teacher")
    own_class, pupil = tenant_a.school_class.pk, tenant_a.student.pk
    paths = [
        f"/classes/{own_class}/portfolios/",
        f"/classes/{own_class}/portfolios.zip",
        f"/classes/{own_class}/pupils/{pupil}/portfolio.zip",
    ]
    for outsider in (other_teacher, tenant_b.teacher):
        client = fresh_login(Client(), outsider)
        for path in paths:
            assert client.get(path).status_code == 404, (outsider, path)
    # A teacher cannot reach a pupil of another class through their own class.
    teacher = fresh_login(Client(), tenant_a.teacher)
    assert (
        teacher.get(f"/classes/{own_class}/pupils/{tenant_a.other_class_student.pk}/portfolio.zip").status_code == 404
    )
    # Pupils and municipal admins are refused the teachers' routes.
    for user in (tenant_a.student, tenant_a.municipal_admin):
        client = fresh_login(Client(), user)
        for path in paths:
            assert client.get(path).status_code in (403, 404), (user, path)
