"""`classnote probe setup [--name NAME] [--credentials FILE] [--reset]`
`classnote probe [--url URL] [--every SECONDS] [--rounds N] [--credentials FILE] [--name NAME] [--jobs]`

The status prober as a process of its own, e.g. on another machine (docs/operations.md, *Probes*):
the same checks as the scheduled job of the embedded default (classnote.status.prober), recorded
into the configured database when it can be written, else into the local spool (STATUS_SPOOL_DIR),
inserted once the database is back.

``setup`` makes the synthetic probe tenant and this prober's own teacher and pupil, and writes their
passwords and API token to the credentials file (mode 0600; nothing secret is printed). Copy that
file to the machine that runs the prober. Without ``--reset`` an existing, readable file is kept.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from classnote.privacy import egress
from classnote.status import probe_tenant, recording
from classnote.status.tasks import jobs_check


class Command(BaseCommand):
    help = (
        "Run the status prober's checks against a URL (every component once per round) and record the "
        "results; `setup` creates the synthetic probe tenant and writes its credentials file."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", nargs="?", choices=["run", "setup"], default="run")
        parser.add_argument("--url", default="", help="the service's base URL (default: STATUS_PROBE_URL)")
        parser.add_argument("--every", type=int, default=0, metavar="SECONDS", help="seconds between rounds")
        parser.add_argument("--rounds", type=int, default=0, metavar="N", help="stop after N rounds (0: run on)")
        parser.add_argument(
            "--credentials",
            default="",
            metavar="FILE",
            help="the file `probe setup` wrote (default: STATUS_PROBE_CREDENTIALS)",
        )
        parser.add_argument(
            "--name", default="", help="this prober's name, recorded with its results (default: the host name)"
        )
        parser.add_argument("--reset", action="store_true", help="setup: new passwords and token even if a file exists")
        parser.add_argument(
            "--jobs",
            action="store_true",
            default=bool(settings.REDIS_URL),
            help="also probe the background jobs (needs the service's job queue: on by default with REDIS_URL)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["credentials"]) if options["credentials"] else probe_tenant.credentials_path()
        name = options["name"] or recording.prober_name()
        if options["action"] == "setup":
            self._setup(path, name, reset=options["reset"])
            return
        url = (options["url"] or settings.STATUS_PROBE_URL).strip()
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
            raise CommandError("Give the service's address: --url https://... (or set STATUS_PROBE_URL).")
        every = options["every"] or int(settings.STATUS_PROBE_SECONDS)
        if every < 1 or options["rounds"] < 0:
            raise CommandError("--every must be at least 1 second and --rounds 0 or more.")
        try:
            credentials = probe_tenant.Credentials.read(path)
        except (OSError, ValueError):
            raise CommandError(f"No probe credentials in {path}: run `classnote probe setup` first.") from None
        egress.install(extra_hosts=[urlsplit(url).hostname or ""])
        done = 0
        while True:
            began = time.monotonic()
            try:
                jobs = jobs_check if options["jobs"] else None
                outcomes = recording.round_and_record(url, credentials, name, jobs=jobs)
            except Exception as error:  # noqa: BLE001 - e.g. neither the database nor the spool writable
                self.stderr.write(f"round not recorded: {type(error).__name__}")
                outcomes = []
            self.stdout.write(
                " ".join(
                    f"{o.component}={'ok' if o.ok else 'failed:' + (o.failed_step or '-')}({o.latency_ms}ms)"
                    for o in outcomes
                )
            )
            self.stdout.flush()
            done += 1
            if options["rounds"] and done >= options["rounds"]:
                return
            time.sleep(max(0.0, every - (time.monotonic() - began)))

    def _setup(self, path: Path, name: str, *, reset: bool) -> None:
        if not reset:
            try:
                probe_tenant.Credentials.read(path)
            except (OSError, ValueError):
                pass
            else:
                probe_tenant.ensure_probe_tenant()
                self.stdout.write(f"Probe credentials kept: {path} (--reset makes new ones)")
                return
        probe_tenant.reset_credentials(name).write(path)
        self.stdout.write(f"Probe tenant ready; credentials written to {path} (mode 0600). Keep it secret.")
