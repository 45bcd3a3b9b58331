"""Operator commands: demo data, tenant creation; and the public adopters page they feed."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from classnote.accounts.models import User
from classnote.base.roles import Role
from classnote.tenancy.models import Municipality
from tests.conftest import Tenant


def test_demo_creates_tenants_from_the_adopters_list_once(db: None) -> None:
    out = StringIO()
    call_command("demo", stdout=out)
    assert "Demo data created." in out.getvalue()
    names = set(Municipality.objects.values_list("name", flat=True))
    assert {
        "横浜市教育委員会",
        "仙台市教育委員会",
        "臺北市政府教育局",
        "Hon Wah College",
    } <= names
    assert User.objects.filter(role=Role.STUDENT).count() >= 60
    printed = out.getvalue()
    assert "yokohama-teacher11" in printed and "yk-minato-es / 1001" in printed
    again = StringIO()
    call_command("demo", stdout=again)
    assert "already there" in again.getvalue()
    assert Municipality.objects.filter(name="横浜市教育委員会").count() == 1


def test_demo_logins_work(db: None) -> None:
    from classnote.demo.management.commands.demo import read_logins

    call_command("demo", stdout=StringIO())
    rows = {role: (login, password) for _where, role, login, password in read_logins()}
    code, number = rows["student"][0].split(" / ")
    client = Client()
    assert (
        client.post(
            "/login/student/", {"school_code": code, "student_number": number, "password": rows["student"][1]}
        ).status_code
        == 302
    )
    teacher = Client()
    assert (
        teacher.post("/accounts/login/", {"login": rows["teacher"][0], "password": rows["teacher"][1]}).status_code
        == 302
    )
    assert teacher.get("/home/").status_code == 200


def test_adopters_page_groups_opted_in_tenants_by_country_and_region(db: None) -> None:
    call_command("demo", stdout=StringIO())
    Municipality.objects.filter(name="仙台市教育委員会").update(list_on_adopters_page=False)
    body = Client().get("/adopters/").content.decode()
    assert body.index("Japan") < body.index("神奈川県") < body.index("横浜市教育委員会")
    assert body.index("Japan") < body.index("Taiwan") < body.index("Hong Kong")
    assert "仙台市" not in body  # opted out
    assert "港小学校" in body


def test_create_tenant(db: None) -> None:
    out = StringIO()
    call_command(
        "create_tenant",
        country="JP",
        country_name="Japan",
        region="Miyagi Prefecture",
        name="Kesennuma City Board of Education",
        language="ja",
        admin_login="kesennuma-admin",
        admin_name="ICT office",
        stdout=out,
    )
    admin = User.objects.get(username="kesennuma-admin")
    assert admin.role == Role.MUNICIPAL_ADMIN and admin.requires_mfa()
    assert admin.municipality.default_language == "ja"
    assert "One-time password" in out.getvalue()
    with pytest.raises(CommandError):
        call_command(
            "create_tenant",
            country="JP",
            region="Miyagi Prefecture",
            name="Another",
            admin_login="kesennuma-admin",
            admin_name="x",
            stdout=StringIO(),
        )


def test_tenant_admins_manage_only_their_own_schools(tenant_a: Tenant, tenant_b: Tenant) -> None:
    from tests.conftest import login_as

    client = login_as(Client(), tenant_a.municipal_admin)
    page = client.get(f"/municipalities/{tenant_a.municipality.pk}/").content.decode()
    assert tenant_a.school.name in page and tenant_b.school.name not in page
    created = client.post(
        f"/municipalities/{tenant_a.municipality.pk}/",
        {"school-name": "New School", "school-code": "new-school"},
    )
    assert created.status_code == 302
    assert tenant_a.municipality.schools.filter(code="new-school").exists()
