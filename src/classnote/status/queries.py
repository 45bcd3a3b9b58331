"""The status page's Summary, built from the stored probes, incidents and maintenance.

PLACEHOLDER of the i15-page branch: a minimal honest version (each probe row stands for one minute;
a minute without a row is unknown) so the public pages can be built and tested. The real method
(classnote.status.figures, docs/operations.md) comes with the i15-figures branch, which replaces
this module at the merge.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from classnote.status import summary as s
from classnote.status.components import COMPONENTS, USER_FACING
from classnote.status.models import Maintenance, ProbeResult, StatusIncident

PROBE_SECONDS = 60  # what one probe row stands for
FRESH = dt.timedelta(minutes=5)  # a last probe older than this: the state now is unknown
DAYS = 90

Row = tuple[str, dt.datetime, bool, bool, int | None]


def _percentile(values: list[int], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))])


def _overlap(start: dt.datetime, end: dt.datetime, windows: Iterable[tuple[dt.datetime, dt.datetime]]) -> float:
    return sum(max(0.0, (min(end, b) - max(start, a)).total_seconds()) for a, b in windows)


def _figures(
    start: dt.datetime, end: dt.datetime, rows: list[Row], windows: list[tuple[dt.datetime, dt.datetime]]
) -> s.Figures:
    total = max(0.0, (end - start).total_seconds())
    maintenance = min(total, _overlap(start, end, windows))
    counted = [r for r in rows if start <= r[1] < end and not any(a <= r[1] < b for a, b in windows)]
    known = min(total - maintenance, float(len(counted) * PROBE_SECONDS))
    answered = min(known, float(sum(PROBE_SECONDS for r in counted if r[2])))
    available = min(answered, float(sum(PROBE_SECONDS for r in counted if r[3])))
    latencies = [r[4] for r in counted if r[4] is not None]
    expected = total - maintenance
    return s.Figures(
        start=start,
        end=end,
        total_seconds=total,
        known_seconds=known,
        unknown_seconds=max(0.0, expected - known),
        maintenance_seconds=maintenance,
        answered_seconds=answered,
        available_seconds=available,
        uptime=answered / known if known else None,
        availability=available / known if known else None,
        coverage=known / expected if expected else None,
        latency_p50_ms=_percentile(latencies, 0.5),
        latency_p95_ms=_percentile(latencies, 0.95),
        latency_p99_ms=_percentile(latencies, 0.99),
    )


def _day_state(figures: s.Figures) -> str:
    if not figures.known_seconds:
        return s.MAINTENANCE if figures.maintenance_seconds else s.UNKNOWN
    if figures.available_seconds >= figures.known_seconds:
        return s.OPERATIONAL
    if figures.answered_seconds < figures.known_seconds / 2:
        return s.OUTAGE
    return s.DEGRADED


def _quarter_start(day: dt.datetime) -> dt.datetime:
    return day.replace(month=3 * ((day.month - 1) // 3) + 1, day=1, hour=0, minute=0, second=0, microsecond=0)


def _component(
    key: str, name: str, description: str, user_facing: bool, rows: list[Row], windows: list, now: dt.datetime
) -> s.ComponentStatus:
    today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    bars = []
    for back in range(DAYS - 1, -1, -1):
        start = today - dt.timedelta(days=back)
        end = min(now, start + dt.timedelta(days=1))
        figures = _figures(start, end, rows, windows)
        bars.append(s.DayBar(day=start.date(), state=_day_state(figures), figures=figures))
    quarter = _quarter_start(today)
    previous = _quarter_start(quarter - dt.timedelta(days=1))
    periods = {
        "day": _figures(now - dt.timedelta(days=1), now, rows, windows),
        "30d": _figures(now - dt.timedelta(days=30), now, rows, windows),
        "90d": _figures(now - dt.timedelta(days=90), now, rows, windows),
        "quarter": _figures(quarter, now, rows, windows),
    }
    last = max(rows, key=lambda r: r[1]) if rows else None
    if any(a <= now < b for a, b in windows):
        state = s.MAINTENANCE
    elif last is None or now - last[1] > FRESH:
        state = s.UNKNOWN
    else:
        state = s.OPERATIONAL if last[3] else (s.DEGRADED if last[2] else s.OUTAGE)
    return s.ComponentStatus(
        key=key,
        name=name,
        description=description,
        user_facing=user_facing,
        state=state,
        checked_at=last[1] if last else None,
        latency_ms=last[4] if last else None,
        failed_step="",
        bars=bars,
        periods=periods,
        previous_quarter=_figures(previous, quarter, rows, windows),
    )


def _worst(states: Iterable[str]) -> str:
    order = (s.OUTAGE, s.DEGRADED, s.UNKNOWN, s.MAINTENANCE, s.OPERATIONAL)
    found = set(states)
    return next((state for state in order if state in found), s.UNKNOWN)


def _posts(now: dt.datetime) -> tuple[list[s.Post], list[s.Post], list[s.Post]]:
    active: list[s.Post] = []
    past: list[s.Post] = []
    for incident in (
        StatusIncident.objects.filter(published_at__isnull=False)
        .filter(Q(resolved_at__isnull=True) | Q(resolved_at__gte=now - dt.timedelta(days=DAYS)))
        .prefetch_related("updates")
    ):
        updates = [(u.at, u.state, u.body) for u in incident.updates.all()]
        post = s.Post(
            kind="incident",
            id=incident.pk,
            title=incident.title,
            impact=incident.impact,
            state=incident.state,
            components=list(incident.components),
            started_at=incident.started_at,
            ends_at=None,
            resolved_at=incident.resolved_at,
            updated_at=max([incident.published_at or incident.started_at, *[u[0] for u in updates]]),
            updates=updates,
        )
        (past if incident.resolved_at else active).append(post)
    maintenance = [
        s.Post(
            kind="maintenance",
            id=m.pk,
            title=m.title,
            impact="maintenance",
            state="in_progress" if m.starts_at <= now else "scheduled",
            components=list(m.components),
            started_at=m.starts_at,
            ends_at=m.ends_at,
            resolved_at=None,
            updated_at=m.created_at,
            body=m.body,
        )
        for m in Maintenance.objects.filter(cancelled_at__isnull=True, ends_at__gt=now).order_by("starts_at")
    ]
    return active, past, maintenance


def summary(now: dt.datetime | None = None) -> s.Summary:
    now = now or timezone.now()
    since = now - dt.timedelta(days=max(DAYS, 200))
    by_component: dict[str, list[Row]] = defaultdict(list)
    for row in ProbeResult.objects.filter(at__gte=since).values_list("component", "at", "answered", "ok", "latency_ms"):
        by_component[row[0]].append(row)
    windows_of: dict[str, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
    for m in Maintenance.objects.filter(cancelled_at__isnull=True, starts_at__lte=now, ends_at__gte=since):
        for key in m.components or list(COMPONENTS):
            windows_of[key].append((m.starts_at, m.ends_at))
    components = [
        _component(key, str(c.name), str(c.description), c.user_facing, by_component[key], windows_of[key], now)
        for key, c in COMPONENTS.items()
    ]
    service_rows = [row for key in USER_FACING for row in by_component[key]]
    # The whole service: a minute counts as available only if every user-facing probe of it was.
    service_windows = [w for key in USER_FACING for w in windows_of[key]]
    service = _component("service", "classnote", "", True, service_rows, service_windows, now)
    state = _worst(c.state for c in components if c.user_facing)
    service = s.ComponentStatus(**{**service.__dict__, "state": state})
    slo = float(getattr(settings, "STATUS_SLO", 0.9995))
    month = service.periods["30d"]
    allowed = (1 - slo) * month.known_seconds
    spent = month.known_seconds - month.available_seconds
    budget = s.ErrorBudget(
        slo=slo,
        period_seconds=month.total_seconds,
        allowed_seconds=allowed,
        spent_seconds=spent,
        left_seconds=allowed - spent,
        left_fraction=(allowed - spent) / allowed if allowed else None,
    )
    active, past, maintenance = _posts(now)
    return s.Summary(
        generated_at=now,
        state=state,
        service=service,
        components=components,
        budget=budget,
        active_incidents=active,
        past_incidents=past,
        maintenance=maintenance,
    )
