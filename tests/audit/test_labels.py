"""The audit log reads in the reader's language (issue 14, defect 7): every action the code base
records has a translated label, every model a name, and no code or internal class name is shown."""

from __future__ import annotations

import ast
from pathlib import Path

from django.apps import apps
from django.test import Client
from django.utils import translation
from django.utils.functional import SimpleLazyObject

from classnote.audit import labels
from classnote.audit.log import record
from classnote.audit.models import AuditEntry
from tests.conftest import Tenant, login_as

SOURCE = Path(__file__).resolve().parents[2] / "src" / "classnote"
RECORDERS = {"record", "record_work_read", "record_person_read"}


def recorded_actions() -> set[str]:
    """Every action code passed as a literal (or either branch of a conditional) to a recorder."""
    found: set[str] = set()
    for path in SOURCE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            if name not in RECORDERS or len(node.args) < 2:
                continue
            argument = node.args[1]
            branches = [argument.body, argument.orelse] if isinstance(argument, ast.IfExp) else [argument]
            found |= {b.value for b in branches if isinstance(b, ast.Constant) and isinstance(b.value, str)}
    return found


def test_every_recorded_action_has_a_label() -> None:
    actions = recorded_actions()
    assert len(actions) > 30  # the scan finds them
    assert sorted(actions - set(labels.ACTIONS)) == []


def test_every_model_has_a_target_name() -> None:
    models = {model.__name__ for model in apps.get_models() if model.__module__.startswith("classnote.")}
    assert sorted(models - set(labels.TARGETS)) == []


def test_labels_are_translated() -> None:
    every = {**labels.ACTIONS, **labels.TARGETS}
    with translation.override("en"):
        english = {code: str(label) for code, label in every.items()}
    for language in ("ja", "zh-hant"):
        with translation.override(language):
            assert [code for code, label in every.items() if str(label) == english[code]] == [], language


def test_a_lazy_user_is_recorded_as_a_person(tenant_a: Tenant) -> None:
    entry = record(tenant_a.school_admin, "account.viewed", target=SimpleLazyObject(lambda: tenant_a.teacher))
    assert entry.target_type == "User"


def test_the_audit_page_shows_labels_and_names_not_codes(tenant_a: Tenant) -> None:
    record(tenant_a.school_admin, "account.password_reset", target=tenant_a.teacher)
    record(tenant_a.school_admin, "policy.changed", target=tenant_a.school)
    client = login_as(Client(), tenant_a.school_admin)
    page = client.get("/audit/", HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert AuditEntry.objects.count() >= 2
    assert "パスワード" in page  # the action's label, in the admin's language
    assert tenant_a.teacher.display_name in page  # the person, by name
    assert ">account.password_reset<" not in page and "SimpleLazyObject" not in page
    assert "User " not in page and ">school_admin<" not in page
