"""Status incidents and maintenance: the operators' actions and who may take them, drafts never
public, the automatic draft after STATUS_INCIDENT_AFTER_MINUTES of failed probes (once per outage),
and the operator pages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from classnote.accounts.models import User
from classnote.audit.models import AuditEntry
from classnote.base.errors import ActionError, NotFound, Refused
from classnote.base.roles import Role
from classnote.status import actions
from classnote.status.models import Maintenance, ProbeResult, StatusIncident
from tests.conftest import PASSWORD, Tenant, login_as


@pytest.fixture
def operator(db: None) -> User:
    return User.objects.create_user("operator", PASSWORD, display_name="Operator", role=Role.OPERATOR)


@pytest.fixture
def officer(db: None) -> User:
    return User.objects.create_user("officer", PASSWORD, display_name="Officer", role=Role.PRIVACY_OFFICER)


def open_one(operator: User, **overrides: Any) -> StatusIncident:
    values: dict[str, Any] = {
        "title": "Cards are slow",
        "impact": "minor",
        "components": ["lessons"],
        "body": "Cards take a minute to arrive.",
    }
    values.update(overrides)
    return actions.open_incident(operator, **values)


def public_incident_ids() -> set[int]:
    """The incidents the public sees: through queries.summary() when it is on this branch, else the
    rule the page follows (published, not discarded)."""
    try:
        from classnote.status import queries  # type: ignore[attr-defined]
    except ImportError:
        return set(
            StatusIncident.objects.filter(published_at__isnull=False, discarded_at=None).values_list("pk", flat=True)
        )
    summary = queries.summary(timezone.now())
    return {post.id for post in [*summary.active_incidents, *summary.past_incidents]}


def probes(component: str, minutes: int, *, ok: bool, end: Any = None) -> None:
    end = end or timezone.now()
    for minute in range(minutes, -1, -1):
        ProbeResult.objects.create(component=component, at=end - timedelta(minutes=minute), answered=ok, ok=ok)


# --- Actions ---------------------------------------------------------------------------------------


def test_an_operator_opens_updates_and_resolves_an_incident(operator: User) -> None:
    incident = open_one(operator)
    assert incident.published_at is not None and not incident.is_draft
    assert incident.updates.count() == 1
    actions.post_update(operator, incident.pk, state="identified", body="A slow disk.")
    incident = actions.resolve_incident(operator, incident.pk, body="Fixed.")
    incident.refresh_from_db()
    assert incident.state == "resolved" and incident.resolved_at is not None
    assert [u.state for u in incident.updates.order_by("at", "id")] == ["investigating", "identified", "resolved"]
    codes = list(AuditEntry.objects.filter(action__startswith="status.").values_list("action", flat=True))
    assert codes == ["status.incident_opened", "status.incident_updated", "status.incident_resolved"]
    with pytest.raises(ActionError):
        actions.post_update(operator, incident.pk, state="monitoring", body="again")


def test_the_privacy_officer_is_one_of_the_operators_people(officer: User) -> None:
    assert open_one(officer).published_at is not None


@pytest.mark.parametrize("bad", [[], ["nonsense"], ["api", "x"]])
def test_components_are_validated(operator: User, bad: list[str]) -> None:
    with pytest.raises(ActionError):
        open_one(operator, components=bad)
    assert not StatusIncident.objects.exists()


def test_tenant_users_are_refused(tenant_a: Tenant, operator: User) -> None:
    incident = open_one(operator)
    window = actions.announce_maintenance(
        operator,
        title="Database upgrade",
        components=["api"],
        starts_at=timezone.now() + timedelta(days=1),
        ends_at=timezone.now() + timedelta(days=1, hours=1),
    )
    for user in (tenant_a.teacher, tenant_a.school_admin, tenant_a.municipal_admin, tenant_a.student):
        with pytest.raises(Refused):
            open_one(user)
        with pytest.raises(Refused):
            actions.post_update(user, incident.pk, state="monitoring", body="x")
        with pytest.raises(Refused):
            actions.cancel_maintenance(user, window.pk)
        with pytest.raises(Refused):
            actions.add_webhook(user, "https://hooks.example/x")
    assert incident.updates.count() == 1
    window.refresh_from_db()
    assert window.cancelled_at is None


def test_an_unknown_id_is_not_found(operator: User) -> None:
    with pytest.raises(NotFound):
        actions.post_update(operator, 999999, state="monitoring", body="x")
    with pytest.raises(NotFound):
        actions.cancel_maintenance(operator, "not-an-id")


def test_maintenance_is_announced_in_advance_and_ends_after_it_starts(operator: User) -> None:
    now = timezone.now()
    with pytest.raises(ActionError):
        actions.announce_maintenance(
            operator, title="t", components=["api"], starts_at=now - timedelta(minutes=1), ends_at=now + timedelta(1)
        )
    with pytest.raises(ActionError):
        actions.announce_maintenance(
            operator, title="t", components=["api"], starts_at=now + timedelta(1), ends_at=now + timedelta(hours=1)
        )
    window = actions.announce_maintenance(
        operator, title="t", components=["api", "files"], starts_at=now + timedelta(1), ends_at=now + timedelta(2)
    )
    actions.change_maintenance(
        operator,
        window.pk,
        title="t2",
        components=["files"],
        starts_at=window.starts_at,
        ends_at=window.ends_at + timedelta(hours=1),
    )
    window.refresh_from_db()
    assert window.title == "t2" and window.components == ["files"]
    actions.cancel_maintenance(operator, window.pk)
    with pytest.raises(ActionError):
        actions.cancel_maintenance(operator, window.pk)


# --- Drafts ----------------------------------------------------------------------------------------


def test_the_automatic_draft_opens_after_n_minutes_of_failures_once(operator: User, settings: Any) -> None:
    settings.STATUS_INCIDENT_AFTER_MINUTES = 5
    now = timezone.now()
    probes("files", 10, ok=True, end=now - timedelta(minutes=4))
    probes("files", 3, ok=False, end=now)  # failing for 3 minutes: not yet
    assert actions.open_automatic_drafts(now) is None
    probes("api", 10, ok=True, end=now)  # healthy
    later = now + timedelta(minutes=3)
    probes("files", 2, ok=False, end=later)  # failing for 5 minutes now
    draft = actions.open_automatic_drafts(later)
    assert draft is not None and draft.automatic and draft.is_draft
    assert draft.components == ["files"]
    assert draft.pk not in public_incident_ids()
    # A minute later, still failing: no second draft.
    probes("files", 0, ok=False, end=later + timedelta(minutes=1))
    assert actions.open_automatic_drafts(later + timedelta(minutes=1)) is None
    # Discarded: still not again for the same outage.
    actions.discard_draft(operator, draft.pk)
    probes("files", 0, ok=False, end=later + timedelta(minutes=2))
    assert actions.open_automatic_drafts(later + timedelta(minutes=2)) is None
    assert StatusIncident.objects.count() == 1
    # Recovered, then a new outage of 5 minutes: a new draft.
    restart = later + timedelta(minutes=3)
    probes("files", 0, ok=True, end=restart)
    probes("files", 5, ok=False, end=restart + timedelta(minutes=6))
    assert actions.open_automatic_drafts(restart + timedelta(minutes=6)) is not None


def test_no_draft_while_an_open_incident_names_the_component(operator: User, settings: Any) -> None:
    settings.STATUS_INCIDENT_AFTER_MINUTES = 5
    open_one(operator, components=["api"])
    probes("api", 8, ok=False)
    assert actions.open_automatic_drafts() is None


def test_a_gap_in_the_record_opens_no_draft(settings: Any, db: None) -> None:
    settings.STATUS_INCIDENT_AFTER_MINUTES = 5
    now = timezone.now()
    probes("api", 10, ok=False, end=now - timedelta(minutes=30))  # the prober stopped 30 minutes ago
    assert actions.open_automatic_drafts(now) is None


def test_drafts_are_never_public_until_a_person_confirms(operator: User, settings: Any) -> None:
    settings.STATUS_INCIDENT_AFTER_MINUTES = 5
    probes("sign-in", 6, ok=False)
    draft = actions.open_automatic_drafts()
    assert draft is not None
    assert draft.pk not in public_incident_ids()
    actions.post_update(operator, draft.pk, state="identified", body="Still a draft.")
    assert draft.pk not in public_incident_ids()
    actions.publish_draft(operator, draft.pk, title="Sign-in fails", impact="major", components=["sign-in"])
    draft.refresh_from_db()
    assert draft.published_at is not None and draft.title == "Sign-in fails"
    assert draft.pk in public_incident_ids()
    with pytest.raises(ActionError):
        actions.discard_draft(operator, draft.pk)


# --- Pages -----------------------------------------------------------------------------------------


def test_the_operator_pages(client: Client, operator: User, settings: Any) -> None:
    settings.STATUS_INCIDENT_AFTER_MINUTES = 5
    login_as(client, operator)
    assert "/operator/status/" in client.get("/home/").content.decode()
    probes("files", 6, ok=False)
    draft = actions.open_automatic_drafts()
    assert draft is not None
    page = client.get("/operator/status/").content.decode()
    assert "not public" in page and draft.title in page
    response = client.post(
        "/operator/status/incidents/new/",
        {"title": "API errors", "impact": "major", "components": ["api"], "state": "investigating", "body": "500s"},
    )
    assert response.status_code == 302
    incident = StatusIncident.objects.get(title="API errors")
    url = f"/operator/status/incidents/{incident.pk}/"
    assert "500s" in client.get(url).content.decode()
    assert client.post(url, {"state": "monitoring", "body": "Fixed, watching."}).status_code == 302
    assert client.post(url + "resolve/").status_code == 302
    assert client.post(url, {"state": "monitoring", "body": "again"}).status_code == 400
    publish = f"/operator/status/incidents/{draft.pk}/publish/"
    assert client.post(publish, {"title": "", "impact": "major", "components": ["files"]}).status_code == 400
    assert client.post(publish, {"title": "Files", "impact": "major", "components": ["files"]}).status_code == 302
    # Bad input: 4xx with a message, never 500.
    bad = client.post("/operator/status/incidents/new/", {"title": "x", "impact": "huge", "components": ["nope"]})
    assert bad.status_code == 400
    assert client.get("/operator/status/incidents/999999/").status_code == 404


def test_the_maintenance_pages(client: Client, operator: User) -> None:
    login_as(client, operator)
    start = timezone.localtime() + timedelta(days=1)
    data = {
        "title": "Database upgrade",
        "body": "",
        "components": ["api", "lessons"],
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
    }
    assert client.post("/operator/status/maintenance/new/", data).status_code == 302
    window = Maintenance.objects.get()
    assert "Database upgrade" in client.get("/operator/status/maintenance/").content.decode()
    backwards = {**data, "ends_at": (start - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")}
    assert client.post(f"/operator/status/maintenance/{window.pk}/", backwards).status_code == 400
    past = {**data, "starts_at": "2000-01-01T00:00"}
    assert client.post("/operator/status/maintenance/new/", past).status_code == 400
    assert client.post(f"/operator/status/maintenance/{window.pk}/cancel/").status_code == 302
    window.refresh_from_db()
    assert window.cancelled_at is not None


def test_tenant_staff_cannot_open_the_operator_pages(client: Client, tenant_a: Tenant, operator: User) -> None:
    incident = open_one(operator)
    for user in (tenant_a.teacher, tenant_a.school_admin, tenant_a.municipal_admin):
        login_as(client, user)
        assert client.get("/operator/status/").status_code == 403
        assert client.post(f"/operator/status/incidents/{incident.pk}/resolve/").status_code == 403
    incident.refresh_from_db()
    assert incident.resolved_at is None


def test_the_periodic_task_opens_the_draft(settings: Any, db: None) -> None:
    from classnote.status import tasks

    settings.STATUS_INCIDENT_AFTER_MINUTES = 5
    probes("lessons", 7, ok=False)
    tasks.open_automatic_drafts()
    tasks.open_automatic_drafts()  # the next minute: still one
    assert list(StatusIncident.objects.values_list("automatic", "components")) == [(True, ["lessons"])]
    tasks.purge_unconfirmed_subscribers()
