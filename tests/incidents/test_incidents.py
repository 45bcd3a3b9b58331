"""The incident register: the facts the regulator's report needs, the report deadlines counted from
discovery (5 days / 30 days / 60 days), the officer's dashboard, and who may read what."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from classnote.accounts.models import User
from classnote.audit.models import AuditEntry
from classnote.base.roles import Role
from classnote.incidents import actions, retention
from classnote.incidents.models import Incident
from tests.conftest import PASSWORD, Tenant, login_as

SUMMARY = "A teacher's tablet with cached class lists was left on a train. Summary marker 9182."


@pytest.fixture
def officer(db: None) -> User:
    return User.objects.create_user("officer", PASSWORD, display_name="Privacy officer", role=Role.PRIVACY_OFFICER)


def local(moment: Any) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def form(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": "loss",
        "status": "open",
        "discovered_at": local(timezone.now() - timedelta(hours=2)),
        "occurred_at": "",
        "summary": SUMMARY,
        "data_items": "display name, class",
        "data_categories": ["identifier", "account data"],
        "persons_affected": "32",
        "cause": "",
        "secondary_damage": "",
        "notification": "not_yet",
        "measures": "",
        "recurrence_prevention": "",
        "municipalities": [],
    }
    data.update(overrides)
    return data


def make(officer: User, *, days_ago: float = 0, tenants: list[Tenant] = (), **values: Any) -> Incident:  # type: ignore[assignment]
    fields = {
        "kind": Incident.Kind.LEAK,
        "discovered_at": timezone.now() - timedelta(days=days_ago),
        "summary": SUMMARY,
        **values,
    }
    return actions.create_incident(officer, municipalities=[t.municipality for t in tenants], **fields)


# --- Registering and the deadlines ----------------------------------------------------------------


def test_the_officer_registers_an_incident(officer: User, tenant_a: Tenant) -> None:
    client = login_as(Client(), officer)
    assert client.get("/incidents/new/").status_code == 200
    response = client.post("/incidents/new/", form(municipalities=[str(tenant_a.municipality.pk)], special_care="on"))
    assert response.status_code == 302
    incident = Incident.objects.get()
    assert response["Location"] == f"/incidents/{incident.pk}/"
    assert incident.reference.startswith("I-") and incident.special_care and incident.persons_affected == 32
    assert incident.data_categories == ["identifier", "account data"]
    assert list(incident.municipalities.all()) == [tenant_a.municipality]
    page = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert "Summary marker 9182" in page and incident.reference in page
    assert "mandatory report" in page  # special-care information: the PPC must be told
    assert incident.reference in client.get("/incidents/").content.decode()


def test_preliminary_report_is_due_five_days_and_final_thirty_days_after_discovery(officer: User) -> None:
    incident = make(officer)
    assert incident.preliminary_due == incident.discovered_at + timedelta(days=5)
    assert incident.final_due == incident.discovered_at + timedelta(days=30)


def test_final_report_is_due_after_sixty_days_for_an_unauthorised_purpose(officer: User) -> None:
    incident = make(officer, unauthorised_purpose=True)
    assert incident.final_due == incident.discovered_at + timedelta(days=60)
    assert incident.preliminary_due == incident.discovered_at + timedelta(days=5)
    assert incident.reportable


def test_the_preliminary_deadline_is_configurable_in_hours(officer: User, settings: Any) -> None:
    settings.INCIDENT_PRELIMINARY_REPORT_HOURS = 72  # GDPR-style tenants
    incident = make(officer)
    assert incident.preliminary_due == incident.discovered_at + timedelta(hours=72)


def test_deadlines_on_the_dashboard_and_the_overdue_flagged(officer: User) -> None:
    late = make(officer, days_ago=6)  # preliminary overdue, final not yet
    fresh = make(officer, days_ago=1)
    very_late = make(officer, days_ago=31)  # both overdue
    client = login_as(Client(), officer)
    body = client.get("/privacy/officer/").content.decode()
    rows = [row for row in body.split("<tr")[1:] if "I-" in row]

    def row(incident: Incident, what: str) -> str:
        found = [r for r in rows if incident.reference in r and what in r]
        assert len(found) == 1, (incident.reference, what)
        return found[0]

    assert 'class="overdue"' in row(late, "Preliminary report") and "Overdue" in row(late, "Preliminary report")
    assert "Overdue" not in row(late, "Final report")
    assert "Overdue" not in row(fresh, "Preliminary report") and "Overdue" not in row(fresh, "Final report")
    assert "Overdue" in row(very_late, "Preliminary report") and "Overdue" in row(very_late, "Final report")
    assert 'href="/incidents/"' in body  # the register is linked from the dashboard

    # Filing the preliminary report takes it off the dashboard; the final report stays.
    response = client.post(
        f"/incidents/{late.pk}/reports/", {"which": "preliminary", "preliminary-report": "preliminary"}
    )
    assert response.status_code == 302
    late.refresh_from_db()
    assert late.preliminary_report_at is not None
    body = client.get("/privacy/officer/").content.decode()
    late_rows = [r for r in body.split("<tr")[1:] if late.reference in r]
    assert len(late_rows) == 1 and "Final report" in late_rows[0]

    # A closed incident has no open deadlines.
    client.post(f"/incidents/{very_late.pk}/", form(status="closed", discovered_at=local(very_late.discovered_at)))
    very_late.refresh_from_db()
    assert very_late.status == Incident.Status.CLOSED and very_late.closed_at is not None
    assert very_late.reference not in client.get("/privacy/officer/").content.decode()


def test_the_list_flags_overdue_reports(officer: User) -> None:
    late = make(officer, days_ago=6)
    body = login_as(Client(), officer).get("/incidents/").content.decode()
    row = next(r for r in body.split("<tr")[1:] if late.reference in r)
    assert 'class="overdue"' in row and "Overdue" in row


def test_a_report_filed_at_a_given_time(officer: User) -> None:
    incident = make(officer, days_ago=10)
    filed = timezone.now() - timedelta(days=7)
    client = login_as(Client(), officer)
    response = client.post(
        f"/incidents/{incident.pk}/reports/",
        {"which": "final", "final-report": "final", "final-filed_at": local(filed)},
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.final_report_at is not None and incident.preliminary_report_at is None
    assert abs((incident.final_report_at - filed).total_seconds()) < 60


@pytest.mark.parametrize(
    "data",
    [
        {"which": "final", "final-report": "final", "final-filed_at": "not a date"},
        {"which": "final", "final-report": "final", "final-filed_at": "2999-01-01T00:00"},
        {"which": "final", "final-report": "final", "final-filed_at": "2000-01-01T00:00"},  # before discovery
        {"which": "final", "final-report": "other"},
    ],
)
def test_bad_report_dates_are_refused(officer: User, data: dict[str, str]) -> None:
    incident = make(officer, days_ago=2)
    response = login_as(Client(), officer).post(f"/incidents/{incident.pk}/reports/", data)
    assert response.status_code == 400
    incident.refresh_from_db()
    assert incident.final_report_at is None


@pytest.mark.parametrize(
    "overrides",
    [
        {"discovered_at": "2999-01-01T00:00"},
        {"discovered_at": ""},
        {"summary": ""},
        {"kind": "rumour"},
        {"persons_affected": "-5"},
        {"data_categories": ["secrets"]},
        {"occurred_at": "2999-01-01T00:00"},  # after discovery
    ],
)
def test_bad_input_is_a_4xx(officer: User, overrides: dict[str, Any]) -> None:
    response = login_as(Client(), officer).post("/incidents/new/", form(**overrides))
    assert response.status_code == 400
    assert not Incident.objects.exists()


# --- Who may see what -----------------------------------------------------------------------------


def test_a_municipal_admin_reads_only_the_incidents_of_their_board(
    officer: User, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    ours = make(officer, tenants=[tenant_a], summary="Ours marker")
    theirs = make(officer, tenants=[tenant_b], summary="Theirs marker")
    shared = make(officer, tenants=[tenant_a, tenant_b], summary="Shared marker")
    client = login_as(Client(), tenant_a.municipal_admin)
    listing = client.get("/incidents/").content.decode()
    assert ours.reference in listing and shared.reference in listing and theirs.reference not in listing
    assert client.get(f"/incidents/{theirs.pk}/").status_code == 404
    assert client.get("/incidents/99999999999999999999999/").status_code == 404
    officer_client = login_as(Client(), officer)
    assert officer_client.get("/incidents/99999999999999999999999/").status_code == 404
    assert officer_client.post("/incidents/99999999999999999999999/reports/", {"which": "final"}).status_code == 404
    page = client.get(f"/incidents/{shared.pk}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Shared marker" in body and tenant_a.municipality.name in body
    assert tenant_b.municipality.name not in body  # the other boards affected are not named
    # Read only.
    assert client.post(f"/incidents/{ours.pk}/", form(summary="changed")).status_code == 403
    assert client.post(f"/incidents/{ours.pk}/reports/", {"which": "preliminary"}).status_code == 403
    assert client.get("/incidents/new/").status_code == 403
    ours.refresh_from_db()
    assert ours.summary == "Ours marker" and ours.preliminary_report_at is None
    # The officer's dashboard is not theirs.
    assert client.get("/privacy/officer/").status_code == 403
    # Their reads are recorded.
    assert AuditEntry.objects.filter(action="incident.viewed", actor=tenant_a.municipal_admin, target_id=str(shared.pk))


def test_other_roles_cannot_reach_the_register(officer: User, tenant_a: Tenant) -> None:
    incident = make(officer, tenants=[tenant_a])
    for user in (tenant_a.school_admin, tenant_a.teacher, tenant_a.student):
        client = login_as(Client(), user)
        assert client.get("/incidents/").status_code == 403
        assert client.get(f"/incidents/{incident.pk}/").status_code == 403
        assert client.get("/incidents/new/").status_code == 403
    assert Client().get("/incidents/").status_code == 302  # to the login page


def test_only_the_officer_may_write_through_the_actions(officer: User, tenant_a: Tenant) -> None:
    from classnote.base.errors import ActionError

    incident = make(officer, tenants=[tenant_a])
    with pytest.raises(ActionError):
        actions.update_incident(tenant_a.municipal_admin, incident.pk, summary="x")
    with pytest.raises(ActionError):
        actions.file_report(tenant_a.municipal_admin, incident.pk, "preliminary")


# --- Audit ----------------------------------------------------------------------------------------


def test_every_change_is_audited_with_ids_only(officer: User, tenant_a: Tenant) -> None:
    client = login_as(Client(), officer)
    client.post("/incidents/new/", form())
    incident = Incident.objects.get()
    client.post(
        f"/incidents/{incident.pk}/",
        form(
            summary="New text marker 5521",
            discovered_at=local(incident.discovered_at),
            municipalities=[str(tenant_a.municipality.pk)],
            unauthorised_purpose="on",
        ),
    )
    client.post(f"/incidents/{incident.pk}/reports/", {"which": "preliminary", "preliminary-report": "preliminary"})
    entries = AuditEntry.objects.filter(target_type="Incident", target_id=str(incident.pk)).order_by("id")
    assert [e.action for e in entries] == ["incident.created", "incident.updated", "incident.report_filed"]
    assert all(e.actor_id == officer.pk for e in entries)
    updated = entries[1].details
    assert "summary" in updated["fields"] and "unauthorised_purpose" in updated["fields"]
    assert updated["municipalities_added"] == [tenant_a.municipality.pk]
    text = " ".join(str(e.details) for e in entries)
    assert "marker" not in text and tenant_a.municipality.name not in text


def test_saving_without_changes_writes_no_entry(officer: User) -> None:
    incident = make(officer, days_ago=1)
    incident.refresh_from_db()
    before = AuditEntry.objects.count()
    actions.update_incident(officer, incident.pk, summary=incident.summary, kind=incident.kind)
    assert AuditEntry.objects.count() == before


# --- Retention ------------------------------------------------------------------------------------


def test_closed_incidents_are_deleted_after_the_retention_period(officer: User, settings: Any) -> None:
    settings.INCIDENT_RETENTION_DAYS = 5 * 365
    old, recent, still_open = make(officer, days_ago=3000), make(officer, days_ago=400), make(officer, days_ago=3000)
    now = timezone.now()
    Incident.objects.filter(pk=old.pk).update(status="closed", closed_at=now - timedelta(days=5 * 365 + 1))
    Incident.objects.filter(pk=recent.pk).update(status="closed", closed_at=now - timedelta(days=100))
    assert list(retention.expired(now)) == [Incident.objects.get(pk=old.pk)]
    assert retention.purge(now, dry_run=True) == {"incidents.Incident": 1}
    assert retention.purge(now) == {"incidents.Incident": 1}
    assert set(Incident.objects.values_list("pk", flat=True)) == {recent.pk, still_open.pk}
