"""Success paths of the administration pages (classnote.tenancy.views), used as a browser uses them:
every form is taken from the rendered page and submitted as rendered (tests/pages.py) with the CSRF
check on; sensitive actions with a recent password entry (step-up), administrators with MFA passed."""

from __future__ import annotations

import datetime
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from django.contrib.auth import authenticate
from django.test import Client
from django.utils import timezone

from classnote.accounts.actions import issue_login_card
from classnote.accounts.models import LoginCard, Role, User, student_username
from classnote.audit.models import AuditEntry
from classnote.base.schoolyear import current_school_year
from classnote.tenancy.models import Membership, Municipality, School, SchoolClass
from tests.conftest import Tenant, login_as, recently_authenticated
from tests.pages import (
    actions_of,
    english_tenant,  # noqa: F401 - provides the fixture `t`
    follow,
    form_on,
    forms_of,
    headings,
    messages_of,
    page_text,
    parse,
    table_rows,
    text_of,
    upload,
)


def browser(user: User, *, step_up: bool = False) -> Client:
    """USER signed in (administrators with MFA passed); STEP_UP: with a password entered just now."""
    client = login_as(Client(enforce_csrf_checks=True), user)
    return recently_authenticated(client, user) if step_up else client


def rows(page: Any) -> list[str]:
    """Each row of the page's tables, its cells' texts joined by " | "."""
    return [" | ".join(cells) for cells in table_rows(page)]


def secret_in(element: ET.Element) -> str:
    """The one password shown (once) in ELEMENT: the <code class="secret">."""
    codes = [c for c in element.iter("code") if "secret" in (c.get("class") or "").split()]
    assert len(codes) == 1
    return text_of(codes[0])


def secret(page: Any) -> str:
    return secret_in(parse(page))


# --- adopters ---------------------------------------------------------------------------------------


def test_adopters_lists_the_tenants_and_schools_that_opted_in(t: Tenant) -> None:
    t.municipality.list_on_adopters_page = True
    t.municipality.save(update_fields=["list_on_adopters_page"])
    School.objects.filter(pk=t.school.pk).update(list_on_adopters_page=True)
    School.objects.create(municipality=t.municipality, name="Unlisted School", code="unlisted")
    Municipality.objects.create(region=t.municipality.region, name="Quiet Town")
    page = Client(enforce_csrf_checks=True).get("/adopters/")
    assert page.status_code == 200
    assert headings(page) == ["Adoption by local governments and schools"]
    # the country by its CLDR name in the reader's language (base/territories.py), not the stored spelling
    assert headings(page, "h2") == ["Japan"] and headings(page, "h3") == ["Region aaa"]
    tenants = [li for li in parse(page).iter("li") if (li.text or "").strip() == "Municipality aaa"]
    assert len(tenants) == 1
    assert [(li.text or "").strip() for li in tenants[0].iter("li") if li is not tenants[0]] == ["School aaa"]
    text = page_text(page)
    assert "Unlisted School" not in text and "Quiet Town" not in text
    assert actions_of(page) == []


# --- municipality_detail ----------------------------------------------------------------------------


def test_municipality_page_shows_the_boards_schools(t: Tenant) -> None:
    page = browser(t.municipal_admin).get(f"/municipalities/{t.municipality.pk}/")
    assert page.status_code == 200
    assert headings(page) == ["Municipality aaa"]
    assert "School aaa | school-aaa | 2 | 3" in rows(page)  # two classes, three pupils
    url = f"/municipalities/{t.municipality.pk}/"
    assert [(f.action, f.labels) for f in forms_of(page)] == [(url, ["Add school"]), (url, ["Save policies"])]


def test_municipality_policy_form_saves_the_policy(t: Tenant) -> None:
    client = browser(t.municipal_admin, step_up=True)
    url = f"/municipalities/{t.municipality.pk}/"
    form = form_on(client.get(url), url, "Save policies")
    assert form.fields["policy-graduate_retention_days"] == [str(t.municipality.graduate_retention_days)]
    response = form.submit(
        client,
        **{
            "policy-collect_name_reading": "on",
            "policy-graduate_retention_days": "400",
            "policy-list_on_adopters_page": "on",
        },
    )
    t.municipality.refresh_from_db()
    assert t.municipality.collect_name_reading is True
    assert (t.municipality.graduate_retention_days, t.municipality.list_on_adopters_page) == (400, True)
    assert (t.municipality.require_mfa_for_teachers, t.municipality.default_language) == (False, "en")  # as rendered
    page = follow(client, response, url)
    assert messages_of(page) == ["The policy has been saved."]
    saved = form_on(page, url, "Save policies")
    assert saved.fields["policy-collect_name_reading"] == ["on"]
    assert saved.fields["policy-graduate_retention_days"] == ["400"]
    assert AuditEntry.objects.filter(action="policy.changed", actor=t.municipal_admin).exists()


def test_municipality_school_form_creates_a_school(t: Tenant) -> None:
    client = browser(t.municipal_admin)
    url = f"/municipalities/{t.municipality.pk}/"
    form = form_on(client.get(url), url, "Add school")
    response = form.submit(
        client, **{"school-name": "North School", "school-code": "North-1", "school-list_on_adopters_page": "on"}
    )
    school = School.objects.get(code="north-1")
    assert (school.name, school.municipality, school.list_on_adopters_page) == ("North School", t.municipality, True)
    page = follow(client, response, f"/schools/{school.pk}/")
    assert messages_of(page) == ["The school has been created."]
    assert headings(page) == ["North School"]
    assert "North School | north-1 | 0 | 0" in rows(client.get(url))


# --- school_detail ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["school_admin", "municipal_admin"])
def test_school_page_shows_classes_and_people(t: Tenant, role: str) -> None:
    page = browser(getattr(t, role)).get(f"/schools/{t.school.pk}/")
    assert page.status_code == 200
    assert headings(page) == ["School aaa"]
    table = rows(page)
    # Members per class (the grade is not set: "–").
    assert "Class aaa-1 | 2026 | – | 3" in table and "Class aaa-2 | 2026 | – | 1" in table
    for person in (t.teacher, t.school_admin, t.student, t.classmate, t.other_class_student):
        assert any(row.startswith(person.display_name) for row in table), person.display_name
    assert t.municipal_admin.display_name not in " ".join(table)  # not a person of the school
    url = f"/schools/{t.school.pk}/"
    assert [f.labels for f in forms_of(page)] == [
        ["Add class"],
        ["Save"],
        ["Save"],
        ["Add student"],
        ["Add staff member"],
        ["Save pupil passwords"],
    ]
    assert {f.action for f in forms_of(page)} == {url}
    assert f"/schools/{t.school.pk}/roster/" in [a.get("href") for a in parse(page).iter("a")]


def test_school_class_form_creates_a_class(t: Tenant) -> None:
    client = browser(t.school_admin)
    url = f"/schools/{t.school.pk}/"
    form = form_on(client.get(url), url, "Add class")
    year = int(form.fields["class-school_year"][0])  # the current year, as rendered
    assert year == current_school_year()  # April–March: in January still last year's
    response = form.submit(client, **{"class-name": "Class aaa-3"})
    created = SchoolClass.objects.get(school=t.school, name="Class aaa-3")
    assert created.school_year == year
    page = follow(client, response, f"/classes/{created.pk}/")
    assert messages_of(page) == ["The class has been created."]
    assert headings(page) == [f"Class aaa-3 {year}"]


@pytest.mark.parametrize("reading", [False, True], ids=["without-reading", "with-reading"])
def test_school_student_form_creates_a_pupil_and_shows_the_first_password_once(t: Tenant, reading: bool) -> None:
    t.municipality.collect_name_reading = reading
    t.municipality.save(update_fields=["collect_name_reading"])
    client = browser(t.school_admin)
    url = f"/schools/{t.school.pk}/"
    form = form_on(client.get(url), url, "Add student")
    typed = {"student-display_name": "Hana Mori", "student-student_number": "aaa777"}
    if reading:
        typed["student-name_reading"] = "もり はな"
    else:
        assert "student-name_reading" not in [c.name for c in form.controls]  # not asked (minimum acquisition)
    page = form.submit(client, **typed)
    assert page.status_code == 201
    assert page["Cache-Control"] == "no-store"
    assert "Hana Mori has been created." in page_text(page) and "aaa777" in page_text(page)
    password = secret(page)
    pupil = User.objects.get(username=student_username(t.school, "aaa777"))
    assert (pupil.role, pupil.school, pupil.display_name) == (Role.STUDENT, t.school, "Hana Mori")
    assert pupil.name_reading == ("もり はな" if reading else "")
    assert authenticate(None, school_code=t.school.code, student_number="aaa777", password=password) == pupil
    fresh = form_on(page, url, "Add student")  # the form is empty again
    assert fresh.fields["student-display_name"] == [""]


@pytest.mark.parametrize("role", [Role.TEACHER, Role.SCHOOL_ADMIN])
def test_school_staff_form_creates_a_staff_member(t: Tenant, role: str) -> None:
    client = browser(t.school_admin, step_up=role == Role.SCHOOL_ADMIN)  # a new administrator needs step-up
    url = f"/schools/{t.school.pk}/"
    form = form_on(client.get(url), url, "Add staff member")
    assert form.fields["staff-role"] == [Role.TEACHER] and form.choices("staff-role") == [
        Role.TEACHER,
        Role.SCHOOL_ADMIN,
    ]
    typed = {"staff-display_name": "Ken Ito", "staff-login_id": "aaa-ken.ito"}
    if role != Role.TEACHER:
        typed["staff-role"] = role
    page = form.submit(client, **typed)
    assert page.status_code == 201
    assert "Ken Ito has been created." in page_text(page) and "aaa-ken.ito" in page_text(page)
    staff = User.objects.get(username="aaa-ken.ito")
    assert (staff.role, staff.school, staff.municipality) == (role, t.school, t.municipality)
    assert staff.check_password(secret(page))
    assert any(row.startswith("Ken Ito") for row in rows(page))


# --- class_detail, remove_member ---------------------------------------------------------------------


def test_class_page_for_the_teacher(t: Tenant) -> None:
    page = browser(t.teacher).get(f"/classes/{t.school_class.pk}/")
    assert page.status_code == 200
    assert headings(page) == ["Class aaa-1 2026"]
    table = rows(page)
    assert "Pupil aaa001 aaa | Student | aaa001" in table and "Pupil aaa002 aaa | Student | aaa002" in table
    assert "Staff teacher aaa | Teacher | " in table
    assert "Pupil aaa901 aaa" not in page_text(page)
    assert f"/lessons/{t.lesson.pk}/" in [a.get("href") for a in parse(page).iter("a")]
    assert f"/classes/{t.school_class.pk}/login-cards/" in [a.get("href") for a in parse(page).iter("a")]
    assert actions_of(page) == [f"/classes/{t.school_class.pk}/lessons/"]


def test_class_page_for_a_student_shows_the_teachers_not_the_roster(t: Tenant) -> None:
    page = browser(t.student).get(f"/classes/{t.school_class.pk}/")
    assert page.status_code == 200
    assert headings(page) == ["Class aaa-1 2026"]
    assert "Teachers" in headings(page, "h2")
    assert rows(page)[1:] == ["Staff teacher aaa | Teacher"]
    assert "Pupil aaa002 aaa" not in page_text(page)
    assert "Lesson aaa" in page_text(page)
    assert actions_of(page) == []


@pytest.mark.parametrize("role", ["school_admin", "municipal_admin"])
def test_class_page_for_an_administrator(t: Tenant, role: str) -> None:
    page = browser(getattr(t, role)).get(f"/classes/{t.school_class.pk}/")
    assert page.status_code == 200
    assert headings(page) == ["Class aaa-1 2026"]
    assert "Pupil aaa001 aaa | Student | aaa001 | Remove" in rows(page)
    members = (t.teacher, t.student, t.classmate)
    url = f"/classes/{t.school_class.pk}/"
    assert actions_of(page) == [f"{url}members/{m.pk}/remove/" for m in members] + [url]
    add = form_on(page, url, "Add")
    assert add.choices("user") == ["", str(t.school_admin.pk), str(t.other_class_student.pk)]
    assert add.choices("role") == ["student", "teacher"]


@pytest.mark.parametrize("role", ["school_admin", "municipal_admin"])
def test_class_add_member_form_adds_a_pupil(t: Tenant, role: str) -> None:
    admin = getattr(t, role)
    client = browser(admin)
    url = f"/classes/{t.school_class.pk}/"
    form = form_on(client.get(url), url, "Add")
    response = form.submit(client, user=str(t.other_class_student.pk))  # "Student" selected as rendered
    assert Membership.objects.filter(school_class=t.school_class, user=t.other_class_student, role="student").exists()
    page = follow(client, response, url)
    assert "Pupil aaa901 aaa | Student | aaa901 | Remove" in rows(page)
    assert str(t.other_class_student.pk) not in form_on(page, url, "Add").choices("user")
    entry = AuditEntry.objects.get(action="membership.added")
    assert entry.actor_id == admin.pk and entry.details["role"] == "student"


def test_class_add_member_form_adds_the_school_admin_as_a_teacher(t: Tenant) -> None:
    client = browser(t.school_admin)
    url = f"/classes/{t.school_class.pk}/"
    form = form_on(client.get(url), url, "Add")
    follow(client, form.submit(client, user=str(t.school_admin.pk), role="teacher"), url)
    assert Membership.objects.get(school_class=t.school_class, user=t.school_admin).role == "teacher"
    assert f"{url}lessons/" in actions_of(client.get(url))  # now they may open a lesson


@pytest.mark.parametrize("role", ["school_admin", "municipal_admin"])
def test_remove_member_form_removes_the_member(t: Tenant, role: str) -> None:
    client = browser(getattr(t, role))
    url = f"/classes/{t.school_class.pk}/"
    form = form_on(client.get(url), f"{url}members/{t.classmate.pk}/remove/", "Remove")
    page = follow(client, form.submit(client), url)
    assert not Membership.objects.filter(school_class=t.school_class, user=t.classmate).exists()
    assert User.objects.filter(pk=t.classmate.pk, is_active=True).exists()  # out of the class, not deleted
    assert "Pupil aaa002 aaa" not in " ".join(rows(page))
    assert str(t.classmate.pk) in form_on(page, url, "Add").choices("user")
    assert AuditEntry.objects.filter(action="membership.removed").count() == 1


# --- user_detail ------------------------------------------------------------------------------------


def test_user_page_for_the_teacher_of_a_pupil(t: Tenant) -> None:
    page = browser(t.teacher).get(f"/users/{t.student.pk}/")
    assert page.status_code == 200
    assert headings(page) == ["Pupil aaa001 aaa"]
    assert "Student · Student ID aaa001" in page_text(page)
    assert f"/classes/{t.school_class.pk}/" in [a.get("href") for a in parse(page).iter("a")]
    forms = forms_of(page)
    assert [(f.action, f.labels) for f in forms] == [
        (f"/users/{t.student.pk}/password/", ["New password"]),
        (f"/users/{t.student.pk}/login-card/revoke/", ["Revoke login card"]),
    ]
    assert forms[1].buttons[0].disabled  # no login card to revoke
    assert AuditEntry.objects.get(action="account.viewed").actor_id == t.teacher.pk


def test_user_page_for_a_school_admin_offers_graduation_and_deactivation(t: Tenant) -> None:
    page = browser(t.school_admin).get(f"/users/{t.student.pk}/")
    assert page.status_code == 200 and headings(page) == ["Pupil aaa001 aaa"]
    base = f"/users/{t.student.pk}/"
    expected = [f"{base}password/", f"{base}login-card/revoke/", f"{base}left/", f"{base}active/"]
    assert actions_of(page) == expected
    assert "Who viewed this person's work" in page_text(page)


def test_user_page_for_the_municipal_admin_of_a_teacher(t: Tenant) -> None:
    page = browser(t.municipal_admin).get(f"/users/{t.teacher.pk}/")
    assert page.status_code == 200 and headings(page) == ["Staff teacher aaa"]
    assert f"Login ID {t.teacher.username}" in page_text(page)
    assert "Class aaa-1 (2026)" in page_text(page)
    assert actions_of(page) == [f"/users/{t.teacher.pk}/password/", f"/users/{t.teacher.pk}/active/"]


def test_user_page_new_password_form(t: Tenant) -> None:
    client = browser(t.teacher, step_up=True)
    form = form_on(client.get(f"/users/{t.student.pk}/"), f"/users/{t.student.pk}/password/", "New password")
    page = form.submit(client)
    assert page.status_code == 200 and headings(page) == ["New password"]
    password = text_of(next(next(p for p in parse(page).iter("p") if p.get("class") == "secret").iter("code")))
    t.student.refresh_from_db()
    assert t.student.check_password(password)


def test_user_page_revoke_login_card_form(t: Tenant) -> None:
    issue_login_card(t.student, issued_by=t.teacher)
    card = LoginCard.objects.get(user=t.student, revoked_at__isnull=True)
    client = browser(t.teacher)
    url = f"/users/{t.student.pk}/"
    form = form_on(client.get(url), f"{url}login-card/revoke/", "Revoke login card")
    page = follow(client, form.submit(client), url)
    assert messages_of(page) == ["The login card of Pupil aaa001 aaa no longer works."]
    card.refresh_from_db()
    assert card.revoked_at is not None
    assert form_on(page, f"{url}login-card/revoke/").buttons[0].disabled


# --- set_user_left, set_user_active ------------------------------------------------------------------


@pytest.mark.parametrize("days", [0, 120], ids=["today", "later"])
def test_set_user_left_records_the_day_a_pupil_leaves(t: Tenant, days: int) -> None:
    client = browser(t.school_admin, step_up=True)
    url = f"/users/{t.student.pk}/"
    form = form_on(client.get(url), f"{url}left/", "Save")
    assert form.fields["left_on"] == [""]
    day = timezone.localdate() + datetime.timedelta(days=days)
    page = follow(client, form.submit(client, left_on=day.isoformat()), url)
    assert messages_of(page) == ["The account has been updated."]
    t.student.refresh_from_db()
    assert t.student.left_on == day
    assert t.student.is_active is (days > 0)  # a day already reached ends the account
    assert form_on(page, f"{url}left/").fields["left_on"] == [day.isoformat()]
    assert ("deactivated" in page_text(page)) is (days == 0)


@pytest.mark.parametrize(("role", "person"), [("school_admin", "student"), ("municipal_admin", "teacher")])
def test_set_user_active_deactivates_and_reactivates(t: Tenant, role: str, person: str) -> None:
    target: User = getattr(t, person)
    client = browser(getattr(t, role), step_up=True)
    url = f"/users/{target.pk}/"
    form = form_on(client.get(url), f"{url}active/", "Deactivate")
    page = follow(client, form.submit(client), url)
    assert messages_of(page) == ["The account has been updated."]
    target.refresh_from_db()
    assert target.is_active is False
    assert "deactivated" in page_text(page)
    assert browser(target).get("/home/").status_code == 302  # can no longer use the site

    page = follow(client, form_on(page, f"{url}active/", "Reactivate").submit(client), url)
    assert messages_of(page) == ["The account has been updated."]
    target.refresh_from_db()
    assert target.is_active is True
    assert form_on(page, f"{url}active/").labels == ["Deactivate"]


# --- roster_import ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["school_admin", "municipal_admin"])
def test_roster_import_upload_preview_confirm(t: Tenant, role: str) -> None:
    client = browser(getattr(t, role), step_up=True)
    url = f"/schools/{t.school.pk}/roster/"
    page = client.get(url)
    assert page.status_code == 200
    assert headings(page) == ["Import pupils from a CSV file"]
    form = form_on(page, url, "Check the file")
    assert form.enctype == "multipart/form-data" and form.fields["school_year"] == ["2026"]
    csv = "Student ID,Name,Class\nS001,Aiko Tanaka,Class aaa-1\nS002,鈴木 花子,Class aaa-2\n".encode()
    preview = form.submit(client, file=upload("pupils.csv", csv, "text/csv"))
    assert preview.status_code == 200
    assert headings(preview) == ["Check the import"]
    assert "2 new pupils" in page_text(preview)
    assert "2 | S001 | Aiko Tanaka | Class aaa-1 | New pupil | " in rows(preview)
    assert not User.objects.filter(student_number__in=["S001", "S002"]).exists()  # nothing saved yet

    confirm = form_on(preview, url, "Import 2 lines")
    done = confirm.submit(client)
    assert done.status_code == 201
    assert headings(done) == ["Pupils imported"]
    aiko = User.objects.get(username=student_username(t.school, "S001"))
    hanako = User.objects.get(username=student_username(t.school, "S002"))
    assert Membership.objects.filter(user=aiko, school_class=t.school_class, role="student").exists()
    assert Membership.objects.filter(user=hanako, school_class=t.other_class, role="student").exists()
    slips = {
        text_of(next(li.iter("strong"))): secret_in(li)
        for li in parse(done).iter("li")
        if "login-card" in (li.get("class") or "").split()
    }
    assert set(slips) == {"Aiko Tanaka", "鈴木 花子"}
    assert authenticate(None, school_code=t.school.code, student_number="S001", password=slips["Aiko Tanaka"]) == aiko
