"""`classnote worker`: a background-job process for scale-out (REDIS_URL set)."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from classnote.privacy import egress


class Command(BaseCommand):
    help = "Run background jobs (huey consumer). Use with REDIS_URL in scale-out."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workers", type=int, default=2)

    def handle(self, *args: Any, **options: Any) -> None:

        egress.install()  # no outbound connection to a host outside the declared list
        call_command("run_huey", workers=options["workers"], worker_type="thread")
