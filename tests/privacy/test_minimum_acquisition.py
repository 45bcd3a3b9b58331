"""Minimum acquisition: a pupil is the least the lesson needs (display name, student ID, class);
anything more is optional per tenant, declared optional in the inventory, and asked only where
the tenant chose to record it."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from classnote.accounts import actions as account_actions
from classnote.accounts.models import User
from classnote.audit.models import AuditEntry
from classnote.base.errors import ActionError
from classnote.privacy import inventory
from classnote.tenancy.models import Municipality
from tests.conftest import Tenant, fresh_login, login_as


def test_the_reading_of_names_is_declared_optional() -> None:
    entry = next(e for e in inventory.entries() if (e["model"], e["field"]) == ("accounts.User", "name_reading"))
    assert entry["optional"] is True
    required = {
        e["field"] for e in inventory.entries() if e["model"] == "accounts.User" and e["category"] == "identifier"
    }
    assert required == {"display_name", "username", "student_number", "name_reading"}


def test_the_reading_is_asked_only_where_the_tenant_records_it(tenant_a: Tenant) -> None:
    client = login_as(Client(), tenant_a.school_admin)
    page = client.get(f"/schools/{tenant_a.school.pk}/").content.decode()
    assert "student-name_reading" not in page
    # Sent anyway: ignored by the form, refused by the action.
    client.post(
        f"/schools/{tenant_a.school.pk}/",
        {"form": "student", "student-display_name": "New", "student-student_number": "n1", "student-name_reading": "x"},
    )
    assert User.objects.get(student_number="n1").name_reading == ""
    try:
        account_actions.create_student(
            tenant_a.school_admin, tenant_a.school, display_name="A", student_number="n2", name_reading="b"
        )
    except ActionError:
        pass
    else:
        raise AssertionError("optional data was accepted where the tenant does not record it")

    Municipality.objects.filter(pk=tenant_a.municipality.pk).update(collect_name_reading=True)
    page = client.get(f"/schools/{tenant_a.school.pk}/").content.decode()
    assert "student-name_reading" in page
    client.post(
        f"/schools/{tenant_a.school.pk}/",
        {
            "form": "student",
            "student-display_name": "New",
            "student-student_number": "n3",
            "student-name_reading": "しん",
        },
    )
    assert User.objects.get(student_number="n3").name_reading == "しん"


def test_the_municipal_admin_sets_retention_and_optional_data_as_policy(tenant_a: Tenant) -> None:
    client = fresh_login(Client(), tenant_a.municipal_admin)
    response = client.post(
        f"/municipalities/{tenant_a.municipality.pk}/",
        {
            "policy-default_language": "ja",
            "policy-max_upload_mb": "20",
            "policy-collect_name_reading": "on",
            "policy-graduate_retention_days": "180",
            "policy-contract_end_retention_days": "60",
        },
    )
    assert response.status_code == 302
    tenant_a.municipality.refresh_from_db()
    assert tenant_a.municipality.collect_name_reading and tenant_a.municipality.graduate_retention_days == 180
    assert AuditEntry.objects.filter(action="policy.changed").exists()
    bad = client.post(
        f"/municipalities/{tenant_a.municipality.pk}/",
        {"policy-default_language": "ja", "policy-max_upload_mb": "20", "policy-graduate_retention_days": "-5"},
    )
    assert bad.status_code == 400


def test_graduation_is_recorded_and_ends_the_account(tenant_a: Tenant) -> None:
    client = fresh_login(Client(), tenant_a.school_admin)
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    assert client.post(f"/users/{tenant_a.student.pk}/left/", {"left_on": yesterday}).status_code == 302
    tenant_a.student.refresh_from_db()
    assert tenant_a.student.left_on.isoformat() == yesterday and not tenant_a.student.is_active
    assert client.post(f"/users/{tenant_a.student.pk}/left/", {"left_on": "31/03/2027"}).status_code == 400
    assert client.post(f"/users/{tenant_a.teacher.pk}/left/", {"left_on": yesterday}).status_code == 400
    # A teacher cannot record it.
    assert (
        login_as(Client(), tenant_a.teacher)
        .post(f"/users/{tenant_a.classmate.pk}/left/", {"left_on": yesterday})
        .status_code
        == 403
    )
