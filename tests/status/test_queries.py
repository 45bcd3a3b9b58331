"""queries.summary(): the whole status page from the models, cheaply, drafts never in it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from classnote.status import figures as fig
from classnote.status import history, queries
from classnote.status.components import COMPONENTS, FILES, JOBS, SIGN_IN
from classnote.status.models import (
    DailyAggregate,
    IncidentState,
    Maintenance,
    ProbeResult,
    StatusIncident,
    StatusUpdate,
)
from classnote.status.summary import MAINTENANCE, OPERATIONAL, OUTAGE, UNKNOWN

pytestmark = pytest.mark.django_db

UTC = dt.UTC
NOW = dt.datetime(2026, 5, 10, 12, 0, 30, tzinfo=UTC)
MINUTE = dt.timedelta(minutes=1)


def record(start: dt.datetime, end: dt.datetime, *, every: int = 60, failing=lambda key, t: False) -> None:  # noqa: ANN001
    rows = []
    at = start
    while at < end:
        for key in COMPONENTS:
            bad = failing(key, at)
            rows.append(
                ProbeResult(
                    component=key,
                    at=at,
                    answered=True,
                    ok=not bad,
                    latency_ms=None if bad else 200,
                    failed_step="upload" if bad else "",
                )
            )
        at += dt.timedelta(seconds=every)
    ProbeResult.objects.bulk_create(rows, batch_size=2000)


def test_the_summary_of_a_service_with_a_partial_outage_now() -> None:
    record(NOW - 3 * fig.DAY, NOW, failing=lambda key, t: key == FILES and t >= NOW - 10 * MINUTE)
    history.aggregate_missing(now=NOW)
    summary = queries.summary(NOW)
    by_key = {c.key: c for c in summary.components}
    assert list(by_key) == list(COMPONENTS)
    assert by_key[FILES].state == OUTAGE
    assert by_key[FILES].failed_step == "upload"
    assert by_key[SIGN_IN].state == OPERATIONAL
    assert by_key[SIGN_IN].latency_ms == 200
    assert summary.state == summary.service.state == OUTAGE
    # Ten failing probes, 11:50:30 to 11:59:30, the last one holding until now (12:00:30).
    day = summary.service.periods["day"]
    assert day.known_seconds - day.available_seconds == 10 * 60
    assert set(summary.service.periods) == {"day", "30d", "90d", "quarter"}
    assert summary.service.previous_quarter is not None
    assert summary.service.previous_quarter.coverage == 0.0  # nothing recorded then
    assert len(summary.service.bars) == 90
    bars = summary.service.bars
    # 10 min of 12 h: availability 98.6 % < 99 %, an outage day.
    assert bars[-1].day == NOW.date() and bars[-1].state == OUTAGE
    assert bars[-2].state == OPERATIONAL  # from its aggregate
    assert bars[-4].state == UNKNOWN  # before the record began (partly observed)
    assert bars[0].state == UNKNOWN
    assert summary.budget.slo == 0.9995
    assert summary.budget.spent_seconds == pytest.approx(600)


def test_yesterday_comes_from_raw_probes_until_the_nightly_job_ran_and_a_stale_prober_is_unknown() -> None:
    record(NOW - 2 * fig.DAY, NOW - 10 * MINUTE)
    summary = queries.summary(NOW)
    assert not DailyAggregate.objects.exists()
    by_key = {c.key: c for c in summary.components}
    assert by_key[SIGN_IN].state == UNKNOWN  # the last probe is 11 minutes old
    assert by_key[SIGN_IN].checked_at == NOW - 11 * MINUTE
    assert summary.state == UNKNOWN
    assert summary.service.bars[-2].state == OPERATIONAL  # yesterday, from raw rows
    assert summary.service.bars[-3].state == UNKNOWN  # no aggregate and no longer in the raw window read
    today = summary.service.bars[-1].figures
    assert today.unknown_seconds > 0 and today.coverage is not None and today.coverage < 1


def test_a_component_with_no_probe_at_all_is_unknown() -> None:
    summary = queries.summary(NOW)
    assert {c.state for c in summary.components} == {UNKNOWN}
    assert summary.service.periods["30d"].availability is None
    assert summary.budget.left_fraction is None


def test_incidents_drafts_never_and_maintenance_active_and_upcoming() -> None:
    record(NOW - 5 * MINUTE, NOW)
    active = StatusIncident.objects.create(
        title="Slow uploads", components=[FILES], started_at=NOW - 30 * MINUTE, published_at=NOW - 25 * MINUTE
    )
    StatusUpdate.objects.create(incident=active, state="investigating", body="Looking", at=NOW - 25 * MINUTE)
    StatusUpdate.objects.create(incident=active, state="identified", body="Found it", at=NOW - 5 * MINUTE)
    StatusIncident.objects.create(title="Draft by the prober", automatic=True, started_at=NOW - 3 * MINUTE)
    StatusIncident.objects.create(title="Resolved draft", started_at=NOW - 3 * fig.DAY, resolved_at=NOW - 2 * fig.DAY)
    StatusIncident.objects.create(
        title="Last month",
        state=IncidentState.RESOLVED,
        started_at=NOW - 40 * fig.DAY,
        published_at=NOW - 40 * fig.DAY,
        resolved_at=NOW - 39 * fig.DAY,
    )
    StatusIncident.objects.create(
        title="Long ago",
        started_at=NOW - 100 * fig.DAY,
        published_at=NOW - 100 * fig.DAY,
        resolved_at=NOW - 99 * fig.DAY,
    )
    Maintenance.objects.create(title="Now", components=[JOBS], starts_at=NOW - MINUTE, ends_at=NOW + 10 * MINUTE)
    Maintenance.objects.create(title="Soon", components=[FILES], starts_at=NOW + fig.DAY, ends_at=NOW + 2 * fig.DAY)
    Maintenance.objects.create(
        title="Cancelled", starts_at=NOW + fig.DAY, ends_at=NOW + 2 * fig.DAY, cancelled_at=NOW - MINUTE
    )
    Maintenance.objects.create(title="Over", starts_at=NOW - fig.DAY, ends_at=NOW - fig.DAY + MINUTE)

    summary = queries.summary(NOW)
    assert [p.title for p in summary.active_incidents] == ["Slow uploads"]
    post = summary.active_incidents[0]
    assert post.kind == "incident" and post.components == [FILES]
    assert [u[2] for u in post.updates] == ["Found it", "Looking"]  # newest first
    assert post.body == "Found it" and post.updated_at == NOW - 5 * MINUTE
    assert [p.title for p in summary.past_incidents] == ["Last month"]
    assert [(p.title, p.state) for p in summary.maintenance] == [("Now", "in_progress"), ("Soon", "scheduled")]
    assert {c.key: c.state for c in summary.components}[JOBS] == MAINTENANCE
    everything = repr(summary)
    assert "Draft" not in everything and "Cancelled" not in everything


def test_component_names_follow_the_active_language() -> None:
    with translation.override("ja"):
        summary = queries.summary(NOW)
    names = {c.key: c.name for c in summary.components}
    assert names[SIGN_IN] != "Sign-in"
    assert str(fig.STATE_LABELS[OPERATIONAL]) == "Operational"


def _count_queries() -> int:
    with CaptureQueriesContext(connection) as captured:
        queries.summary(NOW)
    return len(captured.captured_queries)


def test_the_summary_costs_a_fixed_number_of_queries_whatever_the_history() -> None:
    record(NOW - 2 * fig.DAY, NOW, every=600)
    history.aggregate_missing(now=NOW)
    StatusIncident.objects.create(title="One", started_at=NOW, published_at=NOW)
    small = _count_queries()
    # 30 more days of aggregates, more raw rows, incidents with updates and maintenance.
    record(NOW - 40 * fig.DAY, NOW - 2 * fig.DAY, every=600)
    history.aggregate_missing(now=NOW)
    for n in range(5):
        incident = StatusIncident.objects.create(title=f"I{n}", started_at=NOW - n * fig.DAY, published_at=NOW)
        for m in range(3):
            StatusUpdate.objects.create(incident=incident, state="investigating", body=f"u{m}", at=NOW)
        Maintenance.objects.create(title=f"M{n}", starts_at=NOW + n * fig.DAY, ends_at=NOW + (n + 1) * fig.DAY)
    assert _count_queries() == small
    assert small <= 11


def test_results_waiting_in_the_spool_count_as_observations() -> None:
    """While the database cannot be written (a full disk), the round's results wait in the spool:
    the page counts them all the same, so the outage shows as it happens."""
    record(NOW - dt.timedelta(hours=1), NOW - 2 * MINUTE)
    waiting = [
        ProbeResult(
            component=FILES,
            at=NOW - 2 * MINUTE + dt.timedelta(seconds=t),
            answered=True,
            ok=False,
            failed_step="upload",
        )
        for t in (0, 60)
    ]
    before = {c.key: c for c in queries.summary(NOW).components}
    assert before[FILES].state == UNKNOWN  # the database alone: its last probe is older than the gap
    summary = queries.summary(NOW, pending=waiting)
    by_key = {c.key: c for c in summary.components}
    assert by_key[FILES].state == OUTAGE and by_key[FILES].failed_step == "upload"
    assert by_key[FILES].checked_at == waiting[-1].at
    assert by_key[SIGN_IN].state == UNKNOWN  # nothing newer of it anywhere
    assert summary.state == OUTAGE
    day = by_key[FILES].periods["day"]
    assert day.known_seconds - day.available_seconds == pytest.approx(120)  # failed since the first waiting
    assert ProbeResult.objects.filter(ok=False).count() == 0  # counted, not stored
