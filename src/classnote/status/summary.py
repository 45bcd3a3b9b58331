"""The shape of what the status page shows, the same for the page, summary.json, the Atom feed and
the static snapshot. ``classnote.status.queries.summary(now)`` builds it from the stored probes,
aggregates, incidents and maintenance; the figures come from ``classnote.status.figures``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

# The state of a component now, or on one day of its bar.
OPERATIONAL = "operational"  # every probe succeeded within its objective
DEGRADED = "degraded"  # it answered, but some operations failed or were slower than the objective
OUTAGE = "outage"  # operations failed
MAINTENANCE = "maintenance"  # inside an announced maintenance window
UNKNOWN = "unknown"  # no probe record (a gap): never counted as up
STATES = (OPERATIONAL, DEGRADED, OUTAGE, MAINTENANCE, UNKNOWN)


@dataclass(frozen=True)
class Figures:
    """One component's (or the whole service's) figures over one period, by the method of
    docs/operations.md. Fractions are 0..1; None when nothing in the period was observed."""

    start: dt.datetime
    end: dt.datetime
    total_seconds: float
    known_seconds: float  # covered by the probe record (outside maintenance)
    unknown_seconds: float  # gaps in the record
    maintenance_seconds: float  # inside announced maintenance, shown apart
    answered_seconds: float
    available_seconds: float
    uptime: float | None  # answered / known
    availability: float | None  # available / known
    coverage: float | None  # known / (total - maintenance)
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None
    latency_p99_ms: float | None = None


@dataclass(frozen=True)
class ErrorBudget:
    slo: float  # e.g. 0.9995
    period_seconds: float
    allowed_seconds: float  # (1 - slo) * known seconds of the period
    spent_seconds: float  # known seconds not available
    left_seconds: float  # may be negative: the budget is overspent
    left_fraction: float | None


@dataclass(frozen=True)
class DayBar:
    day: dt.date
    state: str  # one of STATES
    figures: Figures


@dataclass(frozen=True)
class ComponentStatus:
    key: str  # a key of classnote.status.components.COMPONENTS, or "service" for the whole
    name: str
    description: str
    user_facing: bool
    state: str  # one of STATES, now
    checked_at: dt.datetime | None  # the last probe
    latency_ms: int | None  # of the last probe
    failed_step: str  # of the last probe, when it failed
    bars: list[DayBar]  # 90 days, oldest first
    periods: dict[str, Figures]  # "day" (last 24 h), "30d", "90d", "quarter" (the calendar quarter so far)
    previous_quarter: Figures | None = None


@dataclass(frozen=True)
class Post:
    """An incident or a maintenance window as the public sees it."""

    kind: str  # "incident" or "maintenance"
    id: int
    title: str
    impact: str
    state: str
    components: list[str]
    started_at: dt.datetime
    ends_at: dt.datetime | None
    resolved_at: dt.datetime | None
    updated_at: dt.datetime
    body: str = ""
    updates: list[tuple[dt.datetime, str, str]] = field(default_factory=list)  # (at, state, body), newest first


@dataclass(frozen=True)
class Summary:
    generated_at: dt.datetime
    state: str  # the whole service now
    service: ComponentStatus  # the whole service (user-facing components)
    components: list[ComponentStatus]
    budget: ErrorBudget  # against STATUS_SLO over the last 30 days
    active_incidents: list[Post]
    past_incidents: list[Post]  # resolved in the last 90 days
    maintenance: list[Post]  # active and upcoming
    # Set when this summary is the last static snapshot shown because the database is down.
    snapshot_age_seconds: float | None = None
