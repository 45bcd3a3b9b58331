"""Run the patch check against the configured feed (SECURITY_FEED) and store the report."""

from __future__ import annotations

import logging
from datetime import date

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from classnote.security import patches
from classnote.security.models import PatchReport

logger = logging.getLogger("classnote.security.patches")

# Reports kept; a finding's first-seen day is carried from each report to the next, so older ones
# are not needed for deadlines.
KEEP_REPORTS = 90


def configured_feeds() -> list[str]:
    return list(settings.CLASSNOTE_SECURITY_FEEDS)


def latest() -> PatchReport | None:
    return PatchReport.objects.first()


def latest_successful() -> PatchReport | None:
    return PatchReport.objects.filter(error="").first()


def first_seen() -> dict[str, date]:
    """The day each finding (package:advisory) was first reported, from the last successful report."""
    try:
        report = latest_successful()
    except DatabaseError:  # the command run before `migrate`: no history yet
        return {}
    if report is None:
        return {}
    seen = {}
    for data in report.findings:
        finding = patches.Finding.from_dict(data)
        seen[finding.key] = finding.first_seen or timezone.localdate(report.checked_at)
    return seen


def run(trigger: str, *, today: date | None = None) -> PatchReport | None:
    """Check the installed packages against SECURITY_FEED and store the result; None without a feed."""
    feeds = configured_feeds()
    if not feeds:
        return None
    today = today or timezone.localdate()
    names = [patches.display(feed) for feed in feeds]
    try:
        advisories = patches.load(feeds)
    except patches.FeedError as error:
        report = PatchReport.objects.create(trigger=trigger, feeds=names, error=str(error))
        logger.warning("patch check failed: %s", error, extra={"event": "security.patches_failed"})
    else:
        result = patches.check(advisories, patches.installed_packages(), today, feeds=feeds, first_seen=first_seen())
        report = PatchReport.objects.create(
            trigger=trigger,
            feeds=names,
            packages_checked=result.packages,
            affected=len(result.findings),
            overdue=len(result.overdue),
            findings=[finding.as_dict() for finding in result.findings],
        )
        log = logger.warning if result.overdue else logger.info
        log(
            "patch check: %d affected, %d overdue",
            len(result.findings),
            len(result.overdue),
            extra={
                "event": "security.patches_checked",
                "affected": len(result.findings),
                "overdue": len(result.overdue),
            },
        )
    stale = PatchReport.objects.values_list("pk", flat=True)[KEEP_REPORTS:]
    PatchReport.objects.filter(pk__in=list(stale)).delete()
    return report
