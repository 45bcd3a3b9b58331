"""What the status page's summary costs on a realistic history (issue 15, figures).

    CLASSNOTE_HOME=$(mktemp -d) CLASSNOTE_ENV=development .venv/bin/python -m bench.status.summary_cost

In a fresh CLASSNOTE_HOME (SQLite; or DATABASE_URL for PostgreSQL): migrates, records --days days
of probes of the six components every --every seconds (90 × 6 × 1,440 = 777,600 rows by default)
with a few failures, aggregates every complete day (the nightly job's work, timed per day), then
times classnote.status.queries.summary(): wall and CPU seconds, median and slowest of --repeat runs,
and its number of queries. Prints one line per figure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--every", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--reuse", action="store_true", help="time summary() on the history already recorded")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--late", action="store_true", help="with --reuse: as of 23:59:30 yesterday (the most raw rows: ~2 full days)"
    )
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "classnote.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from classnote.status import history
    from classnote.status.components import COMPONENTS
    from classnote.status.models import DailyAggregate, ProbeResult

    call_command("migrate", interactive=False, verbosity=0)
    if args.reuse:
        last = ProbeResult.objects.order_by("-at").values_list("at", flat=True).first()
        assert last is not None, "nothing recorded: run without --reuse first"
        now = last + dt.timedelta(seconds=30)
        if args.late:
            now = now.replace(hour=23, minute=59, second=30, microsecond=0) - dt.timedelta(days=1)
        time_summary(now, args.repeat, args.profile)
        return
    now = timezone.now().replace(microsecond=0)
    start = now - dt.timedelta(days=args.days)
    ProbeResult.objects.all().delete()
    DailyAggregate.objects.all().delete()
    began = time.perf_counter()
    batch: list[ProbeResult] = []
    n = 0
    at = start
    while at < now:
        for key in COMPONENTS:
            bad = n % 5000 == 17  # a failure now and then
            batch.append(
                ProbeResult(component=key, at=at, answered=True, ok=not bad, latency_ms=150 + n % 97, failed_step="")
            )
            n += 1
        if len(batch) >= 6000:
            ProbeResult.objects.bulk_create(batch, batch_size=1000)
            batch = []
        at += dt.timedelta(seconds=args.every)
    ProbeResult.objects.bulk_create(batch, batch_size=1000)
    print(f"rows: {n} probe results recorded in {time.perf_counter() - began:.1f} s")

    began, cpu = time.perf_counter(), time.process_time()
    days = history.aggregate_missing(now=now)
    wall, cpu = time.perf_counter() - began, time.process_time() - cpu
    print(
        f"aggregation: {len(days)} days in {wall:.1f} s wall, {cpu:.1f} s CPU ({wall / max(1, len(days)):.2f} s per day)"
    )

    time_summary(now, args.repeat, args.profile)


def time_summary(now: dt.datetime, repeat: int, profile: bool) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from classnote.status import queries

    if profile:
        import cProfile
        import pstats

        cProfile.runctx("queries.summary(now)", globals(), {"queries": queries, "now": now}, "/tmp/summary.prof")
        pstats.Stats("/tmp/summary.prof").sort_stats("cumulative").print_stats(25)
    walls, cpus = [], []
    for _ in range(repeat):
        began, cpu = time.perf_counter(), time.process_time()
        with CaptureQueriesContext(connection) as captured:
            queries.summary(now)
        walls.append(time.perf_counter() - began)
        cpus.append(time.process_time() - cpu)
    print(
        f"summary(): median {statistics.median(walls) * 1000:.0f} ms wall, {statistics.median(cpus) * 1000:.0f} ms CPU; "
        f"slowest {max(walls) * 1000:.0f} ms; {len(captured.captured_queries)} queries"
    )


if __name__ == "__main__":
    main()
