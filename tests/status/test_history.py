"""Daily aggregation and retention of the probe record (status/history.py, status/tasks.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings

from classnote.status import figures as fig
from classnote.status import history, tasks
from classnote.status.components import COMPONENTS, FILES, USER_FACING
from classnote.status.models import DailyAggregate, Maintenance, ProbeResult

pytestmark = pytest.mark.django_db

UTC = dt.UTC
NOW = dt.datetime(2026, 5, 10, 12, 0, tzinfo=UTC)


def record(start: dt.datetime, end: dt.datetime, *, every: int = 60, failing=lambda key, t: False) -> None:  # noqa: ANN001
    rows = []
    at = start
    while at < end:
        for key in COMPONENTS:
            bad = failing(key, at)
            rows.append(ProbeResult(component=key, at=at, answered=True, ok=not bad, latency_ms=None if bad else 150))
        at += dt.timedelta(seconds=every)
    ProbeResult.objects.bulk_create(rows, batch_size=2000)


def test_a_day_is_aggregated_per_component_and_for_the_service_and_recomputing_replaces_it() -> None:
    day = dt.date(2026, 5, 8)
    first_bad = dt.datetime(2026, 5, 8, 9, 0, tzinfo=UTC)
    record(
        fig.midnight(day) - dt.timedelta(minutes=5),
        fig.midnight(day) + fig.DAY,
        failing=lambda key, t: key == FILES and first_bad <= t < first_bad + dt.timedelta(seconds=600),
    )
    Maintenance.objects.create(
        title="Upgrade",
        components=[FILES],
        starts_at=dt.datetime(2026, 5, 8, 2, tzinfo=UTC),
        ends_at=dt.datetime(2026, 5, 8, 2, 30, tzinfo=UTC),
    )
    history.aggregate_day(day, now=NOW)
    history.aggregate_day(day, now=NOW)  # idempotent
    rows = {row.component: row for row in DailyAggregate.objects.filter(day=day)}
    assert set(rows) == {*COMPONENTS, "service"}
    files = rows[FILES]
    assert (files.known_seconds, files.maintenance_seconds) == (86_400 - 1800, 1800)
    assert files.known_seconds - files.available_seconds == 600
    assert files.answered_seconds == files.known_seconds
    assert (files.probes, files.failures) == (1440, 10)
    assert files.latency_p50_ms == 150
    service = rows["service"]
    assert service.known_seconds - service.available_seconds == 600
    assert service.maintenance_seconds == 1800  # file storage's maintenance, the others fine
    assert (service.probes, service.failures) == (1440 * len(USER_FACING), 10)
    assert rows["jobs"].available_seconds == 86_400


def test_periods_computed_from_aggregates_equal_those_from_raw_probes() -> None:
    start = dt.datetime(2026, 5, 5, tzinfo=UTC)
    first_bad = dt.datetime(2026, 5, 6, 23, 57, tzinfo=UTC)  # across midnight
    record(
        start,
        start + 3 * fig.DAY,
        every=120,
        failing=lambda key, t: key == "api" and first_bad <= t < first_bad + dt.timedelta(minutes=8),
    )
    with override_settings(STATUS_GAP_SECONDS=300):
        for day in fig.days_between(start.date(), start.date() + 3 * fig.DAY):
            history.aggregate_day(day, now=NOW)
        raw = history.figures_for(
            history.load_observations(start, start + 3 * fig.DAY),
            {},
            start,
            start + 3 * fig.DAY,
            gap=history.gap_seconds(),
        )
    for key in ("api", "service"):
        days = [history.figures_of(row) for row in DailyAggregate.objects.filter(component=key).order_by("day")]
        combined = fig.combine(days, start, start + 3 * fig.DAY)
        assert combined.available_seconds == pytest.approx(raw[key].available_seconds, abs=1)
        assert combined.known_seconds - combined.available_seconds == 480


def test_missing_days_and_yesterday_are_aggregated_not_today() -> None:
    record(dt.datetime(2026, 5, 6, 18, tzinfo=UTC), NOW, every=300)
    DailyAggregate.objects.create(component="service", day=dt.date(2026, 5, 7))
    days = history.aggregate_missing(now=NOW)
    assert days == [dt.date(2026, 5, 6), dt.date(2026, 5, 8), dt.date(2026, 5, 9)]
    assert not DailyAggregate.objects.filter(day=NOW.date()).exists()
    assert history.aggregate_missing(now=NOW) == [dt.date(2026, 5, 9)]  # yesterday, recomputed


@override_settings(STATUS_RAW_DAYS=3, STATUS_AGGREGATE_DAYS=30)
def test_retention_deletes_raw_rows_only_of_aggregated_days_and_old_aggregates() -> None:
    record(NOW - 6 * fig.DAY, NOW, every=600)
    DailyAggregate.objects.create(component="service", day=NOW.date() - dt.timedelta(days=31))
    DailyAggregate.objects.create(component="service", day=NOW.date() - dt.timedelta(days=30))
    raw, aggregates = history.apply_retention(now=NOW)
    cutoff = fig.midnight(NOW.date() - dt.timedelta(days=3))
    assert raw > 0 and aggregates == 1
    assert not ProbeResult.objects.filter(at__lt=cutoff).exists()
    assert ProbeResult.objects.filter(at__gte=cutoff).exists()
    # Every day whose raw rows went has its aggregates.
    for day in fig.days_between((NOW - 6 * fig.DAY).date(), cutoff.date()):
        assert DailyAggregate.objects.filter(day=day).count() == len(COMPONENTS) + 1


@override_settings(STATUS_RAW_DAYS=3)
def test_retention_keeps_the_raw_rows_of_a_day_that_could_not_be_aggregated(monkeypatch) -> None:  # noqa: ANN001
    record(NOW - 6 * fig.DAY, NOW, every=600)
    stuck = (NOW - 5 * fig.DAY).date()
    original = history.aggregate_day

    def failing_on_one_day(day: dt.date, **kwargs):  # noqa: ANN003, ANN202
        return [] if day == stuck else original(day, **kwargs)

    monkeypatch.setattr(history, "aggregate_day", failing_on_one_day)
    history.apply_retention(now=NOW)
    # The day before it was deleted (aggregated); from the stuck day on, everything is kept.
    assert not ProbeResult.objects.filter(at__lt=fig.midnight(stuck)).exists()
    assert ProbeResult.objects.filter(at__gte=fig.midnight(stuck), at__lt=fig.midnight(stuck + fig.DAY)).exists()


def test_the_nightly_tasks_run() -> None:
    yesterday = dt.datetime.now(UTC).date() - fig.DAY
    record(fig.midnight(yesterday), fig.midnight(yesterday) + dt.timedelta(hours=1), every=600)
    tasks.aggregate_status_days.call_local()
    assert DailyAggregate.objects.filter(day=yesterday, component="service").exists()
    tasks.apply_status_retention.call_local()
    assert ProbeResult.objects.exists()  # a day old: kept
