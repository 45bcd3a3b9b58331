"""Daily aggregation and retention of the probe record (docs/operations.md, *Status figures*).

Raw ``ProbeResult`` rows are kept ``STATUS_RAW_DAYS`` (90); before they go, each complete UTC day is
summed into ``DailyAggregate`` rows (one per component and one for the whole service, "service"),
kept ``STATUS_AGGREGATE_DAYS`` (730). Seconds per state add up, so any longer period is computed
from the aggregates of its days. Recomputing a day replaces its rows.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from django.conf import settings
from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from classnote.status import figures as fig
from classnote.status.components import COMPONENTS, USER_FACING
from classnote.status.models import DailyAggregate, Maintenance, ProbeResult
from classnote.status.summary import Figures

SERVICE = fig.SERVICE
DAY_SECONDS = 86_400


def probe_seconds() -> int:
    return int(getattr(settings, "STATUS_PROBE_SECONDS", fig.DEFAULT_PROBE_SECONDS))


def gap_seconds() -> float:
    """STATUS_GAP_SECONDS, or 2.5 × the probe interval when it is 0 (the default)."""
    configured = int(getattr(settings, "STATUS_GAP_SECONDS", 0) or 0)
    return float(configured) if configured > 0 else 2.5 * probe_seconds()


def windows_of(rows: Iterable[Maintenance]) -> dict[str, list[fig.Window]]:
    """Announced maintenance windows per component key (a window naming no component covers all)."""
    windows: dict[str, list[fig.Window]] = defaultdict(list)
    for row in rows:
        if row.cancelled_at is not None:
            continue
        for key in row.components or list(COMPONENTS):
            windows[key].append((row.starts_at, row.ends_at))
    return dict(windows)


def maintenance_windows(start: dt.datetime, end: dt.datetime) -> dict[str, list[fig.Window]]:
    """One query: the windows (not cancelled) overlapping [start, end), per component."""
    rows = Maintenance.objects.filter(cancelled_at__isnull=True, starts_at__lt=end, ends_at__gt=start)
    return windows_of(rows.only("components", "starts_at", "ends_at", "cancelled_at"))


def load_observations(start: dt.datetime, end: dt.datetime) -> dict[str, list[fig.Obs]]:
    """One query: the raw observations of [start - gap, end) per component, oldest first."""
    rows = (
        # component IN (...): a search of the (component, at) index, not a scan of it.
        ProbeResult.objects.filter(
            component__in=list(COMPONENTS), at__gte=start - dt.timedelta(seconds=gap_seconds()), at__lt=end
        )
        .order_by("component", "at", "id")
        .values_list("component", "at", "answered", "ok", "latency_ms")
    )
    observations: dict[str, list[fig.Obs]] = defaultdict(list)
    for component, at, answered, ok, latency_ms in rows.iterator(chunk_size=5000):
        observations[component].append(fig.Obs(at, answered, ok, latency_ms))
    return dict(observations)


def timelines_for(
    observations: Mapping[str, Sequence[fig.Obs]],
    windows: Mapping[str, Iterable[fig.Window]],
    start: dt.datetime,
    end: dt.datetime,
    *,
    gap: float,
) -> dict[str, list[fig.Segment]]:
    """Every component's and the whole service's timeline over [start, end); any part of it can
    then be tallied (``tally_for``) without building it again."""
    result = {
        key: fig.timeline(observations.get(key, ()), start, end, gap_seconds=gap, maintenance=windows.get(key, ()))
        for key in COMPONENTS
    }
    result[SERVICE] = fig.service_timeline([result[key] for key in USER_FACING])
    return result


def tally_for(
    timelines: Mapping[str, Sequence[fig.Segment]],
    observations: Mapping[str, Sequence[fig.Obs]],
    start: dt.datetime,
    end: dt.datetime,
) -> dict[str, Figures]:
    """The figures of [start, end) (inside the timelines' span) per component and for the service."""

    def latencies(keys: Iterable[str]) -> list[float]:
        return [
            float(o.latency_ms)
            for key in keys
            for o in observations.get(key, ())
            if o.ok and o.latency_ms is not None and start <= o.at < end
        ]

    result = {key: fig.tally(timelines[key], start, end, latencies([key])) for key in COMPONENTS}
    result[SERVICE] = fig.tally(timelines[SERVICE], start, end, latencies(USER_FACING))
    return result


def figures_for(
    observations: Mapping[str, Sequence[fig.Obs]],
    windows: Mapping[str, Iterable[fig.Window]],
    start: dt.datetime,
    end: dt.datetime,
    *,
    gap: float,
) -> dict[str, Figures]:
    """Every component's and the whole service's figures over [start, end)."""
    return tally_for(timelines_for(observations, windows, start, end, gap=gap), observations, start, end)


def _ms(value: float | None) -> int | None:
    return None if value is None else round(value)


def _row(key: str, day: dt.date, f: Figures, probes: int, failures: int, now: dt.datetime) -> DailyAggregate:
    maintenance = min(DAY_SECONDS, round(f.maintenance_seconds))
    known = min(DAY_SECONDS - maintenance, round(f.known_seconds))
    answered = min(known, round(f.answered_seconds))
    available = min(answered, round(f.available_seconds))
    return DailyAggregate(
        component=key,
        day=day,
        known_seconds=known,
        answered_seconds=answered,
        available_seconds=available,
        maintenance_seconds=maintenance,
        probes=probes,
        failures=failures,
        latency_p50_ms=_ms(f.latency_p50_ms),
        latency_p95_ms=_ms(f.latency_p95_ms),
        latency_p99_ms=_ms(f.latency_p99_ms),
        computed_at=now,
    )


def aggregate_day(day: dt.date, *, now: dt.datetime | None = None) -> list[DailyAggregate]:
    """Compute (or recompute: it replaces them) the day's aggregates from the raw probes."""
    now = now or timezone.now()
    start, end = fig.midnight(day), fig.midnight(day + fig.DAY)
    observations = load_observations(start, end)
    per_key = figures_for(observations, maintenance_windows(start, end), start, end, gap=gap_seconds())
    counts: dict[str, tuple[int, int]] = {}
    for key in COMPONENTS:
        inside = [o for o in observations.get(key, ()) if start <= o.at < end]
        counts[key] = (len(inside), sum(1 for o in inside if not o.ok))
    counts[SERVICE] = (
        sum(counts[key][0] for key in USER_FACING),
        sum(counts[key][1] for key in USER_FACING),
    )
    rows = [_row(key, day, f, *counts[key], now) for key, f in per_key.items()]
    with transaction.atomic():
        DailyAggregate.objects.filter(day=day).delete()
        DailyAggregate.objects.bulk_create(rows)
    return rows


def figures_of(row: DailyAggregate | Mapping[str, object]) -> Figures:
    """A stored day as Figures (a complete UTC day: 86,400 s)."""

    def get(name: str) -> object:
        return row[name] if isinstance(row, Mapping) else getattr(row, name)

    day = get("day")
    assert isinstance(day, dt.date)  # noqa: S101 - a DateField
    start = fig.midnight(day)

    def num(name: str) -> float:
        value = get(name)
        return float(value) if isinstance(value, int | float) else 0.0

    def opt(name: str) -> float | None:
        value = get(name)
        return float(value) if isinstance(value, int | float) else None

    return fig.make_figures(
        start,
        start + fig.DAY,
        known=num("known_seconds"),
        answered=num("answered_seconds"),
        available=num("available_seconds"),
        maintenance=num("maintenance_seconds"),
        p50=opt("latency_p50_ms"),
        p95=opt("latency_p95_ms"),
        p99=opt("latency_p99_ms"),
    )


def aggregate_missing(*, now: dt.datetime | None = None) -> list[dt.date]:
    """Aggregate yesterday (always: late rows from a prober's spool may have arrived) and every
    earlier complete day that still has raw probes but no aggregate. Returns the days computed."""
    now = now or timezone.now()
    today = now.astimezone(dt.UTC).date()
    first = ProbeResult.objects.aggregate(first=Min("at"))["first"]
    if first is None:
        return []
    first_day = first.astimezone(dt.UTC).date()
    done = set(DailyAggregate.objects.filter(component=SERVICE, day__gte=first_day).values_list("day", flat=True))
    yesterday = today - fig.DAY
    days = [d for d in fig.days_between(first_day, yesterday) if d not in done]
    if first_day <= yesterday:
        days.append(yesterday)
    for day in days:
        aggregate_day(day, now=now)
    return days


def apply_retention(*, now: dt.datetime | None = None) -> tuple[int, int]:
    """Delete raw probes older than STATUS_RAW_DAYS whose day is aggregated (days not yet aggregated
    are aggregated first), and aggregates older than STATUS_AGGREGATE_DAYS. Returns the counts."""
    now = now or timezone.now()
    today = now.astimezone(dt.UTC).date()
    cutoff = today - dt.timedelta(days=int(settings.STATUS_RAW_DAYS))
    aggregate_missing(now=now)
    first = ProbeResult.objects.filter(at__lt=fig.midnight(cutoff)).aggregate(first=Min("at"))["first"]
    raw_deleted = 0
    if first is not None:
        first_day = first.astimezone(dt.UTC).date()
        done = set(
            DailyAggregate.objects.filter(component=SERVICE, day__gte=first_day, day__lt=cutoff).values_list(
                "day", flat=True
            )
        )
        missing = [d for d in fig.days_between(first_day, cutoff) if d not in done]
        stop = min([cutoff, *missing])
        raw_deleted, _ = ProbeResult.objects.filter(at__lt=fig.midnight(stop)).delete()
    oldest = today - dt.timedelta(days=int(settings.STATUS_AGGREGATE_DAYS))
    aggregates_deleted, _ = DailyAggregate.objects.filter(day__lt=oldest).delete()
    return raw_deleted, aggregates_deleted
