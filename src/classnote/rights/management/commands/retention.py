"""classnote retention [--dry-run] [--today YYYY-MM-DD]
classnote retention --export-tenant MUNICIPALITY_ID --out FILE.zip
classnote retention --export-offered MUNICIPALITY_ID"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from classnote.rights import retention
from classnote.tenancy.models import Municipality


class Command(BaseCommand):
    def _export(self, municipality_id: int, out: str | None) -> None:
        from pathlib import Path

        from classnote.rights.disclosure import write_tenant

        municipality = Municipality.objects.filter(pk=municipality_id).first()
        if municipality is None:
            raise CommandError(f"no municipality with id {municipality_id}")
        if not out:
            raise CommandError("--export-tenant needs --out FILE.zip")
        path = Path(out)
        if path.exists():
            raise CommandError(f"{path} exists; choose a new file name")
        with path.open("xb") as target:
            people = write_tenant(target, municipality)
        path.chmod(0o600)
        self.stdout.write(
            f"wrote {people} people of municipality {municipality_id} to {path}; hand it over securely, then run "
            f"classnote retention --export-offered {municipality_id}"
        )

    help = "Apply the retention rules now (the nightly job does the same); --dry-run shows what would be deleted."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="only report what would be deleted")
        parser.add_argument("--today", help="evaluate the rules as of this date (YYYY-MM-DD), e.g. to preview")
        parser.add_argument(
            "--export-tenant",
            type=int,
            metavar="MUNICIPALITY_ID",
            help="write the tenant's full export (every person's data and files) to --out, to hand to the tenant",
        )
        parser.add_argument("--out", help="the ZIP file --export-tenant writes (must not exist)")
        parser.add_argument(
            "--export-offered",
            type=int,
            metavar="MUNICIPALITY_ID",
            help="record that the tenant's full export was handed over (its data may then be deleted)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["export_tenant"] is not None:
            self._export(options["export_tenant"], options["out"])
            return
        if options["export_offered"] is not None:
            updated = Municipality.objects.filter(pk=options["export_offered"]).update(export_offered_at=timezone.now())
            if not updated:
                raise CommandError(f"no municipality with id {options['export_offered']}")
            self.stdout.write(f"export offered to municipality {options['export_offered']} recorded")
            return
        today = None
        if options["today"]:
            try:
                today = dt.date.fromisoformat(options["today"])
            except ValueError:
                raise CommandError("--today must be a date like 2027-03-31") from None
        report = retention.run(dry_run=options["dry_run"], today=today)
        self.stdout.write(("DRY RUN — nothing was deleted\n" if options["dry_run"] else "") + "\n".join(report.lines()))
