"""Operator support access: the operator sees no tenant data until the tenant's municipal admin
grants time-limited access for a ticket; then only schools, classes and users' display names and
roles, never lesson content; every such read is in the tenant's audit log; without a running
grant it is refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from classnote.accounts.models import User
from classnote.audit.models import AuditEntry
from classnote.base.roles import Role
from classnote.cards.models import Card
from classnote.privacy import views
from classnote.privacy.models import SupportGrant
from tests.conftest import PASSWORD, Tenant, fresh_login, login_as


@pytest.fixture
def operator(db: None) -> User:
    return User.objects.create_user("support-1", PASSWORD, display_name="Support Person", role=Role.OPERATOR)


def grant(tenant: Tenant, **form: str) -> Client:
    client = fresh_login(Client(), tenant.municipal_admin)
    data = {"reference": "T-2026-0415", "reason": "accounts", "hours": "8"} | form
    client.post("/privacy/support/", data)
    return client


def tenant_page(tenant: Tenant) -> str:
    return f"/privacy/support/municipalities/{tenant.municipality.pk}/"


def test_without_a_grant_the_operator_sees_nothing(tenant_a: Tenant, operator: User) -> None:
    client = login_as(Client(), operator)
    assert client.get(tenant_page(tenant_a)).status_code == 404
    assert tenant_a.municipality.name not in client.get("/privacy/support/").content.decode()
    for path in (
        f"/schools/{tenant_a.school.pk}/",
        f"/classes/{tenant_a.school_class.pk}/",
        f"/users/{tenant_a.student.pk}/",
        f"/municipalities/{tenant_a.municipality.pk}/",
        "/statistics/",
    ):
        assert client.get(path).status_code in (403, 404), path
    assert client.get("/api/classes").json() == []


def test_a_municipal_admin_grants_access_and_the_operator_sees_names_and_roles_only(
    tenant_a: Tenant, operator: User
) -> None:
    admin = grant(tenant_a)
    support_grant = SupportGrant.objects.get(municipality=tenant_a.municipality)
    assert support_grant.active and support_grant.granted_by == tenant_a.municipal_admin
    assert timedelta(hours=7) < support_grant.expires_at - timezone.now() <= timedelta(hours=8)
    assert AuditEntry.objects.filter(action="support.granted", municipality_id=tenant_a.municipality.pk).exists()

    client = login_as(Client(), operator)
    assert tenant_a.municipality.name in client.get("/privacy/support/").content.decode()
    response = client.get(tenant_page(tenant_a))
    assert response.status_code == 200
    body = response.content.decode()
    for shown in (tenant_a.school.name, tenant_a.school_class.name, tenant_a.student.display_name, "T-2026-0415"):
        assert shown in body
    # Never login IDs, student IDs or anything of the lesson.
    for hidden in (
        tenant_a.student.username,  # holds the student ID (the fixture's display names hold it too)
        tenant_a.teacher.username,
        tenant_a.lesson.title,
        tenant_a.card.title,
        tenant_a.card.text,
    ):
        assert hidden not in body

    entry = AuditEntry.objects.get(action="support.viewed")
    assert entry.actor_id == operator.pk and entry.municipality_id == tenant_a.municipality.pk
    assert entry.details == {"purpose": "support", "grant": support_grant.pk}
    # The municipal admin sees the operator's read in their audit log.
    assert "support.viewed" in admin.get("/audit/").content.decode()


def test_a_grant_never_opens_lesson_content(tenant_a: Tenant, operator: User) -> None:
    grant(tenant_a)
    client = login_as(Client(), operator)
    pupil_card = Card.objects.get(origin=tenant_a.card, owner=tenant_a.student)
    for path in (
        f"/cards/{pupil_card.pk}/",
        f"/lessons/{tenant_a.lesson.pk}/",
        f"/files/{tenant_a.file.pk}/",
        f"/boxes/{tenant_a.box.pk}/compare/?s={tenant_a.submission.pk}",
        f"/users/{tenant_a.student.pk}/portfolio.zip",
        f"/api/cards/{pupil_card.pk}",
        f"/api/boxes/{tenant_a.box.pk}/submissions",
    ):
        response = client.get(path)
        assert response.status_code in (401, 403, 404), path
        assert tenant_a.card.text.encode() not in response.content


def test_a_grant_for_one_tenant_opens_no_other(tenant_a: Tenant, tenant_b: Tenant, operator: User) -> None:
    grant(tenant_a)
    client = login_as(Client(), operator)
    assert client.get(tenant_page(tenant_b)).status_code == 404
    assert tenant_b.municipality.name not in client.get("/privacy/support/").content.decode()


def test_an_expired_or_revoked_grant_is_refused(tenant_a: Tenant, tenant_b: Tenant, operator: User) -> None:
    admin = grant(tenant_a)
    client = login_as(Client(), operator)
    support_grant = SupportGrant.objects.get()
    # Another board's admin cannot end it; the tenant's own admin can.
    outsider = login_as(Client(), tenant_b.municipal_admin)
    assert outsider.post(f"/privacy/support/{support_grant.pk}/revoke/").status_code == 404
    assert client.get(tenant_page(tenant_a)).status_code == 200
    assert admin.post(f"/privacy/support/{support_grant.pk}/revoke/").status_code == 302
    assert client.get(tenant_page(tenant_a)).status_code == 404
    assert AuditEntry.objects.filter(action="support.revoked").count() == 1

    grant(tenant_a)
    SupportGrant.objects.filter(revoked_at__isnull=True).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get(tenant_page(tenant_a)).status_code == 404
    assert AuditEntry.objects.filter(action="support.viewed").count() == 1


def test_only_a_municipal_admin_grants_and_bad_input_is_refused(tenant_a: Tenant) -> None:
    for user in (tenant_a.school_admin, tenant_a.teacher, tenant_a.student):
        response = login_as(Client(), user).post(
            "/privacy/support/", {"reference": "T-1", "reason": "fault", "hours": "8"}
        )
        assert response.status_code == 403
    admin = fresh_login(Client(), tenant_a.municipal_admin)
    for bad in (
        {"reference": "", "reason": "fault", "hours": "8"},
        {"reference": "<script>", "reason": "fault", "hours": "8"},
        {"reference": "T-1", "reason": "because", "hours": "8"},
        {"reference": "T-1", "reason": "fault", "hours": "100000"},
    ):
        assert admin.post("/privacy/support/", bad).status_code == 400
    assert not SupportGrant.objects.exists()


def test_support_reads_are_checked_against_the_inventory(
    tenant_a: Tenant, operator: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    grant(tenant_a)
    monkeypatch.setattr(views, "SUPPORT_READS", {**views.SUPPORT_READS, User: ["display_name", "student_number"]})
    assert login_as(Client(), operator).get(tenant_page(tenant_a)).status_code == 403
    refused = AuditEntry.objects.get(action="privacy.read_refused")
    assert refused.details["purpose"] == "support" and refused.details["fields"] == ["student_number"]
    assert not AuditEntry.objects.filter(action="support.viewed").exists()
