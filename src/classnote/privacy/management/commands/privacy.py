"""`classnote privacy inventory --format markdown|json`: the personal information ledger."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from classnote.privacy import inventory


class Command(BaseCommand):
    help = "Privacy tools. `inventory` prints the data inventory (personal information ledger)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["inventory"])
        parser.add_argument("--format", choices=["markdown", "json"], default="markdown")

    def handle(self, *args: Any, **options: Any) -> None:
        missing = inventory.undeclared()
        if missing:
            raise CommandError(f"Undeclared fields (declare them next to their model): {', '.join(missing)}")
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
