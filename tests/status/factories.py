"""Summary objects (classnote.status.summary) built directly, for the public pages' tests."""

from __future__ import annotations

import datetime as dt

from classnote.status import summary as s
from classnote.status.components import COMPONENTS

NOW = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)


def figures(
    availability: float | None = 0.999897,
    uptime: float | None = 1.0,
    coverage: float | None = 1.0,
    maintenance: float = 0.0,
    days: int = 1,
) -> s.Figures:
    total = days * 86400.0
    known = (total - maintenance) * (coverage or 0)
    return s.Figures(
        start=NOW - dt.timedelta(days=days),
        end=NOW,
        total_seconds=total,
        known_seconds=known,
        unknown_seconds=total - maintenance - known,
        maintenance_seconds=maintenance,
        answered_seconds=known * (uptime or 0),
        available_seconds=known * (availability or 0),
        uptime=uptime,
        availability=availability,
        coverage=coverage,
        latency_p50_ms=120.0,
        latency_p95_ms=480.0,
        latency_p99_ms=900.0,
    )


def bars(states: dict[int, str] | None = None) -> list[s.DayBar]:
    """90 days, oldest first; STATES maps days back (0 = today) to a state other than operational."""
    states = states or {}
    found = []
    for back in range(89, -1, -1):
        state = states.get(back, s.OPERATIONAL)
        if state == s.UNKNOWN:
            day = figures(availability=None, uptime=None, coverage=0.0)
        elif state == s.OUTAGE:
            day = figures(availability=0.4, uptime=0.5)
        elif state == s.MAINTENANCE:
            day = figures(availability=1.0, maintenance=3600.0)
        else:
            day = figures(availability=1.0)
        found.append(s.DayBar(day=(NOW - dt.timedelta(days=back)).date(), state=state, figures=day))
    return found


def component(key: str, state: str = s.OPERATIONAL, day_states: dict[int, str] | None = None) -> s.ComponentStatus:
    known = COMPONENTS.get(key)
    return s.ComponentStatus(
        key=key,
        name=str(known.name) if known else "classnote",
        description=str(known.description) if known else "",
        user_facing=known.user_facing if known else True,
        state=state,
        checked_at=NOW - dt.timedelta(seconds=30),
        latency_ms=140,
        failed_step="" if state == s.OPERATIONAL else "login",
        bars=bars(day_states),
        periods={
            "day": figures(days=1),
            "30d": figures(days=30, coverage=0.98),
            "90d": figures(days=90, maintenance=7200.0),
            "quarter": figures(days=68),
        },
        previous_quarter=figures(days=92, availability=0.999897),
    )


def post(kind: str = "incident", pk: int = 1, resolved: bool = False, **changes: object) -> s.Post:
    started = NOW - dt.timedelta(hours=2)
    values: dict[str, object] = {
        "kind": kind,
        "id": pk,
        "title": "Sign-in is slow" if kind == "incident" else "Database upgrade",
        "impact": "minor" if kind == "incident" else "maintenance",
        "state": ("resolved" if resolved else "investigating") if kind == "incident" else "scheduled",
        "components": ["sign-in"],
        "started_at": started if kind == "incident" else NOW + dt.timedelta(days=2),
        "ends_at": None if kind == "incident" else NOW + dt.timedelta(days=2, hours=1),
        "resolved_at": NOW - dt.timedelta(hours=1) if resolved else None,
        "updated_at": NOW - dt.timedelta(minutes=30),
        "body": "" if kind == "incident" else "The database moves to a new server.",
        "updates": (
            [
                (NOW - dt.timedelta(minutes=30), "identified", "A slow disk; moving the database."),
                (started, "investigating", "Logging in takes long."),
            ]
            if kind == "incident"
            else []
        ),
    }
    values.update(changes)
    return s.Post(**values)  # type: ignore[arg-type]


def summary(states: dict[str, str] | None = None, **changes: object) -> s.Summary:
    states = states or {}
    components = [
        component(key, states.get(key, s.OPERATIONAL), {3: s.OUTAGE, 10: s.UNKNOWN, 20: s.MAINTENANCE})
        for key in COMPONENTS
    ]
    values: dict[str, object] = {
        "generated_at": NOW,
        "state": s.OPERATIONAL,
        "service": component("service", s.OPERATIONAL, {3: s.OUTAGE, 10: s.UNKNOWN}),
        "components": components,
        "budget": s.ErrorBudget(
            slo=0.9995,
            period_seconds=30 * 86400,
            allowed_seconds=1296.0,
            spent_seconds=801.0,
            left_seconds=495.0,
            left_fraction=495 / 1296,
        ),
        "active_incidents": [post()],
        "past_incidents": [post(pk=2, resolved=True, title="Files could not be opened")],
        "maintenance": [post("maintenance", pk=3)],
    }
    values.update(changes)
    return s.Summary(**values)  # type: ignore[arg-type]
