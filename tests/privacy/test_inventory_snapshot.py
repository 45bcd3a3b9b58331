"""The classification of every stored field, pinned in a reviewed snapshot.

tests/privacy/test_inventory.py checks that every field is declared; it cannot tell whether a field
is declared *rightly*: moving ``last_login`` from personal to not personal still passes it, and the
field then drops out of the ledger, the disclosure export and the privacy page. The snapshot
(tests/privacy/inventory_snapshot.json) is the reviewed classification: personal or not, and for a
personal field its category, purposes, legal basis, retention, audience, MEXT class and whether it
is optional; for each model, how one person's rows are found and what deleting the person does to
them (deleted, unlinked, kept).

A change of classification is a privacy decision. After review, regenerate the snapshot with

    CLASSNOTE_HOME=./var .venv/bin/classnote privacy inventory --format snapshot > tests/privacy/inventory_snapshot.json

and commit it with the change, so the diff shows the reviewer what changed.
"""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import models

from classnote.base.inventory import Erase
from classnote.privacy import inventory

SNAPSHOT = Path(__file__).with_name("inventory_snapshot.json")
REGENERATE = (
    "CLASSNOTE_HOME=./var .venv/bin/classnote privacy inventory --format snapshot"
    " > tests/privacy/inventory_snapshot.json"
)


def snapshot() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    return data


def _differences(live: dict[str, Any], pinned: dict[str, Any]) -> list[str]:
    found = []
    for key in sorted(live.keys() | pinned.keys()):
        if key not in pinned:
            found.append(f"{key}: new, not in the snapshot: {live[key]}")
        elif key not in live:
            found.append(f"{key}: in the snapshot, gone from the code")
        elif live[key] != pinned[key]:
            changed = sorted(k for k in live[key].keys() | pinned[key].keys() if live[key].get(k) != pinned[key].get(k))
            detail = ", ".join(f"{k}: {pinned[key].get(k)!r} -> {live[key].get(k)!r}" for k in changed)
            found.append(f"{key}: {detail}")
    return found


def test_every_fields_classification_matches_the_reviewed_snapshot() -> None:
    live, pinned = inventory.classification(), snapshot()
    problems = _differences(live["fields"], pinned["fields"])
    assert not problems, (
        "The classification of these fields differs from tests/privacy/inventory_snapshot.json. A field "
        "reclassified (personal or not, category, purposes, basis, retention, audience) is a privacy decision: "
        f"have it reviewed, then regenerate the snapshot with `{REGENERATE}`.\n" + "\n".join(problems)
    )


def test_how_each_persons_rows_are_found_and_erased_matches_the_snapshot() -> None:
    live, pinned = inventory.classification(), snapshot()
    problems = _differences(live["links"], pinned["links"])
    assert not problems, (
        "How a person's rows are found or what deleting them does changed (tests/privacy/inventory_snapshot.json): "
        f"have it reviewed, then regenerate the snapshot with `{REGENERATE}`.\n" + "\n".join(problems)
    )


def test_the_snapshot_covers_every_stored_field() -> None:
    pinned = snapshot()["fields"]
    assert all(entry["personal"] in (True, False) for entry in pinned.values()), "an undeclared field was pinned"
    assert pinned["accounts.User.last_login"]["personal"] is True
    assert pinned["accounts.User.id"] == {"personal": False}
    assert len(pinned) > 200


def test_the_documented_command_writes_the_snapshot() -> None:
    out = StringIO()
    call_command("privacy", "inventory", "--format", "snapshot", stdout=out)
    assert json.loads(out.getvalue()) == snapshot()


def test_a_field_nobody_declared_is_pinned_as_undeclared(monkeypatch: pytest.MonkeyPatch) -> None:
    """The snapshot never calls a field personal or not personal that no declaration names: a new
    field, or a model whose declaration is gone, shows as undeclared (and the build fails on it)."""
    from classnote.accounts.models import User

    extra = models.CharField(name="nickname", max_length=20)
    extra.set_attributes_from_name("nickname")
    extra.model = User
    monkeypatch.setattr(User._meta, "concrete_fields", (*User._meta.concrete_fields, extra))
    assert inventory.classification()["fields"]["accounts.User.nickname"] == {"personal": None}
    monkeypatch.delattr(User, "PRIVACY")
    fields = inventory.classification()["fields"]
    assert fields["accounts.User.id"] == {"personal": None}
    assert fields["accounts.User.display_name"] == {"personal": None}
    assert "accounts.User" not in inventory.classification()["links"]


def test_a_personal_model_without_links_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    """unlinked_models() is what makes the build fail on a model whose rows deletion could not find."""
    from classnote.base.inventory import Declaration
    from classnote.lessons.models import Submission

    assert inventory.unlinked_models() == []
    bare = Declaration(personal=Submission.PRIVACY.personal, not_personal=Submission.PRIVACY.not_personal)
    monkeypatch.setattr(Submission, "PRIVACY", bare)
    assert inventory.unlinked_models() == ["lessons.Submission"]


def test_the_models_searched_for_a_person_are_those_with_personal_fields() -> None:
    """Disclosure and deletion search the models personal_models() names (classnote.rights.subjects)."""
    labels = [model._meta.label for model, _ in inventory.personal_models()]
    pinned = snapshot()["fields"]
    assert labels == sorted({key.rsplit(".", 1)[0] for key, entry in pinned.items() if entry["personal"]})
    assert all(declaration.personal for _, declaration in inventory.personal_models())


def test_kept_references_never_cascade_and_hold_no_constraint() -> None:
    """A row kept under a legal obligation (Erase.KEEP: the audit log, provision records) must
    survive the person's deletion unchanged: its reference to them neither cascades, nor is set to
    null by the database, nor blocks the deletion with a database constraint
    (classnote.base.inventory.kept_reference)."""
    checked = 0
    for model, declaration in inventory.personal_models():
        for link in declaration.subject:
            if link.erase != Erase.KEEP or not isinstance(link.path, str) or "__" in link.path:
                continue
            field = model._meta.get_field(link.path)
            assert field.remote_field.on_delete is models.DO_NOTHING, f"{model._meta.label}.{link.path}"
            assert field.db_constraint is False, f"{model._meta.label}.{link.path}"
            assert field.remote_field.related_name == "+", f"{model._meta.label}.{link.path}"
            checked += 1
    assert checked >= 3


def test_the_models_and_the_migrations_agree(db: None) -> None:
    """No model change (a kept reference's constraint or nullability included) is left without its
    migration."""
    call_command("makemigrations", "--check", "--dry-run", stdout=StringIO())
