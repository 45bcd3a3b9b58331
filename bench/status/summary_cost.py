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
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "classnote.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from classnote.status import history, queries
    from classnote.status.components import COMPONENTS
    from classnote.status.models import DailyAggregate, ProbeResult

    call_command("migrate", interactive=False, verbosity=0)
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
    print(f"aggregation: {len(days)} days in {wall:.1f} s wall, {cpu:.1f} s CPU ({wall / max(1, len(days)):.2f} s per day)")

    walls, cpus = [], []
    for _ in range(args.repeat):
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
