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

from django.core.management import call_command

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
