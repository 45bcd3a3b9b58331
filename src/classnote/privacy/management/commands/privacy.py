"""`classnote privacy inventory --format markdown|json|snapshot`: the personal information ledger.

``snapshot`` prints the classification of every stored field (personal or not, and how) and how
each model's rows are found for one person; tests/privacy/inventory_snapshot.json is its reviewed
copy, compared with the code by tests/privacy/test_inventory_snapshot.py."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from classnote.privacy import inventory


class Command(BaseCommand):
    help = "Privacy tools. `inventory` prints the data inventory (personal information ledger)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["inventory"])
        parser.add_argument("--format", choices=["markdown", "json", "snapshot"], default="markdown")

    def handle(self, *args: Any, **options: Any) -> None:
        missing = inventory.undeclared()
        if missing:
            raise CommandError(f"Undeclared fields (declare them next to their model): {', '.join(missing)}")
        if options["format"] == "snapshot":
            self.stdout.write(json.dumps(inventory.classification(), ensure_ascii=False, indent=2, sort_keys=True))
            return
        entries = inventory.entries()
        if options["format"] == "json":
            self.stdout.write(json.dumps(entries, ensure_ascii=False, indent=2))
            return
        self.stdout.write("# Personal information ledger\n")
        self.stdout.write(
            "| model | field | category | purposes | legal basis | retention | audience | MEXT | optional |"
        )
        self.stdout.write("|---|---|---|---|---|---|---|---|---|")
        for e in entries:
            cells = [
                e["model"],
                e["field"],
                e["category"],
                "; ".join(e["purposes"]),
                e["legal_basis"],
                e["retention"],
                "; ".join(e["audience"]),
                e["mext_class"],
                "yes" if e["optional"] else "",
            ]
            self.stdout.write("| " + " | ".join(cells) + " |")
