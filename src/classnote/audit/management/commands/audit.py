"""`classnote audit verify`: check the audit log's hash chain; exit non-zero and name the entries
if any was edited or deleted."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from classnote.audit.log import verify
from classnote.audit.models import AuditEntry


class Command(BaseCommand):
    help = "Audit log tools. `verify` checks that no entry was edited or deleted."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["verify"])

    def handle(self, *args: Any, **options: Any) -> None:
        problems = verify()
        if problems:
            lines = [f"entry #{p.entry_id}: {p.reason}" if p.entry_id else p.reason for p in problems]
            raise CommandError("The audit log has been tampered with:\n" + "\n".join(lines))
        self.stdout.write(self.style.SUCCESS(f"Audit log intact: {AuditEntry.objects.count()} entries verified."))
