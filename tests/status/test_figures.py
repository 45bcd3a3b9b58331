"""The status figures' method (docs/operations.md, *Status figures: the method*) on constructed
histories: pure functions, no database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from classnote.status import figures as fig
from classnote.status.components import API, BACKUPS, FILES, JOBS, LESSONS, SIGN_IN, USER_FACING
from classnote.status.summary import DEGRADED, MAINTENANCE, OPERATIONAL, OUTAGE, STATES, UNKNOWN

UTC = dt.UTC
S = dt.timedelta(seconds=1)
Q1_START = dt.datetime(2026, 1, 1, tzinfo=UTC)  # Q1 2026: 1 January to 31 March, 90 days
Q1_END = dt.datetime(2026, 4, 1, tzinfo=UTC)


def probes(
    start: dt.datetime,
    end: dt.datetime,
    *,
    every: int = 60,
    failing: Callable[[dt.datetime], bool] = lambda t: False,
    answered_when_failing: bool = True,
    latency_ms: int = 120,
) -> list[fig.Obs]:
    """One probe every ``every`` seconds over [start, end)."""
    result = []
    at = start
    while at < end:
        bad = failing(at)
        result.append(
            fig.Obs(at, answered=answered_when_failing or not bad, ok=not bad, latency_ms=None if bad else latency_ms)
        )
        at += every * S
    return result


def quarter_with_failure(t: dt.datetime, *, answered: bool) -> list[fig.Obs]:
    """Probes every 60 s over Q1; the first failing probe at t, the first successful one at t + 801 s."""
    good_before = probes(Q1_START, t)
    bad = probes(t, t + 801 * S, failing=lambda _: True, answered_when_failing=answered)
    good_after = probes(t + 801 * S, Q1_END)
    return good_before + bad + good_after


def test_a_90_day_quarter_with_13_min_21_s_of_failed_probes_gives_99_9897_percent() -> None:
    t = dt.datetime(2026, 2, 10, 9, 30, tzinfo=UTC)
    history = quarter_with_failure(t, answered=True)
    assert (Q1_END - Q1_START).days == 90
    figures = fig.component_figures(history, Q1_START, Q1_END, gap_seconds=150)
    assert figures.total_seconds == 90 * 86_400
    assert figures.known_seconds - figures.available_seconds == 801
    assert figures.availability is not None
    assert round(figures.availability * 100, 4) == 99.9897
    # The failing probes still answered (a 503, say): up all the time.
    assert figures.uptime == 1.0
    assert figures.coverage == 1.0
    assert figures.unknown_seconds == 0


def test_the_same_failure_unanswered_lowers_uptime_too() -> None:
    t = dt.datetime(2026, 3, 1, 0, 0, 30, tzinfo=UTC)
    figures = fig.component_figures(quarter_with_failure(t, answered=False), Q1_START, Q1_END)
    assert figures.uptime == figures.availability
    assert figures.availability is not None
    assert round(figures.availability * 100, 4) == 99.9897


def test_a_failure_across_a_quarter_boundary_is_split_between_the_quarters() -> None:
    # Failing from 23:55 on 31 March to 00:05 on 1 April: five minutes in each quarter.
    start, end = dt.datetime(2026, 3, 31, 20, tzinfo=UTC), dt.datetime(2026, 4, 1, 4, tzinfo=UTC)
    first_bad, first_good = dt.datetime(2026, 3, 31, 23, 55, tzinfo=UTC), dt.datetime(2026, 4, 1, 0, 5, tzinfo=UTC)
    history = probes(start, end, failing=lambda t: first_bad <= t < first_good)
    before = fig.component_figures(history, start, Q1_END)
    after = fig.component_figures(history, Q1_END, end)
    assert before.known_seconds - before.available_seconds == 300
    assert after.known_seconds - after.available_seconds == 300
    # The last probe of Q1 (23:59) holds into Q2 until the next one: Q2 starts known.
    assert after.unknown_seconds == 0
    assert fig.previous_quarter(dt.date(2026, 4, 1)) == (dt.date(2026, 1, 1), dt.date(2026, 4, 1))
    assert fig.previous_quarter(dt.date(2026, 1, 15)) == (dt.date(2025, 10, 1), dt.date(2026, 1, 1))
    assert fig.quarter_start(dt.date(2026, 12, 31)) == dt.date(2026, 10, 1)


def test_days_are_utc_days_without_daylight_saving_time() -> None:
    # The last Sunday of March (a DST change in Europe) and of October are 86,400-second UTC days.
    for day in (dt.date(2026, 3, 29), dt.date(2026, 10, 25)):
        start = fig.midnight(day)
        history = probes(start - 60 * S, start + fig.DAY)
        figures = fig.component_figures(history, start, start + fig.DAY)
        assert figures.total_seconds == figures.known_seconds == 86_400
    assert fig.midnight(dt.date(2026, 3, 29)).utcoffset() == dt.timedelta(0)


def test_a_failure_inside_announced_maintenance_does_not_count() -> None:
    start, end = dt.datetime(2026, 5, 1, tzinfo=UTC), dt.datetime(2026, 5, 2, tzinfo=UTC)
    window = (dt.datetime(2026, 5, 1, 2, tzinfo=UTC), dt.datetime(2026, 5, 1, 3, tzinfo=UTC))
    # Down from 02:10 to 02:40, inside the window; and 5 minutes at 10:00, outside it.
    history = probes(
        start,
        end,
        failing=lambda t: (
            dt.datetime(2026, 5, 1, 2, 10, tzinfo=UTC) <= t < dt.datetime(2026, 5, 1, 2, 40, tzinfo=UTC)
            or dt.datetime(2026, 5, 1, 10, tzinfo=UTC) <= t < dt.datetime(2026, 5, 1, 10, 5, tzinfo=UTC)
        ),
        answered_when_failing=False,
    )
    figures = fig.component_figures(history, start, end, maintenance=[window])
    assert figures.maintenance_seconds == 3600
    assert figures.known_seconds == 86_400 - 3600
    assert figures.known_seconds - figures.available_seconds == 300
    assert figures.known_seconds - figures.answered_seconds == 300
    assert figures.coverage == 1.0
    without = fig.component_figures(history, start, end)
    assert without.known_seconds - without.available_seconds == 300 + 1800
    # A day with maintenance and nothing else is shown as maintenance on the bar.
    quiet = fig.component_figures(probes(start, end), start, end, maintenance=[window])
    assert fig.day_state(quiet) == MAINTENANCE


def _day_of_user_facing(failing: dict[str, Callable[[dt.datetime], bool]]) -> dict[str, list[fig.Obs]]:
    start, end = dt.datetime(2026, 5, 1, tzinfo=UTC), dt.datetime(2026, 5, 2, tzinfo=UTC)
    return {
        key: probes(start, end, failing=failing.get(key, lambda t: False))
        for key in (SIGN_IN, LESSONS, FILES, API, JOBS, BACKUPS)
    }


def _between(hour: int, minute: int, minutes: int) -> Callable[[dt.datetime], bool]:
    first = dt.datetime(2026, 5, 1, hour, minute, tzinfo=UTC)
    return lambda t: first <= t < first + dt.timedelta(minutes=minutes)


DAY_START, DAY_END = dt.datetime(2026, 5, 1, tzinfo=UTC), dt.datetime(2026, 5, 2, tzinfo=UTC)


def test_a_partial_outage_counts_fully_for_its_component_and_as_down_for_the_service() -> None:
    # File storage (one of the four user-facing components) fails for 10 minutes; the app answers.
    history = _day_of_user_facing({FILES: _between(9, 0, 10)})
    files = fig.component_figures(history[FILES], DAY_START, DAY_END)
    assert files.known_seconds - files.available_seconds == 600
    sign_in = fig.component_figures(history[SIGN_IN], DAY_START, DAY_END)
    assert sign_in.availability == 1.0
    service = fig.service_figures(history, DAY_START, DAY_END, user_facing=USER_FACING)
    assert service.known_seconds - service.available_seconds == 600
    assert service.uptime == 1.0  # the other components answered (and so did file storage's 503s)
    assert fig.day_state(service) == DEGRADED


def test_overlapping_partial_outages_are_not_counted_twice_for_the_service() -> None:
    history = _day_of_user_facing({FILES: _between(9, 0, 10), API: _between(9, 5, 10)})
    service = fig.service_figures(history, DAY_START, DAY_END, user_facing=USER_FACING)
    assert service.known_seconds - service.available_seconds == 15 * 60


def test_background_jobs_and_backups_down_do_not_lower_the_service() -> None:
    history = _day_of_user_facing({JOBS: lambda t: True, BACKUPS: lambda t: True})
    service = fig.service_figures(history, DAY_START, DAY_END, user_facing=USER_FACING)
    assert service.availability == 1.0
    jobs = fig.component_figures(history[JOBS], DAY_START, DAY_END)
    assert jobs.availability == 0.0
    assert fig.day_state(jobs) == OUTAGE


def test_maintenance_of_one_component_covers_only_that_component_in_the_service() -> None:
    window = (dt.datetime(2026, 5, 1, 2, tzinfo=UTC), dt.datetime(2026, 5, 1, 3, tzinfo=UTC))
    # Files under maintenance and down 02:00-03:00; the API fails 02:30-02:40, unannounced.
    history = _day_of_user_facing({FILES: _between(2, 0, 60), API: _between(2, 30, 10)})
    service = fig.service_figures(history, DAY_START, DAY_END, user_facing=USER_FACING, maintenance={FILES: [window]})
    # The API's failure counts; the rest of the hour is maintenance for the service.
    assert service.known_seconds - service.available_seconds == 600
    assert service.maintenance_seconds == 3000
    # Every user-facing component in maintenance: maintenance, even while they fail.
    everything = {key: [window] for key in USER_FACING}
    service = fig.service_figures(history, DAY_START, DAY_END, user_facing=USER_FACING, maintenance=everything)
    assert service.maintenance_seconds == 3600
    assert service.availability == 1.0


def test_a_gap_in_the_record_is_unknown_not_up() -> None:
    # The prober stopped from 06:00 to 10:00 (no rows at all).
    gap_start, gap_end = dt.datetime(2026, 5, 1, 6, tzinfo=UTC), dt.datetime(2026, 5, 1, 10, tzinfo=UTC)
    history = [o for o in probes(DAY_START, DAY_END) if not gap_start <= o.at < gap_end]
    figures = fig.component_figures(history, DAY_START, DAY_END, gap_seconds=150)
    # The 05:59 probe holds up to the gap, 150 s (until 06:01:30); then unknown until 10:00.
    assert figures.unknown_seconds == 4 * 3600 - 90
    assert figures.known_seconds == 86_400 - figures.unknown_seconds
    assert figures.coverage is not None and figures.coverage < 1
    assert figures.availability == 1.0  # over the known time only
    assert fig.day_state(figures) == UNKNOWN
    # Nothing at all: no figures, unknown.
    empty = fig.component_figures([], DAY_START, DAY_END)
    assert empty.availability is None and empty.uptime is None and empty.coverage == 0.0
    assert fig.day_state(empty) == UNKNOWN


def test_an_unknown_component_makes_the_service_unknown_unless_another_is_known_down() -> None:
    gap = _between(6, 0, 60)
    history = _day_of_user_facing({API: _between(6, 30, 10)})
    history[FILES] = [o for o in history[FILES] if not gap(o.at)]
    service = fig.service_figures(history, DAY_START, DAY_END, user_facing=USER_FACING, gap_seconds=150)
    # Files unknown 06:01:30-07:00; the API's 10 minutes of failure inside it are known down.
    assert service.unknown_seconds == 3600 - 90 - 600
    assert service.known_seconds - service.available_seconds == 600


def test_observations_before_the_period_hold_into_it_up_to_the_gap() -> None:
    history = [fig.Obs(DAY_START - 30 * S, True, True, 100)]
    figures = fig.component_figures(history, DAY_START, DAY_END, gap_seconds=150)
    assert figures.known_seconds == 120


def test_latency_percentiles_are_those_of_successful_probes_nearest_rank() -> None:
    history = [fig.Obs(DAY_START + n * 60 * S, True, True, n + 1) for n in range(100)]  # 1..100 ms
    history += [fig.Obs(DAY_START + (100 + n) * 60 * S, True, False, 99_999) for n in range(5)]  # failed: ignored
    figures = fig.component_figures(history, DAY_START, DAY_END)
    assert (figures.latency_p50_ms, figures.latency_p95_ms, figures.latency_p99_ms) == (50, 95, 99)
    assert fig.percentile([], 0.5) is None
    assert fig.percentile([7], 0.99) == 7


def test_the_error_budget() -> None:
    t = dt.datetime(2026, 2, 10, 9, 30, tzinfo=UTC)
    figures = fig.component_figures(quarter_with_failure(t, answered=True), Q1_START, Q1_END)
    budget = fig.error_budget(figures, 0.9995)
    assert budget.allowed_seconds == pytest.approx(0.0005 * 90 * 86_400)  # 3,888 s: 64 min 48 s
    assert budget.spent_seconds == 801
    assert budget.left_seconds == pytest.approx(3888 - 801)
    assert budget.left_fraction == pytest.approx((3888 - 801) / 3888)
    overspent = fig.error_budget(fig.component_figures(probes(DAY_START, DAY_END), DAY_START, DAY_END), 1.0)
    assert overspent.allowed_seconds == 0 and overspent.left_fraction is None


def test_days_compose_into_periods() -> None:
    t = dt.datetime(2026, 2, 10, 23, 55, tzinfo=UTC)  # the failure crosses midnight
    history = quarter_with_failure(t, answered=True)
    whole = fig.component_figures(history, Q1_START, Q1_END)
    days = [
        fig.component_figures(history, fig.midnight(d), fig.midnight(d) + fig.DAY)
        for d in fig.days_between(Q1_START.date(), Q1_END.date())
    ]
    combined = fig.combine(days, Q1_START, Q1_END)
    assert combined.availability == pytest.approx(whole.availability)
    assert combined.known_seconds == whole.known_seconds
    assert combined.latency_p50_ms == 120


def test_day_states_and_their_labels() -> None:
    def day(known: float, available: float, maintenance: float = 0) -> str:
        figures = fig.make_figures(
            DAY_START, DAY_END, known=known, answered=known, available=available, maintenance=maintenance
        )
        return fig.day_state(figures)

    assert day(86_400, 86_400) == OPERATIONAL
    assert day(86_400, 86_400 - 60) == DEGRADED
    assert day(86_400, 86_400 - 15 * 60) == OUTAGE
    assert day(86_400 - 3600, 86_400 - 3600, maintenance=3600) == MAINTENANCE
    assert day(40_000, 40_000) == UNKNOWN
    assert set(fig.STATE_LABELS) == set(STATES)


def test_the_state_now_from_the_last_probe() -> None:
    now = DAY_START
    base = {"objective_ms": 2000, "now": now, "gap_seconds": 150}
    at = now - 30 * S
    assert fig.probe_state(at=at, answered=True, ok=True, latency_ms=100, failed_step="", **base) == OPERATIONAL
    assert fig.probe_state(at=at, answered=True, ok=True, latency_ms=2500, failed_step="", **base) == DEGRADED
    assert fig.probe_state(at=at, answered=True, ok=False, latency_ms=2500, failed_step="", **base) == DEGRADED
    assert fig.probe_state(at=at, answered=True, ok=False, latency_ms=None, failed_step="login", **base) == OUTAGE
    assert fig.probe_state(at=at, answered=False, ok=False, latency_ms=None, failed_step="connect", **base) == OUTAGE
    old = now - 200 * S
    assert fig.probe_state(at=old, answered=True, ok=True, latency_ms=100, failed_step="", **base) == UNKNOWN
    assert fig.probe_state(at=None, answered=False, ok=False, latency_ms=None, failed_step="", **base) == UNKNOWN
    assert (
        fig.probe_state(at=at, answered=False, ok=False, latency_ms=None, failed_step="x", in_maintenance=True, **base)
        == MAINTENANCE
    )
    assert fig.service_state([OPERATIONAL, OUTAGE, OPERATIONAL, OPERATIONAL]) == OUTAGE
    assert fig.service_state([OPERATIONAL, MAINTENANCE, OPERATIONAL, OPERATIONAL]) == MAINTENANCE
    assert fig.service_state([OPERATIONAL] * 4) == OPERATIONAL


def test_the_periods_of_the_page() -> None:
    now = dt.datetime(2026, 5, 17, 14, 30, tzinfo=UTC)
    periods = fig.periods(now)
    assert periods["day"] == (now - fig.DAY, now)
    assert periods["30d"][0] == dt.datetime(2026, 4, 18, tzinfo=UTC)
    assert periods["90d"][0] == dt.datetime(2026, 2, 17, tzinfo=UTC)
    assert periods["quarter"] == (dt.datetime(2026, 4, 1, tzinfo=UTC), now)
    assert periods["previous_quarter"] == (Q1_START, Q1_END)


# --- Invariants ---------------------------------------------------------------------------------

_probe = st.tuples(
    st.integers(min_value=-300, max_value=4000),  # seconds from the period's start
    st.booleans(),
    st.booleans(),
)
_window = st.tuples(st.integers(min_value=-100, max_value=3700), st.integers(min_value=0, max_value=1200))


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(st.sampled_from(USER_FACING), st.lists(_probe, max_size=40), max_size=4),
    st.lists(_window, max_size=3),
    st.integers(min_value=30, max_value=600),
)
def test_invariants(
    histories: dict[str, list[tuple[int, bool, bool]]], windows: list[tuple[int, int]], gap: int
) -> None:
    start = DAY_START
    end = start + 3600 * S
    observations = {
        key: [fig.Obs(start + s * S, answered, answered and ok, 100) for s, answered, ok in rows]
        for key, rows in histories.items()
    }
    maintenance = [(start + s * S, start + (s + length) * S) for s, length in windows]
    results = [
        fig.component_figures(obs, start, end, gap_seconds=gap, maintenance=maintenance)
        for obs in observations.values()
    ]
    results.append(
        fig.service_figures(
            observations,
            start,
            end,
            user_facing=USER_FACING,
            gap_seconds=gap,
            maintenance=dict.fromkeys(USER_FACING, maintenance),
        )
    )
    for figures in results:
        assert figures.known_seconds + figures.unknown_seconds + figures.maintenance_seconds == pytest.approx(3600)
        assert 0 <= figures.available_seconds <= figures.answered_seconds <= figures.known_seconds
        if figures.coverage is not None:
            assert 0 <= figures.coverage <= 1
        if figures.availability is not None and figures.uptime is not None:
            assert 0 <= figures.availability <= figures.uptime <= 1
        assert fig.day_state(figures) in STATES
    # The service is never more available than its least available user-facing component over the
    # time all of them are known.
    service = results[-1]
    if len(observations) == len(USER_FACING) and service.coverage == 1.0:
        for figures in results[:-1]:
            assert service.available_seconds <= figures.available_seconds + 1e-6
