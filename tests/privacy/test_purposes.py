"""Purpose limitation: a read for a purpose not declared on every field it reads is refused (403,
translated) and logged in the audit log with the purpose, model and field names — never values."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import translation

from classnote.accounts.models import User
from classnote.audit.models import AuditEntry
from classnote.base.inventory import Purpose
from classnote.cards.models import Card
from classnote.lessons.models import Submission
from classnote.portfolio import export
from classnote.privacy import inventory, purposes
from classnote.stats import figures
from classnote.tenancy.models import School
from tests.conftest import Tenant, fresh_login, login_as


def test_a_read_for_an_undeclared_purpose_is_refused_and_logged(tenant_a: Tenant) -> None:
    with pytest.raises(purposes.PurposeRefused) as refused:
        purposes.check(tenant_a.school_admin, Purpose.STATISTICS, Card, ["title", "text"])
    assert refused.value.refused == {"cards.Card": ["text", "title"]}
    entry = AuditEntry.objects.get(action="privacy.read_refused")
    assert entry.actor_id == tenant_a.school_admin.pk
    assert entry.details == {"purpose": "statistics", "model": "cards.Card", "fields": ["text", "title"]}
    assert entry.school_id == tenant_a.school.pk  # the school's admins see it in their log
    assert tenant_a.card.text not in str(entry.details)  # no values


def test_a_declared_purpose_is_allowed_and_not_personal_fields_serve_any_purpose(tenant_a: Tenant) -> None:
    assert purposes.check(tenant_a.school_admin, Purpose.STATISTICS, Submission, ["is_late", "box"]) == "statistics"
    assert purposes.check(tenant_a.school_admin, Purpose.SUPPORT, School, ["name", "code"]) == "support"
    assert not AuditEntry.objects.filter(action="privacy.read_refused").exists()


def test_an_undeclared_field_or_model_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    assert purposes.undeclared_for(Purpose.PORTFOLIO, Card, ["no_such_field"]) == ["no_such_field"]
    monkeypatch.setattr(inventory, "declaration_of", lambda model: None)  # a model nobody declared
    assert purposes.undeclared_for(Purpose.PORTFOLIO, Card, ["kind"]) == ["kind"]


def test_the_refusal_is_a_translated_403_on_a_page(tenant_a: Tenant, monkeypatch: pytest.MonkeyPatch) -> None:
    # Someone adds a field to the statistics without declaring the purpose on it.
    monkeypatch.setattr(figures, "READS", {**figures.READS, Card: ["text"]})
    response = login_as(Client(), tenant_a.school_admin).get("/statistics/")
    assert response.status_code == 403
    with translation.override("ja"):  # tenant A's language
        message = str(purposes.PurposeRefused(Purpose.STATISTICS, {}))
    assert message in response.content.decode()
    assert AuditEntry.objects.filter(action="privacy.read_refused", details__model="cards.Card").exists()


def test_portfolio_exports_state_their_purpose(tenant_a: Tenant, monkeypatch: pytest.MonkeyPatch) -> None:
    student = login_as(Client(), tenant_a.student)
    assert student.get("/portfolio/export.zip").status_code == 200
    admin = fresh_login(Client(), tenant_a.school_admin)
    assert admin.get(f"/users/{tenant_a.student.pk}/portfolio.zip").status_code == 200
    exports = AuditEntry.objects.filter(action="portfolio.exported", subject_id=tenant_a.student.pk)
    assert [e.details["purpose"] for e in exports] == ["portfolio", "portfolio"]
    # An export that would read a field not declared for the portfolio is refused and logged.
    monkeypatch.setattr("classnote.portfolio.views.READS", {**export.READS, User: ["display_name", "password"]})
    assert admin.get(f"/users/{tenant_a.student.pk}/portfolio.zip").status_code == 403
    refused = AuditEntry.objects.get(action="privacy.read_refused")
    assert refused.details == {"purpose": "portfolio", "model": "accounts.User", "fields": ["password"]}
    assert exports.count() == 2


def test_support_is_declared_on_exactly_the_names_and_roles_of_users() -> None:
    serving = {
        (entry["model"], entry["field"]) for entry in inventory.entries() if str(Purpose.SUPPORT) in entry["purposes"]
    }
    assert serving == {("accounts.User", "display_name"), ("accounts.User", "role")}


def test_lesson_content_serves_no_statistics_or_support() -> None:
    for name in ("title", "text", "strokes", "link_url", "file"):
        assert purposes.undeclared_for(Purpose.SUPPORT, Card, [name]) == [name]
        assert purposes.undeclared_for(Purpose.STATISTICS, Card, [name]) == [name]
