"""The method behind the status page's figures: pure functions over observations (no database).

Written out for the public in docs/operations.md, *Status figures: the method*. In short:

* Each observation (one probe of one component) holds from its time until the next observation of
  that component, but at most ``gap_seconds`` (``STATUS_GAP_SECONDS``, 2.5 × the probe interval);
  time not covered is **unknown**: never counted as up, reported as ``coverage``.
* Time inside an announced maintenance window of the component is **maintenance**: excluded from
  both figures and shown apart.
* uptime = answered time / known time; availability = time the user's operation succeeded within
  its latency objective (``ok``) / known time. Known time = observed time outside maintenance.
* The whole service is the user-facing components together (``service_timeline``): available only
  when every one of them is; a known failure of one is a failure of the service.

Times are timezone-aware UTC datetimes; days are UTC days (no daylight saving time).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from classnote.status.summary import (
    DEGRADED,
    MAINTENANCE,
    OPERATIONAL,
    OUTAGE,
    UNKNOWN,
    DayBar,
    ErrorBudget,
    Figures,
)

DEFAULT_PROBE_SECONDS = 60
DEFAULT_GAP_SECONDS = 2.5 * DEFAULT_PROBE_SECONDS
DAY = dt.timedelta(days=1)
SERVICE = "service"

# The words the page shows for each state (STATES of classnote.status.summary).
STATE_LABELS: dict[str, str | Promise] = {
    OPERATIONAL: _("Operational"),
    DEGRADED: _("Degraded performance"),
    OUTAGE: _("Outage"),
    MAINTENANCE: _("Maintenance"),
    UNKNOWN: _("No data"),
}

# A day of the 90-day bar (day_state): an outage when less than this share of its known time was
# available (0.99: more than 14 min 24 s of a fully observed day), degraded when any known time was
# not available, unknown when less than this share of its time outside maintenance was observed.
DAY_OUTAGE_BELOW = 0.99
DAY_UNKNOWN_BELOW = 0.99


class Observation(Protocol):
    """What the method needs of a probe (``ProbeResult`` has it)."""

    @property
    def at(self) -> dt.datetime: ...
    @property
    def answered(self) -> bool: ...
    @property
    def ok(self) -> bool: ...
    @property
    def latency_ms(self) -> int | None: ...


@dataclass(frozen=True)
class Obs:
    """A plain observation, for building histories without the database."""

    at: dt.datetime
    answered: bool
    ok: bool
    latency_ms: int | None = None


# The state of a stretch of time in a timeline.
AVAILABLE = "available"  # answered, and the operation succeeded within its objective
ANSWERED = "answered"  # answered, but the operation failed or was too slow: up, not available
DOWN = "down"  # not answered
GAP = "unknown"  # no observation holds: unknown
IN_MAINTENANCE = "maintenance"  # inside an announced maintenance window


class Segment(NamedTuple):
    start: dt.datetime
    end: dt.datetime
    state: str


Window = tuple[dt.datetime, dt.datetime]


def _state(observation: Observation) -> str:
    if observation.answered and observation.ok:
        return AVAILABLE
    return ANSWERED if observation.answered else DOWN


def _append(segments: list[Segment], start: dt.datetime, end: dt.datetime, state: str) -> None:
    if end <= start:
        return
    if segments and segments[-1].state == state and segments[-1].end == start:
        segments[-1] = Segment(segments[-1].start, end, state)
    else:
        segments.append(Segment(start, end, state))


def merge_windows(windows: Iterable[Window], start: dt.datetime, end: dt.datetime) -> list[Window]:
    """The windows clipped to [start, end), sorted, overlapping ones joined."""
    clipped = sorted((max(s, start), min(e, end)) for s, e in windows if e > start and s < end and e > s)
    merged: list[Window] = []
    for s, e in clipped:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def timeline(
    observations: Iterable[Observation],
    start: dt.datetime,
    end: dt.datetime,
    *,
    gap_seconds: float = DEFAULT_GAP_SECONDS,
    maintenance: Iterable[Window] = (),
) -> list[Segment]:
    """One component's [start, end) cut into contiguous segments, each in one state.

    ``observations`` in any order; pass those from ``start - gap_seconds`` on so that the first one
    before ``start`` can hold into the period. Observations at or after ``end`` are ignored."""
    gap = dt.timedelta(seconds=gap_seconds)
    ordered = sorted((o for o in observations if o.at < end and o.at >= start - gap), key=lambda o: o.at)
    raw: list[Segment] = []
    cursor = start
    for index, observation in enumerate(ordered):
        held_until = observation.at + gap
        if index + 1 < len(ordered):
            held_until = min(held_until, ordered[index + 1].at)
        held_until = min(held_until, end)
        begin = max(observation.at, start)
        _append(raw, cursor, begin, GAP)
        _append(raw, begin, held_until, _state(observation))
        cursor = max(cursor, held_until)
    _append(raw, cursor, end, GAP)
    windows = merge_windows(maintenance, start, end)
    if not windows:
        return raw
    segments: list[Segment] = []
    w = 0
    for segment in raw:
        position = segment.start
        while position < segment.end:
            while w < len(windows) and windows[w][1] <= position:
                w += 1
            if w < len(windows) and windows[w][0] <= position:
                stop = min(segment.end, windows[w][1])
                _append(segments, position, stop, IN_MAINTENANCE)
            else:
                stop = min(segment.end, windows[w][0]) if w < len(windows) else segment.end
                _append(segments, position, stop, segment.state)
            position = stop
    return segments


def _combined(states: Sequence[str]) -> str:
    """The whole service at one moment, from its user-facing components' states."""
    live = [s for s in states if s != IN_MAINTENANCE]
    if not live:
        return IN_MAINTENANCE
    if any(s in (ANSWERED, DOWN) for s in live):
        # A known failure of one component is a failure of the service, whatever else is unknown.
        return ANSWERED if any(s in (AVAILABLE, ANSWERED) for s in live) else DOWN
    if GAP in live:
        return GAP
    return IN_MAINTENANCE if len(live) < len(states) else AVAILABLE


def service_timeline(timelines: Sequence[Sequence[Segment]]) -> list[Segment]:
    """The whole service's timeline from its user-facing components' timelines (each contiguous
    over the same [start, end)), by ``_combined`` at every moment."""
    if not timelines:
        return []
    boundaries = sorted({s.start for t in timelines for s in t} | {s.end for t in timelines for s in t})
    positions = [0] * len(timelines)
    segments: list[Segment] = []
    for begin, stop in zip(boundaries, boundaries[1:], strict=False):
        states = []
        for i, t in enumerate(timelines):
            while positions[i] < len(t) and t[positions[i]].end <= begin:
                positions[i] += 1
            states.append(t[positions[i]].state if positions[i] < len(t) else GAP)
        _append(segments, begin, stop, _combined(states))
    return segments


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest rank: the smallest value with at least p of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p * len(ordered)))
    return float(ordered[rank - 1])


def tally(
    segments: Iterable[Segment], start: dt.datetime, end: dt.datetime, latencies: Sequence[float] = ()
) -> Figures:
    """The figures of a timeline over [start, end); ``latencies``: those of the successful probes."""
    seconds = {AVAILABLE: 0.0, ANSWERED: 0.0, DOWN: 0.0, GAP: 0.0, IN_MAINTENANCE: 0.0}
    for segment in segments:
        begin, stop = max(segment.start, start), min(segment.end, end)
        if stop > begin:
            seconds[segment.state] += (stop - begin).total_seconds()
    known = seconds[AVAILABLE] + seconds[ANSWERED] + seconds[DOWN]
    ordered = sorted(latencies)
    return make_figures(
        start,
        end,
        known=known,
        answered=seconds[AVAILABLE] + seconds[ANSWERED],
        available=seconds[AVAILABLE],
        maintenance=seconds[IN_MAINTENANCE],
        p50=percentile(ordered, 0.50),
        p95=percentile(ordered, 0.95),
        p99=percentile(ordered, 0.99),
    )


def make_figures(
    start: dt.datetime,
    end: dt.datetime,
    *,
    known: float,
    answered: float,
    available: float,
    maintenance: float,
    total: float | None = None,
    p50: float | None = None,
    p95: float | None = None,
    p99: float | None = None,
) -> Figures:
    """Figures from sums of seconds (which compose: the days of a period add up)."""
    total = (end - start).total_seconds() if total is None else total
    unknown = max(0.0, total - known - maintenance)
    observable = total - maintenance
    return Figures(
        start=start,
        end=end,
        total_seconds=total,
        known_seconds=known,
        unknown_seconds=unknown,
        maintenance_seconds=maintenance,
        answered_seconds=answered,
        available_seconds=available,
        uptime=answered / known if known > 0 else None,
        availability=available / known if known > 0 else None,
        coverage=min(1.0, known / observable) if observable > 0 else None,
        latency_p50_ms=p50,
        latency_p95_ms=p95,
        latency_p99_ms=p99,
    )


def _successful_latencies(observations: Iterable[Observation], start: dt.datetime, end: dt.datetime) -> list[float]:
    return [float(o.latency_ms) for o in observations if o.ok and o.latency_ms is not None and start <= o.at < end]


def component_figures(
    observations: Sequence[Observation],
    start: dt.datetime,
    end: dt.datetime,
    *,
    gap_seconds: float = DEFAULT_GAP_SECONDS,
    maintenance: Iterable[Window] = (),
) -> Figures:
    """One component's figures over [start, end)."""
    segments = timeline(observations, start, end, gap_seconds=gap_seconds, maintenance=maintenance)
    return tally(segments, start, end, _successful_latencies(observations, start, end))


def service_figures(
    observations: Mapping[str, Sequence[Observation]],
    start: dt.datetime,
    end: dt.datetime,
    *,
    user_facing: Sequence[str],
    gap_seconds: float = DEFAULT_GAP_SECONDS,
    maintenance: Mapping[str, Iterable[Window]] | None = None,
) -> Figures:
    """The whole service's figures over [start, end), from its user-facing components only; its
    latency percentiles are those of the user-facing components' successful probes taken together."""
    maintenance = maintenance or {}
    timelines = [
        timeline(observations.get(key, ()), start, end, gap_seconds=gap_seconds, maintenance=maintenance.get(key, ()))
        for key in user_facing
    ]
    latencies = [v for key in user_facing for v in _successful_latencies(observations.get(key, ()), start, end)]
    return tally(service_timeline(timelines), start, end, latencies)


def combine(parts: Sequence[Figures], start: dt.datetime, end: dt.datetime) -> Figures:
    """The figures of a period from those of its days (or any pieces that do not overlap): seconds
    add up. The latency percentiles of a period so combined are the medians of the pieces'
    percentiles weighted by their known time (an approximation: exact only within a piece)."""

    def weighted_median(attribute: str) -> float | None:
        pairs = sorted((getattr(f, attribute), f.known_seconds) for f in parts if getattr(f, attribute) is not None)
        weight = sum(w for _, w in pairs)
        if not pairs or weight <= 0:
            return None
        running = 0.0
        for value, w in pairs:
            running += w
            if running >= weight / 2:
                return float(value)
        return float(pairs[-1][0])

    return make_figures(
        start,
        end,
        known=sum(f.known_seconds for f in parts),
        answered=sum(f.answered_seconds for f in parts),
        available=sum(f.available_seconds for f in parts),
        maintenance=sum(f.maintenance_seconds for f in parts),
        total=sum(f.total_seconds for f in parts),
        p50=weighted_median("latency_p50_ms"),
        p95=weighted_median("latency_p95_ms"),
        p99=weighted_median("latency_p99_ms"),
    )


def error_budget(figures: Figures, slo: float) -> ErrorBudget:
    """allowed = (1 − SLO) × known time; spent = known − available; left = allowed − spent."""
    allowed = (1 - slo) * figures.known_seconds
    spent = figures.known_seconds - figures.available_seconds
    left = allowed - spent
    return ErrorBudget(
        slo=slo,
        period_seconds=figures.total_seconds,
        allowed_seconds=allowed,
        spent_seconds=spent,
        left_seconds=left,
        left_fraction=left / allowed if allowed > 0 else None,
    )


def day_state(figures: Figures) -> str:
    """The state of one day of the 90-day bar (thresholds DAY_OUTAGE_BELOW, DAY_UNKNOWN_BELOW)."""
    if figures.availability is not None and figures.availability < DAY_OUTAGE_BELOW:
        return OUTAGE
    if figures.availability is not None and figures.available_seconds < figures.known_seconds:
        return DEGRADED
    if figures.coverage is None:  # the whole day in maintenance
        return MAINTENANCE if figures.maintenance_seconds > 0 else UNKNOWN
    if figures.coverage < DAY_UNKNOWN_BELOW:
        return UNKNOWN
    if figures.maintenance_seconds > 0:
        return MAINTENANCE
    return OPERATIONAL


def day_bar(day: dt.date, figures: Figures) -> DayBar:
    return DayBar(day=day, state=day_state(figures), figures=figures)


def probe_state(
    *,
    at: dt.datetime | None,
    answered: bool,
    ok: bool,
    latency_ms: int | None,
    failed_step: str,
    objective_ms: int,
    now: dt.datetime,
    gap_seconds: float = DEFAULT_GAP_SECONDS,
    in_maintenance: bool = False,
) -> str:
    """A component's state now, from its last probe: maintenance inside an announced window;
    unknown when the last probe is older than the gap (or there is none); operational when it
    succeeded within the objective; degraded when the operation succeeded but too slowly; an
    outage when a step failed or the service did not answer."""
    if in_maintenance:
        return MAINTENANCE
    if at is None or (now - at).total_seconds() > gap_seconds:
        return UNKNOWN
    slow = objective_ms > 0 and latency_ms is not None and latency_ms > objective_ms
    if answered and ok:
        return DEGRADED if slow else OPERATIONAL
    if answered and not failed_step:
        return DEGRADED
    return OUTAGE


def service_state(states: Sequence[str]) -> str:
    """The whole service now, from its user-facing components' states: an outage of one is an
    outage of the service (as in its availability), then degraded, unknown, maintenance."""
    for state in (OUTAGE, DEGRADED, UNKNOWN, MAINTENANCE):
        if state in states:
            return state
    return OPERATIONAL


# --- Periods (UTC) -------------------------------------------------------------------------------


def midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def previous_quarter(day: dt.date) -> tuple[dt.date, dt.date]:
    """The previous complete calendar quarter of ``day``: (first day, first day of the next)."""
    end = quarter_start(day)
    return quarter_start(end - dt.timedelta(days=1)), end


def days_between(first: dt.date, stop: dt.date) -> list[dt.date]:
    """The days first, first + 1, ... before stop."""
    return [first + dt.timedelta(days=n) for n in range((stop - first).days)]


def periods(now: dt.datetime) -> dict[str, tuple[dt.datetime, dt.datetime]]:
    """The periods of the page, each [start, end): "day" the last 24 hours; "30d" and "90d" the
    30 and 90 UTC days ending today (today so far included); "quarter" the calendar quarter so far;
    "previous_quarter" the last complete one."""
    now = now.astimezone(dt.UTC)
    today = now.date()
    previous = previous_quarter(today)
    return {
        "day": (now - DAY, now),
        "30d": (midnight(today - dt.timedelta(days=29)), now),
        "90d": (midnight(today - dt.timedelta(days=89)), now),
        "quarter": (midnight(quarter_start(today)), now),
        "previous_quarter": (midnight(previous[0]), midnight(previous[1])),
    }
