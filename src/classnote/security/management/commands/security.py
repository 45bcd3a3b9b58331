"""`classnote security patches [--feed PATH_OR_URL ...] [--installed FILE] [--format text|json] [--today DATE]`

Lists every installed package a vulnerability feed (OSV or pip-audit JSON) says is affected, with
its severity, fixed versions, the day counted from and the deadline (7 days for critical/high,
30 for the rest). Exit codes: 0 nothing overdue, 1 something overdue, 2 usage (no feed), 3 a feed
that cannot be read.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from classnote.privacy import egress
from classnote.security import patches, reports

EXIT_OVERDUE = 1
EXIT_USAGE = 2
EXIT_FEED = 3


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--today {text!r} is not a date (YYYY-MM-DD)", returncode=EXIT_USAGE) from None


class Command(BaseCommand):
    help = (
        "Security tools. `patches` lists installed packages a vulnerability feed (OSV or pip-audit JSON) "
        "says are affected, with their patch deadlines (7 days critical/high, 30 days the rest)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["patches"])
        parser.add_argument(
            "--feed",
            action="append",
            default=[],
            metavar="PATH_OR_URL",
            help="OSV or pip-audit JSON; a file or an http(s) URL on a declared host (repeatable). "
            "Default: SECURITY_FEED.",
        )
        parser.add_argument(
            "--installed",
            metavar="FILE",
            help="check these name==version pins (e.g. `uv export` output) instead of the running environment",
        )
        parser.add_argument("--format", choices=["text", "json"], default="text")
        parser.add_argument("--today", metavar="YYYY-MM-DD", help="count deadlines as of this day (default: today)")

    def handle(self, *args: Any, **options: Any) -> None:
        feeds = options["feed"] or reports.configured_feeds()
        if not feeds:
            raise CommandError("No feed: pass --feed PATH_OR_URL or set SECURITY_FEED.", returncode=EXIT_USAGE)
        today = _day(options["today"]) if options["today"] else timezone.localdate()
        if any(patches.is_url(feed) for feed in feeds) and not egress.active():
            egress.install()  # as `serve` and `worker` do: only declared hosts
        try:
            advisories = patches.load(feeds)
            installed = (
                patches.read_installed(Path(options["installed"]))
                if options["installed"]
                else patches.installed_packages()
            )
        except patches.FeedError as error:
            raise CommandError(str(error), returncode=EXIT_FEED) from None
        report = patches.check(advisories, installed, today, feeds=feeds, first_seen=reports.first_seen())
        if options["format"] == "json":
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        else:
            self._text(report)
        if report.overdue:
            raise CommandError(
                f"{len(report.overdue)} affected package(s) past the patch deadline", returncode=EXIT_OVERDUE
            )

    def _text(self, report: patches.Report) -> None:
        out = self.stdout.write
        out(f"Patch deadlines as of {report.today}: {', '.join(report.feeds)}")
        out(f"{report.packages} packages checked, {len(report.findings)} affected, {len(report.overdue)} overdue.")
        for f in report.findings:
            if f.overdue:
                status = f"OVERDUE by {-(f.days_left or 0)} day(s)"
            elif f.deadline is None:
                status = "no fix yet"
            else:
                status = f"{f.days_left} day(s) left"
            out("")
            out(f"{f.package} {f.installed}  {f.advisory}" + (f" ({', '.join(f.aliases)})" if f.aliases else ""))
            score = f" {f.score:.1f}" if f.score is not None else ""
            path = "urgent, 7 days" if f.urgent else "30 days"
            out(f"  severity: {f.severity.value}{score} ({path})")
            out(f"  fixed in: {', '.join(f.fixed) if f.fixed else 'no fixed version known'}")
            if f.counted_from_source == "published":
                out(f"  published: {f.counted_from}")
            elif f.counted_from_source == "first_seen":
                out(f"  published: unknown; first seen {f.counted_from}")
            out(f"  deadline: {f.deadline or '-'}  {status}")
            if f.summary:
                out(f"  {f.summary.splitlines()[0][:160]}")
