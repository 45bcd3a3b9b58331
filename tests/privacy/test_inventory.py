"""The data inventory is complete: a model field that is neither declared personal nor declared
not personal fails the build, with a message that says what to declare."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import models

from classnote.privacy import inventory

KEYS = {"model", "field", "category", "purposes", "legal_basis", "retention", "audience", "mext_class", "optional"}


def test_every_stored_field_is_declared() -> None:
    missing = inventory.undeclared()
    assert not missing, (
        "These fields are not in the data inventory. Declare each one next to its model "
        "(PRIVACY = inventory.fields(personal={...: inventory.personal(category, purposes=..., retention=..., "
        f"audience=...)}}, not_personal=[...])), or in classnote/privacy/third_party.py: {missing}"
    )


def test_a_new_undeclared_field_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    from classnote.accounts.models import User

    extra = models.CharField(name="nickname", max_length=20)
    extra.set_attributes_from_name("nickname")
    extra.model = User
    monkeypatch.setattr(User._meta, "concrete_fields", (*User._meta.concrete_fields, extra))
    assert "accounts.User.nickname" in inventory.undeclared()
    with pytest.raises(CommandError, match=r"accounts\.User\.nickname"):
        call_command("privacy", "inventory", stdout=StringIO())


def test_inventory_json_lists_the_ledger() -> None:
    out = StringIO()
    call_command("privacy", "inventory", "--format", "json", stdout=out)
    entries = json.loads(out.getvalue())
    assert entries and all(set(entry) == KEYS for entry in entries)
    by_field = {(e["model"], e["field"]): e for e in entries}
    name = by_field[("accounts.User", "display_name")]
    assert name["category"] == "identifier" and name["purposes"] and name["audience"] and name["retention"]
    assert ("cards.Card", "text") in by_field and ("lessons.Submission", "return_comment") in by_field
    assert ("usersessions.UserSession", "ip") in by_field  # libraries' tables count too


def test_inventory_markdown() -> None:
    out = StringIO()
    call_command("privacy", "inventory", "--format", "markdown", stdout=out)
    assert "| accounts.User | student_number | identifier |" in out.getvalue()


def test_pupils_need_no_email_or_birth_date() -> None:
    personal_fields = {e["field"] for e in inventory.entries() if e["model"] == "accounts.User"}
    assert not personal_fields & {"email", "birth_date", "date_of_birth", "address", "phone"}
    # allauth's e-mail table exists but is declared optional and stays empty.
    email = [e for e in inventory.entries() if e["model"] == "account.EmailAddress" and e["field"] == "email"]
    assert email and email[0]["optional"]


def test_every_personal_model_says_how_one_persons_rows_are_found() -> None:
    missing = inventory.unlinked_models()
    assert not missing, (
        "These models hold personal fields but do not say how one person's rows are found (for "
        "disclosure exports and deletion). Add subject=[inventory.link('<lookup to accounts.User>', "
        f"Erase.DELETE | Erase.DETACH | Erase.KEEP)] or unlinked='<why>' to their declaration: {missing}"
    )
