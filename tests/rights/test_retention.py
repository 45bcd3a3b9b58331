"""Retention: graduates' data after the tenant's period, a tenant's data after contract end (only
once its export was offered), old replay events; a dry run changes nothing; receipts are written."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

from django.core.management import call_command
from django.utils import timezone

from classnote.accounts.models import User
from classnote.audit.log import verify
from classnote.realtime.models import Event
from classnote.rights import retention
from classnote.rights.models import DeletionReceipt
from classnote.tenancy.models import Municipality, School
from tests.conftest import Tenant


def _graduate(tenant: Tenant, days_ago: int) -> None:
    tenant.student.left_on = timezone.localdate() - timedelta(days=days_ago)
    tenant.student.save(update_fields=["left_on"])


def test_a_dry_run_shows_what_would_go_and_changes_nothing(tenant_a: Tenant) -> None:
    _graduate(tenant_a, 400)  # the default period is 365 days
    out = StringIO()
    call_command("retention", "--dry-run", stdout=out)
    text = out.getvalue()
    assert "DRY RUN" in text and "graduated or departed pupils past retention: 1" in text
    assert "would delete       1 accounts.User" in text
    assert User.objects.filter(pk=tenant_a.student.pk).exists()
    assert not DeletionReceipt.objects.exists()


def test_graduates_are_deleted_after_the_tenants_period_with_a_receipt(tenant_a: Tenant) -> None:
    _graduate(tenant_a, 30)
    tenant_a.classmate.left_on = timezone.localdate() - timedelta(days=400)
    tenant_a.classmate.save(update_fields=["left_on"])
    report = retention.run(dry_run=False)
    assert report.graduates == 1
    assert User.objects.filter(pk=tenant_a.student.pk).exists()  # within the period
    assert not User.objects.filter(pk=tenant_a.classmate.pk).exists()
    receipt = DeletionReceipt.objects.get()
    assert receipt.reason == "graduation" and receipt.performed_by_id is None and receipt.role == "student"
    # A shorter period set by the tenant applies to the other pupil too.
    Municipality.objects.filter(pk=tenant_a.municipality.pk).update(graduate_retention_days=7)
    retention.run(dry_run=False)
    assert not User.objects.filter(pk=tenant_a.student.pk).exists()
    assert verify() == []


def test_a_tenant_is_deleted_after_contract_end_only_once_its_export_was_offered(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    Municipality.objects.filter(pk=tenant_a.municipality.pk).update(
        contract_ends_on=timezone.localdate() - timedelta(days=120), contract_end_retention_days=90
    )
    report = retention.run(dry_run=False)
    assert report.tenants == [] and report.tenants_waiting_for_export == [tenant_a.municipality.pk]
    assert Municipality.objects.filter(pk=tenant_a.municipality.pk).exists()

    people = User.objects.filter(municipality_id=tenant_a.municipality.pk).count()
    out = StringIO()
    call_command("retention", "--export-offered", str(tenant_a.municipality.pk), stdout=out)
    report = retention.run(dry_run=False)
    assert report.tenants == [tenant_a.municipality.pk]
    assert not Municipality.objects.filter(pk=tenant_a.municipality.pk).exists()
    assert not School.objects.filter(pk=tenant_a.school.pk).exists()
    assert not User.objects.filter(municipality_id=tenant_a.municipality.pk).exists()
    assert DeletionReceipt.objects.filter(reason="contract_end").count() == len(report.receipts) == people
    # The other tenant is untouched, and the audit chain verifies.
    assert User.objects.filter(pk=tenant_b.student.pk).exists()
    assert verify() == []


def test_old_replay_events_are_purged(tenant_a: Tenant) -> None:
    assert Event.objects.exists()
    Event.objects.update(created_at=timezone.now() - timedelta(days=8))
    retention.run(dry_run=False)
    assert not Event.objects.exists()


def test_the_command_refuses_a_bad_date(tenant_a: Tenant) -> None:
    import pytest
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="--today"):
        call_command("retention", "--dry-run", "--today", "31/03/2027")
    out = StringIO()
    later = (timezone.localdate() + timedelta(days=900)).isoformat()
    call_command("retention", "--dry-run", "--today", later, stdout=out)
    assert "DRY RUN" in out.getvalue()


def test_the_tenant_export_holds_every_person(tenant_a: Tenant, tmp_path: object) -> None:
    import json
    import zipfile
    from pathlib import Path

    out = Path(str(tmp_path)) / "tenant.zip"
    text = StringIO()
    call_command("retention", "--export-tenant", str(tenant_a.municipality.pk), "--out", str(out), stdout=text)
    with zipfile.ZipFile(out) as archive:
        structure = json.loads(archive.read("tenant.json"))
        people = User.objects.filter(municipality=tenant_a.municipality)
        assert {p["id"] for p in structure["people"]} == set(people.values_list("pk", flat=True))
        pupil = json.loads(archive.read(f"people/{tenant_a.student.pk}/data.json"))
        assert pupil["tables"]["accounts.User"]["rows"][0]["display_name"] == tenant_a.student.display_name
        assert any(name.startswith(f"people/{tenant_a.student.pk}/files/") for name in archive.namelist())
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    import pytest
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="exists"):
        call_command("retention", "--export-tenant", str(tenant_a.municipality.pk), "--out", str(out))


def test_provision_records_go_after_three_years(tenant_a: Tenant) -> None:
    from classnote.privacy.models import ProvisionRecord

    def record(days_ago: int) -> ProvisionRecord:
        return ProvisionRecord.objects.create(
            subject_id=tenant_a.student.pk,
            recipient="Another school",
            recipient_kind=ProvisionRecord.RecipientKind.choices[0][0],
            provided_at=timezone.now() - timedelta(days=days_ago),
            items=["learning record"],
            basis=ProvisionRecord.Basis.choices[0][0],
            reference="consent 12",
            municipality_id=tenant_a.municipality.pk,
        )

    young, old = record(400), record(3 * 365 + 5)
    retention.run(dry_run=False)
    assert ProvisionRecord.objects.filter(pk=young.pk).exists()
    assert not ProvisionRecord.objects.filter(pk=old.pk).exists()
