"""Statistics for school and municipal admins never expose a group smaller than
PRIVACY_MIN_GROUP_SIZE, not even by subtracting the rows shown from a total; they show only the
admin's own tenant; pupils and teachers cannot see them."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from classnote.accounts.models import User, student_username
from classnote.base.roles import Role
from classnote.stats import figures
from classnote.stats.figures import Row
from classnote.tenancy.models import Membership, SchoolClass
from tests.conftest import Tenant, login_as


@pytest.fixture(autouse=True)
def minimum(settings: Any) -> int:
    settings.PRIVACY_MIN_GROUP_SIZE = 5
    return 5


def add_pupils(tenant: Tenant, school_class: SchoolClass, count: int, start: int) -> None:
    for number in range(start, start + count):
        pupil = User.objects.create_user(
            student_username(tenant.school, f"s{number}"),
            None,
            display_name=f"Extra pupil {number}",
            role=Role.STUDENT,
            municipality=tenant.municipality,
            school=tenant.school,
            student_number=f"s{number}",
        )
        Membership.objects.create(school_class=school_class, user=pupil, role="student")


def classes_of(report: list[figures.SchoolReport], school: str) -> dict[str, dict[str, Any]]:
    [found] = [s for s in report if s.name == school]
    return {name: shown for name, _, shown in found.classes}


def test_small_classes_and_their_complements_are_suppressed(tenant_a: Tenant) -> None:
    # Class aaa-1: 2 + 4 = 6 pupils; class aaa-2: 1 pupil; a third class of exactly 5.
    add_pupils(tenant_a, tenant_a.school_class, 4, 100)
    third = SchoolClass.objects.create(school=tenant_a.school, name="Class aaa-3", school_year=2026)
    add_pupils(tenant_a, third, 5, 200)
    report = figures.report_for(tenant_a.school_admin)
    rows = classes_of(report, tenant_a.school.name)
    big = rows[tenant_a.school_class.name]
    assert big == {
        "hidden": False,
        "pupils": 6,
        "lessons": 1,
        "submissions": 1,
        "late_share": 0,
        "per_pupil": 0.2,
    }
    # The one-pupil class is hidden for its size; the class of 5 is hidden too, or the school's
    # total minus the first class would give the small class away.
    assert rows[tenant_a.other_class.name] == {"hidden": True, "too_small": True}
    assert rows["Class aaa-3"] == {"hidden": True, "too_small": False}
    [school] = report
    assert school.total["pupils"] == 12 and not school.total["hidden"]

    page = login_as(Client(), tenant_a.school_admin).get("/statistics/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Class aaa-3" in body and tenant_a.school_class.name in body


def test_a_school_smaller_than_the_minimum_shows_nothing(tenant_a: Tenant, settings: Any) -> None:
    settings.PRIVACY_MIN_GROUP_SIZE = 10
    [school] = figures.report_for(tenant_a.municipal_admin)
    assert school.total == {"hidden": True, "too_small": True}
    assert all(shown["hidden"] for _, _, shown in school.classes)


@given(st.lists(st.frozensets(st.integers(min_value=1, max_value=40), max_size=15), max_size=8))
def test_hidden_rows_together_are_empty_or_large_enough(groups: list[frozenset[int]]) -> None:
    rows = [Row(f"c{index}", people) for index, people in enumerate(groups)]
    figures.suppress(rows, 5)
    hidden = frozenset().union(*(row.people for row in rows if row.suppressed))
    shown = [row for row in rows if not row.suppressed]
    assert all(row.pupils >= 5 for row in shown)
    assert len(hidden) == 0 or len(hidden) >= 5 or not shown


def test_only_the_admins_own_tenant_is_shown(tenant_a: Tenant, tenant_b: Tenant) -> None:
    add_pupils(tenant_b, tenant_b.school_class, 6, 300)
    for admin in (tenant_a.municipal_admin, tenant_a.school_admin):
        body = login_as(Client(), admin).get("/statistics/").content.decode()
        assert tenant_a.school.name in body
        for marker in (tenant_b.school.name, tenant_b.school_class.name, tenant_b.other_class.name):
            assert marker not in body
    assert [s.name for s in figures.report_for(tenant_b.school_admin)] == [tenant_b.school.name]


def test_pupils_and_teachers_are_refused(tenant_a: Tenant) -> None:
    for user in (tenant_a.student, tenant_a.teacher):
        assert login_as(Client(), user).get("/statistics/").status_code == 403
    assert Client().get("/statistics/").status_code == 302  # to the login page
