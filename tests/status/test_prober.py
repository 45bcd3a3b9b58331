"""The status prober's parts that need no server: the synthetic probe tenant (hidden, idempotent,
credentials only hashed in the database), recording with the spool while the database fails, the
purge of what rounds leave, and a round against an address where nothing answers. The prober
against a real `classnote serve` is tests/live/test_status_probe.py."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from django.db import OperationalError
from django.test import override_settings
from django.utils import timezone
from prometheus_client import REGISTRY

from classnote.accounts.models import ApiToken
from classnote.accounts.tokens import hash_token
from classnote.complaints.forms import ComplaintForm
from classnote.incidents.forms import IncidentForm
from classnote.lessons.models import Lesson
from classnote.status import probe_tenant, prober, recording, spool
from classnote.status.models import ProbeResult
from classnote.tenancy import access
from classnote.tenancy.models import Municipality

pytestmark = pytest.mark.django_db


def test_the_probe_tenant_is_made_once_and_each_prober_has_its_own_accounts() -> None:
    first = probe_tenant.ensure_probe_accounts("embedded")
    again = probe_tenant.ensure_probe_accounts("embedded")
    other = probe_tenant.ensure_probe_accounts("Probe Host.example")
    assert first.teacher.pk == again.teacher.pk and first.pupil.pk == again.pupil.pk
    assert other.teacher.pk != first.teacher.pk
    assert other.tenant.school_class.pk == first.tenant.school_class.pk
    assert other.teacher.username == "status-probe-probe-host-example"
    assert Municipality.objects.filter(synthetic=True).count() == 1
    assert first.tenant.municipality.require_mfa_for_teachers is False


def test_the_synthetic_tenant_is_listed_nowhere(tenant_a: object) -> None:
    tenant = probe_tenant.ensure_probe_tenant()
    Municipality.objects.filter(pk=tenant.municipality.pk).update(list_on_adopters_page=True)
    tenant.school.list_on_adopters_page = True
    tenant.school.save()
    assert tenant.municipality not in access.listed_municipalities()
    assert tenant.school not in access.listed_schools()
    assert tenant.municipality not in ComplaintForm().fields["municipality"].queryset  # type: ignore[attr-defined]
    assert tenant.municipality not in IncidentForm().fields["municipalities"].queryset  # type: ignore[attr-defined]


def test_credentials_are_hashed_in_the_database_and_kept_in_a_private_file(tmp_path: Path) -> None:
    credentials = probe_tenant.reset_credentials("embedded")
    accounts = probe_tenant.ensure_probe_accounts("embedded")
    assert accounts.teacher.password != credentials.teacher_password
    assert accounts.teacher.check_password(credentials.teacher_password)
    assert accounts.pupil.check_password(credentials.pupil_password)
    assert ApiToken.objects.get(user=accounts.teacher, revoked_at__isnull=True).token_hash == hash_token(
        credentials.api_token
    )
    path = tmp_path / "status" / "probe.json"
    credentials.write(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert probe_tenant.Credentials.read(path) == credentials
    renewed = probe_tenant.reset_credentials("embedded")  # the old token stops working
    assert renewed.api_token != credentials.api_token
    assert ApiToken.objects.filter(user=accounts.teacher, revoked_at__isnull=True).count() == 1


def outcome(component: str, ok: bool) -> prober.Outcome:
    return prober.Outcome(component, True, ok, 12, "" if ok else "login", "" if ok else "HTTP 507", 1_800_000_000.0)


def test_results_go_to_the_spool_while_the_database_fails_and_are_inserted_later(tmp_path: Path) -> None:
    with override_settings(STATUS_SPOOL_DIR=tmp_path):
        with mock.patch.object(ProbeResult.objects, "bulk_create", side_effect=OperationalError("disk is full")):
            assert recording.record([outcome("sign-in", False), outcome("api", True)], "here") is False
        assert spool.count() == 2
        assert not ProbeResult.objects.exists()
        assert recording.record([outcome("sign-in", True)], "here") is True
        assert spool.count() == 0
        fields = ("component", "ok", "failed_step", "detail", "prober")
        rows = list(ProbeResult.objects.order_by("id").values_list(*fields))
        assert rows == [
            ("sign-in", False, "login", "HTTP 507", "here"),
            ("api", True, "", "", "here"),
            ("sign-in", True, "", "", "here"),
        ]


def test_purge_deletes_what_rounds_left_but_the_last_minutes(tenant_a: object) -> None:
    accounts = probe_tenant.ensure_probe_accounts("embedded")
    old = Lesson.objects.create(school_class=accounts.tenant.school_class, title="Probe", created_by=accounts.teacher)
    Lesson.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(minutes=30))
    recent = Lesson.objects.create(
        school_class=accounts.tenant.school_class, title="Probe", created_by=accounts.teacher
    )
    assert probe_tenant.purge() == 1
    assert list(Lesson.objects.filter(school_class=accounts.tenant.school_class)) == [recent]
    assert Lesson.objects.exclude(school_class=accounts.tenant.school_class).exists()  # nobody else's


def test_a_round_where_nothing_answers_is_all_red_and_unanswered() -> None:
    credentials = probe_tenant.Credentials("t", "p", "s", "n", "q", "cn_x", 1)
    outcomes = prober.run_round("http://127.0.0.1:9/", credentials, timeout=2)
    assert {o.component: (o.answered, o.ok, o.failed_step) for o in outcomes} == {
        "sign-in": (False, False, "login_page"),
        "lessons": (False, False, "login"),
        "files": (False, False, "login"),
        "api": (False, False, "api_me"),
    }
    assert all(o.detail == "ConnectError" for o in outcomes if o.failed_step != "login")


def test_every_round_sets_the_probe_results_on_metrics() -> None:
    """After a round, /metrics carries each component's last result and latency (core.metrics)."""
    recording.after_round(
        [
            prober.Outcome("sign-in", answered=True, ok=True, latency_ms=120),
            prober.Outcome("files", answered=True, ok=False, latency_ms=None, failed_step="upload"),
        ]
    )
    assert REGISTRY.get_sample_value("classnote_probe_success", {"component": "sign-in"}) == 1
    assert REGISTRY.get_sample_value("classnote_probe_latency_seconds", {"component": "sign-in"}) == 0.12
    assert REGISTRY.get_sample_value("classnote_probe_success", {"component": "files"}) == 0
