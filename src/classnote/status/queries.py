"""What the status page shows, read from the models: ``summary(now)`` builds the whole ``Summary``.

Cheap by construction (a fixed number of queries, whatever the number of probes): complete days come
from ``DailyAggregate`` rows (yesterday from the raw rows while the nightly job has not run yet), and
raw probe rows are read only for yesterday and today (about 2 × 1,440 per component at one probe a
minute). Drafts of incidents (``published_at`` unset) are never in it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Mapping, Sequence

from django.conf import settings
from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from classnote.status import figures as fig
from classnote.status import history, spool
from classnote.status.components import COMPONENTS, USER_FACING
from classnote.status.models import DailyAggregate, IncidentState, Maintenance, ProbeResult, StatusIncident
from classnote.status.summary import ComponentStatus, Figures, Post, Summary

SERVICE = fig.SERVICE
BAR_DAYS = 90
PAST_INCIDENT_DAYS = 90


def _unknown_day(day: dt.date) -> Figures:
    start = fig.midnight(day)
    return fig.make_figures(start, start + fig.DAY, known=0.0, answered=0.0, available=0.0, maintenance=0.0)


def _incident_post(incident: StatusIncident) -> Post:
    updates = sorted(incident.updates.all(), key=lambda u: (u.at, u.pk), reverse=True)
    moments = [m for m in (incident.published_at, incident.resolved_at, *(u.at for u in updates)) if m is not None]
    return Post(
        kind="incident",
        id=incident.pk,
        title=incident.title,
        impact=incident.impact,
        state=incident.state,
        components=list(incident.components or []),
        started_at=incident.started_at,
        ends_at=None,
        resolved_at=incident.resolved_at,
        updated_at=max(moments) if moments else incident.started_at,
        body=updates[0].body if updates else "",
        updates=[(u.at, u.state, u.body) for u in updates],
    )


def _maintenance_post(window: Maintenance, now: dt.datetime) -> Post:
    return Post(
        kind="maintenance",
        id=window.pk,
        title=window.title,
        impact="maintenance",
        # Statuspage's words for a scheduled maintenance.
        state="in_progress" if window.starts_at <= now else "scheduled",
        components=list(window.components or []),
        started_at=window.starts_at,
        ends_at=window.ends_at,
        resolved_at=None,
        updated_at=window.created_at,
        body=window.body,
    )


def _posts(now: dt.datetime) -> tuple[list[Post], list[Post]]:
    """Published incidents: (active, resolved in the last 90 days). Two queries."""
    rows = (
        StatusIncident.objects.filter(published_at__isnull=False)
        .filter(Q(resolved_at__isnull=True) | Q(resolved_at__gte=now - dt.timedelta(days=PAST_INCIDENT_DAYS)))
        .prefetch_related("updates")
        .order_by("-started_at", "-id")
    )
    active: list[Post] = []
    past: list[Post] = []
    for incident in rows:
        resolved = incident.resolved_at is not None or incident.state == IncidentState.RESOLVED
        (past if resolved else active).append(_incident_post(incident))
    past.sort(key=lambda p: p.resolved_at or p.updated_at, reverse=True)
    return active, past


def summary(now: dt.datetime | None = None, pending: Sequence[ProbeResult] = ()) -> Summary:
    """The whole status page as of ``now`` (default: the current time). PENDING: probe results not
    in the database yet (this machine's spool, ``spool.pending()``): observations all the same, so a
    database that cannot be written shows as it happens."""
    now = (now or timezone.now()).astimezone(dt.UTC)
    today = now.date()
    yesterday = today - fig.DAY
    gap = history.gap_seconds()
    periods = fig.periods(now)
    bar_first = today - dt.timedelta(days=BAR_DAYS - 1)
    first_day = min(bar_first, periods["previous_quarter"][0].date())

    # 1 query: the stored days.
    stored: dict[tuple[str, dt.date], Figures] = {}
    for row in DailyAggregate.objects.filter(day__gte=first_day, day__lt=today).values():
        stored[(row["component"], row["day"])] = history.figures_of(row)

    # 1 query: maintenance still relevant (for yesterday's and today's figures, and the posts).
    raw_start = fig.midnight(yesterday)
    maintenance_rows = list(
        Maintenance.objects.filter(
            cancelled_at__isnull=True, ends_at__gt=raw_start - dt.timedelta(seconds=gap)
        ).order_by("starts_at", "id")
    )
    windows = history.windows_of(maintenance_rows)

    # 1 query: the raw probes of yesterday and today.
    observations = history.load_observations(raw_start, now + dt.timedelta(microseconds=1))
    waiting = [p for p in pending if raw_start - dt.timedelta(seconds=gap) <= p.at <= now]
    for result in waiting:
        observations.setdefault(result.component, []).append(
            fig.Obs(result.at, result.answered, result.ok, result.latency_ms)
        )
    for key in {result.component for result in waiting}:
        observations[key].sort(key=lambda o: o.at)
    latest_waiting = {result.component: result for result in waiting}  # oldest first: the last wins
    # Built once over [midnight yesterday, now); today, the last 24 hours and yesterday are parts of it.
    timelines = history.timelines_for(observations, windows, raw_start, now, gap=gap)
    today_figures = history.tally_for(timelines, observations, fig.midnight(today), now)
    last_day = history.tally_for(timelines, observations, now - fig.DAY, now)
    yesterday_figures: dict[str, Figures] | None = None

    def day_figures(key: str, day: dt.date) -> Figures:
        nonlocal yesterday_figures
        if day == today:
            return today_figures[key]
        if (key, day) in stored:
            return stored[(key, day)]
        if day == yesterday:  # the nightly aggregation has not run yet
            if yesterday_figures is None:
                yesterday_figures = history.tally_for(timelines, observations, raw_start, fig.midnight(today))
            return yesterday_figures[key]
        return _unknown_day(day)

    def period_figures(key: str) -> dict[str, Figures]:
        result = {"day": last_day[key]}
        for name in ("30d", "90d", "quarter", "previous_quarter"):
            start, end = periods[name]
            last = end.date() if end.time() == dt.time(0) else end.date() + fig.DAY
            days = fig.days_between(start.date(), last)
            result[name] = fig.combine([day_figures(key, d) for d in days], start, end)
        return result

    # ≤ 6 queries (index on component, at): each component's last probe.
    def status(key: str, last: ProbeResult | None, in_maintenance: bool) -> ComponentStatus:
        component = COMPONENTS[key]
        state = fig.probe_state(
            at=last.at if last else None,
            answered=bool(last and last.answered),
            ok=bool(last and last.ok),
            latency_ms=last.latency_ms if last else None,
            failed_step=last.failed_step if last else "",
            objective_ms=component.objective_ms,
            now=now,
            gap_seconds=gap,
            in_maintenance=in_maintenance,
        )
        figures = period_figures(key)
        previous = figures.pop("previous_quarter")
        return ComponentStatus(
            key=key,
            name=str(component.name),
            description=str(component.description),
            user_facing=component.user_facing,
            state=state,
            checked_at=last.at if last else None,
            latency_ms=last.latency_ms if last else None,
            failed_step=(last.failed_step if last and not last.ok else ""),
            bars=[fig.day_bar(d, day_figures(key, d)) for d in fig.days_between(bar_first, today + fig.DAY)],
            periods=figures,
            previous_quarter=previous,
        )

    def maintained(key: str) -> bool:
        return any(start <= now < end for start, end in windows.get(key, ()))

    def last_probe(key: str) -> ProbeResult | None:
        stored = ProbeResult.objects.filter(component=key, at__lte=now).order_by("-at", "-id").first()
        waiting = latest_waiting.get(key)
        return waiting if waiting is not None and (stored is None or waiting.at > stored.at) else stored

    components = [status(key, last_probe(key), maintained(key)) for key in COMPONENTS]
    by_key: Mapping[str, ComponentStatus] = {c.key: c for c in components}
    service_periods = period_figures(SERVICE)
    service_previous = service_periods.pop("previous_quarter")
    checked = [by_key[k].checked_at for k in USER_FACING if by_key[k].checked_at is not None]
    service = ComponentStatus(
        key=SERVICE,
        name=_("Whole service"),
        description=_("Sign-in, lessons and cards, file storage and the API together"),
        user_facing=True,
        state=fig.service_state([by_key[k].state for k in USER_FACING]),
        checked_at=max(c for c in checked if c is not None) if checked else None,
        latency_ms=None,
        failed_step="",
        bars=[fig.day_bar(d, day_figures(SERVICE, d)) for d in fig.days_between(bar_first, today + fig.DAY)],
        periods=service_periods,
        previous_quarter=service_previous,
    )
    active, past = _posts(now)
    return Summary(
        generated_at=now,
        state=service.state,
        service=service,
        components=components,
        budget=fig.error_budget(service.periods["30d"], float(settings.STATUS_SLO)),
        active_incidents=active,
        past_incidents=past,
        maintenance=[_maintenance_post(m, now) for m in maintenance_rows if m.ends_at > now],
    )


def shared_summary() -> Summary:
    """The current Summary, shared by every visitor of the same language for STATUS_PAGE_CACHE_SECONDS:
    one costs about 0.1 s of CPU (docs/performance.md), and the page is public (and polled by its
    script), so it must not be computed once per view. A cache that fails is a miss."""
    seconds = settings.STATUS_PAGE_CACHE_SECONDS
    key = f"status:summary:{get_language()}"
    if seconds:
        try:
            cached = cache.get(key)
        except Exception:  # noqa: BLE001 - the cache is only a shortcut
            cached = None
        if isinstance(cached, Summary):
            return cached
    current = summary(pending=spool.pending())
    if seconds:
        with contextlib.suppress(Exception):  # the cache is only a shortcut
            cache.set(key, current, seconds)
    return current
