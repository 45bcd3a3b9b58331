"""The audit log is append-only and tamper-evident: `classnote audit verify` names any entry that was
edited or deleted directly in the database. Staff actions and staff reads of pupils' work are logged,
and each tenant's admins see their own tenant's log only."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from classnote.accounts import actions as account_actions
from classnote.audit.models import AuditEntry
from classnote.cards.models import Card
from classnote.tenancy import actions as tenancy_actions
from tests.conftest import Tenant, login_as


def verify() -> str:
    out = StringIO()
    call_command("audit", "verify", stdout=out)
    return out.getvalue()


def some_entries(tenant: Tenant) -> None:
    account_actions.reset_password(tenant.teacher, tenant.student.pk)
    tenancy_actions.update_policy(tenant.municipal_admin, tenant.municipality, require_mfa_for_teachers=True)
    account_actions.issue_login_cards(tenant.teacher, tenant.school_class)


def test_actions_are_logged_and_the_chain_verifies(tenant_a: Tenant) -> None:
    some_entries(tenant_a)
    actions = list(AuditEntry.objects.values_list("action", flat=True))
    assert {"account.password_reset", "policy.changed", "login_cards.issued"} <= set(actions)
    assert "intact" in verify()


def test_an_edited_entry_is_detected_and_named(tenant_a: Tenant) -> None:
    some_entries(tenant_a)
    victim = AuditEntry.objects.get(action="account.password_reset")
    AuditEntry.objects.filter(pk=victim.pk).update(actor_role="student")  # a direct database edit
    with pytest.raises(CommandError, match=rf"entry #{victim.pk}: its content was edited"):
        verify()


def test_a_deleted_entry_is_detected(tenant_a: Tenant) -> None:
    some_entries(tenant_a)
    middle = AuditEntry.objects.get(action="policy.changed")
    following = AuditEntry.objects.filter(pk__gt=middle.pk).order_by("pk").first()
    AuditEntry.objects.filter(pk=middle.pk).delete()
    with pytest.raises(CommandError, match=rf"entry #{following.pk}: the entry before it was removed"):
        verify()


def test_removing_the_last_entries_is_detected(tenant_a: Tenant) -> None:
    some_entries(tenant_a)
    AuditEntry.objects.filter(pk=AuditEntry.objects.latest("pk").pk).delete()
    with pytest.raises(CommandError, match="entries at the end were removed"):
        verify()


def test_a_teacher_opening_a_pupils_card_is_logged(tenant_a: Tenant) -> None:
    pupil_card = Card.objects.get(origin=tenant_a.card, owner=tenant_a.student)
    login_as(Client(), tenant_a.teacher).get(f"/cards/{pupil_card.pk}/")
    entry = AuditEntry.objects.get(action="card.viewed")
    assert entry.actor_id == tenant_a.teacher.pk and entry.subject_id == tenant_a.student.pk
    login_as(Client(), tenant_a.student).get(f"/cards/{pupil_card.pk}/")  # the owner: not logged
    assert AuditEntry.objects.filter(action="card.viewed").count() == 1


def test_each_tenant_sees_only_its_own_log(tenant_a: Tenant, tenant_b: Tenant) -> None:
    some_entries(tenant_a)
    some_entries(tenant_b)
    page = login_as(Client(), tenant_a.municipal_admin).get("/audit/").content.decode()
    assert "policy.changed" in page and tenant_a.teacher.display_name in page
    assert tenant_b.teacher.display_name not in page
    school_page = login_as(Client(), tenant_a.school_admin).get("/audit/").content.decode()
    assert "account.password_reset" in school_page
    assert login_as(Client(), tenant_a.teacher).get("/audit/").status_code == 403
