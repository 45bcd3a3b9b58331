"""What the public sees of a Summary (classnote.status.summary): the page's context, summary.json
(Atlassian Statuspage's summary conventions where they fit, plus our figures) and the Atom feed.

The live pages (status.views.public), the API (api.status) and the static snapshot
(status.snapshot) all build their answers here, so the four carry the same data. Nothing here reads
the database: a Summary goes in, text comes out.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext as _
from django.utils.translation import override

from classnote.status import figures as method
from classnote.status import summary as s
from classnote.status.components import COMPONENTS

PERIODS = ("day", "30d", "90d", "quarter")  # and "previous_quarter"
# Our states in Statuspage's words (a component's "status"); "unknown" is ours: no probe record.
COMPONENT_STATUS = {
    s.OPERATIONAL: "operational",
    s.DEGRADED: "degraded_performance",
    s.OUTAGE: "major_outage",
    s.MAINTENANCE: "under_maintenance",
    s.UNKNOWN: "unknown",
}
COMPONENT_STATUSES = (*COMPONENT_STATUS.values(), "partial_outage")
INDICATORS = ("none", "minor", "major", "critical", "maintenance")
LANGUAGE_SUFFIX = {"en": "", "ja": ".ja", "zh-hant": ".zh-hant"}


def state_labels() -> dict[str, str]:
    """The words for each state, in the active language (the figures' own: classnote.status.figures)."""
    return {state: str(label) for state, label in method.STATE_LABELS.items()}


def post_state_labels() -> dict[str, str]:
    return {
        "investigating": _("Investigating"),
        "identified": _("Identified"),
        "monitoring": _("Monitoring"),
        "resolved": _("Resolved"),
        "scheduled": _("Scheduled"),
        "in_progress": _("In progress"),
        "completed": _("Completed"),
    }


def percent(fraction: float | None) -> str:
    """99.9897 % as "99.9897%": rounded down to four decimals (never shows 100% for less), "—" for none."""
    if fraction is None:
        return "—"
    value = math.floor(fraction * 1_000_000 + 1e-6) / 10_000
    return f"{value:.4f}".rstrip("0").rstrip(".") + "%"


def duration(seconds: float) -> str:
    """A length of time in hours, minutes and seconds ("13 min 21 s")."""
    sign = "-" if seconds < 0 else ""
    whole = round(abs(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return sign + _("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": minutes}
    if minutes:
        return sign + _("%(minutes)d min %(seconds)d s") % {"minutes": minutes, "seconds": secs}
    return sign + _("%(seconds)d s") % {"seconds": secs}


SEVERITY = ("none", "maintenance", "minor", "major", "critical")
IMPACT_INDICATOR = {"minor": "minor", "major": "major", "critical": "critical"}


def indicator(summary: s.Summary) -> tuple[str, str]:
    """Statuspage's page indicator and its description, for the whole service now: the worse of what
    the probes say and the impact of the active incidents."""
    level, description = _probed(summary)
    for post in summary.active_incidents:
        raised = IMPACT_INDICATOR.get(post.impact)
        if raised and SEVERITY.index(raised) > SEVERITY.index(level):
            level = raised
            description = {
                "minor": _("Degraded performance"),
                "major": _("Partial outage"),
                "critical": _("Major outage"),
            }[raised]
    return level, description


def _probed(summary: s.Summary) -> tuple[str, str]:
    facing = [c for c in summary.components if c.user_facing]
    down = [c for c in facing if c.state == s.OUTAGE]
    if facing and len(down) == len(facing):
        return "critical", _("Major outage")
    if down:
        return "major", _("Partial outage")
    if any(c.state == s.DEGRADED for c in facing):
        return "minor", _("Degraded performance")
    if any(c.state == s.MAINTENANCE for c in facing):
        return "maintenance", _("Maintenance in progress")
    if any(c.state == s.UNKNOWN for c in facing):
        return "minor", _("Some components have no recent probe results")
    if any(c.state != s.OPERATIONAL for c in summary.components):
        return "none", _("All user-facing systems operational")
    return "none", _("All systems operational")


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if moment else None


def _figures_json(figures: s.Figures | None) -> dict[str, Any] | None:
    if figures is None:
        return None
    return {
        "start": _iso(figures.start),
        "end": _iso(figures.end),
        "uptime": figures.uptime,
        "availability": figures.availability,
        "coverage": figures.coverage,
        "total_seconds": figures.total_seconds,
        "known_seconds": figures.known_seconds,
        "unknown_seconds": figures.unknown_seconds,
        "maintenance_seconds": figures.maintenance_seconds,
        "answered_seconds": figures.answered_seconds,
        "available_seconds": figures.available_seconds,
        "latency_p50_ms": figures.latency_p50_ms,
        "latency_p95_ms": figures.latency_p95_ms,
        "latency_p99_ms": figures.latency_p99_ms,
    }


def _names(component: s.ComponentStatus) -> tuple[str, str]:
    """A component's name and description in the active language (the Summary's are in the language
    it was built in)."""
    known = COMPONENTS.get(component.key)
    return (str(known.name), str(known.description)) if known else (component.name, component.description)


def _component_json(component: s.ComponentStatus, position: int) -> dict[str, Any]:
    name, description = _names(component)
    return {
        "id": component.key,
        "name": name,
        "description": description,
        "status": COMPONENT_STATUS.get(component.state, "unknown"),
        "state": component.state,
        "position": position,
        "user_facing": component.user_facing,
        "checked_at": _iso(component.checked_at),
        "latency_ms": component.latency_ms,
        "failed_step": component.failed_step,
        "figures": {
            **{period: _figures_json(component.periods.get(period)) for period in PERIODS},
            "previous_quarter": _figures_json(component.previous_quarter),
        },
        "days": [
            {
                "date": bar.day.isoformat(),
                "state": bar.state,
                "uptime": bar.figures.uptime,
                "availability": bar.figures.availability,
                "coverage": bar.figures.coverage,
                "maintenance_seconds": bar.figures.maintenance_seconds,
            }
            for bar in component.bars
        ],
    }


def anchor(post: s.Post) -> str:
    return f"{post.kind}-{post.id}"


def _post_json(post: s.Post, page_url: str) -> dict[str, Any]:
    names = {c.key: str(c.name) for c in COMPONENTS.values()}
    answer: dict[str, Any] = {
        "id": anchor(post),
        "name": post.title,
        "status": post.state,
        "impact": post.impact,
        "shortlink": f"{page_url}#{anchor(post)}",
        "started_at": _iso(post.started_at),
        "created_at": _iso(post.started_at),
        "updated_at": _iso(post.updated_at),
        "resolved_at": _iso(post.resolved_at),
        "body": post.body,
        "components": [{"id": key, "name": names.get(key, key)} for key in post.components],
        "incident_updates": [
            {"status": state, "body": body, "created_at": _iso(at)} for at, state, body in post.updates
        ],
    }
    if post.kind == "maintenance":
        answer |= {"scheduled_for": _iso(post.started_at), "scheduled_until": _iso(post.ends_at)}
    return answer


def as_json(summary: s.Summary, page_url: str) -> dict[str, Any]:
    """summary.json: Statuspage's page, status, components, incidents and scheduled_maintenances,
    with our figures (uptime, availability, coverage per period), the days of the bars and the
    error budget. Names and descriptions are in the active language."""
    level, description = indicator(summary)
    budget = summary.budget
    return {
        "page": {
            "id": "classnote",
            "name": str(settings.CLASSNOTE_SITE_NAME),
            "url": page_url,
            "updated_at": _iso(summary.generated_at),
            "time_zone": str(settings.TIME_ZONE),
        },
        "status": {"indicator": level, "description": description, "state": summary.state},
        "components": [_component_json(c, i + 1) for i, c in enumerate(summary.components)],
        "service": _component_json(summary.service, 0),
        "error_budget": {
            "slo": budget.slo,
            "period_seconds": budget.period_seconds,
            "allowed_seconds": budget.allowed_seconds,
            "spent_seconds": budget.spent_seconds,
            "left_seconds": budget.left_seconds,
            "left_fraction": budget.left_fraction,
        },
        "incidents": [_post_json(p, page_url) for p in summary.active_incidents],
        "past_incidents": [_post_json(p, page_url) for p in summary.past_incidents],
        "scheduled_maintenances": [_post_json(p, page_url) for p in summary.maintenance],
        "snapshot_age_seconds": summary.snapshot_age_seconds,
    }


def as_atom(summary: s.Summary, page_url: str, feed_url: str, language: str) -> bytes:
    """The Atom 1.0 feed: one entry per incident (its updates in its content) and per maintenance."""
    with override(language):
        labels = post_state_labels()
        feed = Atom1Feed(
            title=_("%(site)s status") % {"site": settings.CLASSNOTE_SITE_NAME},
            link=page_url,
            description=_("Incidents and maintenance of %(site)s") % {"site": settings.CLASSNOTE_SITE_NAME},
            language=language,
            feed_url=feed_url,
            feed_guid=feed_url,
        )
        posts = [*summary.active_incidents, *summary.maintenance, *summary.past_incidents]
        for post in posts:
            lines = []
            if post.kind == "maintenance":
                lines.append(
                    _("Scheduled from %(start)s to %(end)s (UTC).")
                    % {"start": _iso(post.started_at), "end": _iso(post.ends_at)}
                )
            if post.body:
                lines.append(post.body)
            lines += [f"{_iso(at)} — {labels.get(state, state)}: {body}" for at, state, body in post.updates]
            kind = _("Maintenance") if post.kind == "maintenance" else _("Incident")
            feed.add_item(
                title=f"[{kind}] {post.title} — {labels.get(post.state, post.state)}",
                link=f"{page_url}#{anchor(post)}",
                description="\n\n".join(lines) or post.title,
                unique_id=f"{page_url}#{anchor(post)}",
                unique_id_is_permalink=False,
                # A maintenance window is published when announced (its start may be in the future).
                pubdate=post.started_at if post.kind == "incident" else post.updated_at,
                updateddate=post.updated_at,
                categories=[post.kind, *post.components],
            )
        return feed.writeString("utf-8").encode()


def _day_text(bar: s.DayBar, labels: dict[str, str]) -> str:
    state = labels.get(bar.state, bar.state)
    if bar.state == s.UNKNOWN:
        return _("%(day)s: no probe results (unknown)") % {"day": bar.day.isoformat()}
    return _("%(day)s: %(state)s, uptime %(uptime)s, availability %(availability)s") % {
        "day": bar.day.isoformat(),
        "state": state,
        "uptime": percent(bar.figures.uptime),
        "availability": percent(bar.figures.availability),
    }


def _figure_rows(component: s.ComponentStatus) -> list[dict[str, Any]]:
    names = {
        "day": _("Last 24 hours"),
        "30d": _("30 days"),
        "90d": _("90 days"),
        "quarter": _("This quarter"),
        "previous_quarter": _("Previous quarter"),
    }
    found = [(p, component.periods.get(p)) for p in PERIODS] + [("previous_quarter", component.previous_quarter)]
    rows = []
    for period, figures in found:
        if figures is None:
            continue
        rows.append(
            {
                "period": period,
                "name": names[period],
                "uptime": percent(figures.uptime),
                "availability": percent(figures.availability),
                "coverage": percent(figures.coverage),
                "partial": figures.coverage is not None and figures.coverage < 1,
                "maintenance": duration(figures.maintenance_seconds) if figures.maintenance_seconds else "",
                "p50": _ms(figures.latency_p50_ms),
                "p95": _ms(figures.latency_p95_ms),
                "p99": _ms(figures.latency_p99_ms),
            }
        )
    return rows


def _ms(value: float | None) -> str:
    return "—" if value is None else _("%(ms)d ms") % {"ms": round(value)}


def _component_context(component: s.ComponentStatus, labels: dict[str, str]) -> dict[str, Any]:
    name, description = _names(component)
    return {
        "key": component.key,
        "name": name,
        "description": description,
        "user_facing": component.user_facing,
        "state": component.state,
        "state_label": labels.get(component.state, component.state),
        "checked_at": component.checked_at,
        "latency": _ms(component.latency_ms) if component.latency_ms is not None else "",
        "bars": [
            {"day": bar.day.isoformat(), "state": bar.state, "text": _day_text(bar, labels)} for bar in component.bars
        ],
        "first_day": component.bars[0].day if component.bars else None,
        "figures": _figure_rows(component),
    }


def _post_context(post: s.Post, labels: dict[str, str]) -> dict[str, Any]:
    names = {c.key: str(c.name) for c in COMPONENTS.values()}
    return {
        "anchor": anchor(post),
        "kind": post.kind,
        "title": post.title,
        "state": post.state,
        "state_label": labels.get(post.state, post.state),
        "impact": post.impact,
        "components": [names.get(key, key) for key in post.components],
        "started_at": post.started_at,
        "ends_at": post.ends_at,
        "resolved_at": post.resolved_at,
        "body": post.body,
        "updates": [
            {"at": at, "state": state, "state_label": labels.get(state, state), "body": body}
            for at, state, body in post.updates
        ],
    }


def page_context(summary: s.Summary) -> dict[str, Any]:
    """The template's context (status/page.html), in the active language."""
    labels = state_labels()
    post_labels = post_state_labels()
    level, description = indicator(summary)
    budget = summary.budget
    age = summary.snapshot_age_seconds
    return {
        "summary": summary,
        "generated_at": summary.generated_at,
        "indicator": level,
        "description": description,
        "service": _component_context(summary.service, labels),
        "components": [_component_context(c, labels) for c in summary.components],
        "budget": {
            "slo": percent(budget.slo),
            "allowed": duration(budget.allowed_seconds),
            "spent": duration(budget.spent_seconds),
            "left": duration(budget.left_seconds),
            "left_percent": percent(budget.left_fraction) if budget.left_fraction is not None else "—",
            "overspent": budget.left_seconds < 0,
        },
        "active_incidents": [_post_context(p, post_labels) for p in summary.active_incidents],
        "past_incidents": [_post_context(p, post_labels) for p in summary.past_incidents],
        "maintenance": [_post_context(p, post_labels) for p in summary.maintenance],
        "state_labels": labels,
        "post_labels": post_labels,
        "snapshot_minutes": None if age is None else max(0, round(age / 60)),
        "now": timezone.now(),
    }


def _moment(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if text else None


def _figures_back(data: dict[str, Any] | None) -> s.Figures | None:
    if not data:
        return None
    return s.Figures(
        start=dt.datetime.fromisoformat(data["start"]),
        end=dt.datetime.fromisoformat(data["end"]),
        total_seconds=data["total_seconds"],
        known_seconds=data["known_seconds"],
        unknown_seconds=data["unknown_seconds"],
        maintenance_seconds=data["maintenance_seconds"],
        answered_seconds=data["answered_seconds"],
        available_seconds=data["available_seconds"],
        uptime=data["uptime"],
        availability=data["availability"],
        coverage=data["coverage"],
        latency_p50_ms=data.get("latency_p50_ms"),
        latency_p95_ms=data.get("latency_p95_ms"),
        latency_p99_ms=data.get("latency_p99_ms"),
    )


def _component_back(data: dict[str, Any]) -> s.ComponentStatus:
    known = COMPONENTS.get(data["id"])
    empty = s.Figures(
        dt.datetime.min.replace(tzinfo=dt.UTC),
        dt.datetime.min.replace(tzinfo=dt.UTC),
        0,
        0,
        0,
        0,
        0,
        0,
        None,
        None,
        None,
    )
    bars = []
    for day in data["days"]:
        figures = s.Figures(
            **{
                **empty.__dict__,
                "uptime": day["uptime"],
                "availability": day["availability"],
                "coverage": day["coverage"],
                "maintenance_seconds": day["maintenance_seconds"],
            }
        )
        bars.append(s.DayBar(day=dt.date.fromisoformat(day["date"]), state=day["state"], figures=figures))
    figures = data["figures"]
    return s.ComponentStatus(
        key=data["id"],
        # The names in the page's language, when the component is still one of ours.
        name=str(known.name) if known else data["name"],
        description=str(known.description) if known else data["description"],
        user_facing=data["user_facing"],
        state=data["state"],
        checked_at=_moment(data["checked_at"]),
        latency_ms=data["latency_ms"],
        failed_step=data.get("failed_step") or "",
        bars=bars,
        periods={p: f for p in PERIODS if (f := _figures_back(figures.get(p))) is not None},
        previous_quarter=_figures_back(figures.get("previous_quarter")),
    )


def _post_back(data: dict[str, Any], kind: str) -> s.Post:
    return s.Post(
        kind=kind,
        id=int(str(data["id"]).rsplit("-", 1)[-1]),
        title=data["name"],
        impact=data["impact"],
        state=data["status"],
        components=[c["id"] for c in data["components"]],
        started_at=dt.datetime.fromisoformat(data["started_at"]),
        ends_at=_moment(data.get("scheduled_until")),
        resolved_at=_moment(data["resolved_at"]),
        updated_at=dt.datetime.fromisoformat(data["updated_at"]),
        body=data.get("body", ""),
        updates=[
            (dt.datetime.fromisoformat(u["created_at"]), u["status"], u["body"]) for u in data["incident_updates"]
        ],
    )


def from_json(data: dict[str, Any], now: dt.datetime | None = None) -> s.Summary:
    """The Summary back from a published summary.json (the last snapshot, shown while the database
    is down), with its age. Raises KeyError/ValueError/TypeError on a document that is not one."""
    generated = dt.datetime.fromisoformat(data["page"]["updated_at"])
    budget = data["error_budget"]
    return s.Summary(
        generated_at=generated,
        state=data["status"]["state"],
        service=_component_back(data["service"]),
        components=[_component_back(c) for c in data["components"]],
        budget=s.ErrorBudget(
            slo=budget["slo"],
            period_seconds=budget["period_seconds"],
            allowed_seconds=budget["allowed_seconds"],
            spent_seconds=budget["spent_seconds"],
            left_seconds=budget["left_seconds"],
            left_fraction=budget["left_fraction"],
        ),
        active_incidents=[_post_back(p, "incident") for p in data["incidents"]],
        past_incidents=[_post_back(p, "incident") for p in data["past_incidents"]],
        maintenance=[_post_back(p, "maintenance") for p in data["scheduled_maintenances"]],
        snapshot_age_seconds=max(0.0, ((now or timezone.now()) - generated).total_seconds()),
    )


def render_page(summary: s.Summary, language: str, assets: dict[str, str], links: dict[str, Any]) -> str:
    """The page's HTML in LANGUAGE. ASSETS: the css and js addresses; LINKS: feed, json, subscribe and
    the languages' addresses (``links["languages"][code]``)."""
    with override(language):
        context = page_context(summary) | {
            "assets": assets,
            "links": links,
            "SITE_NAME": settings.CLASSNOTE_SITE_NAME,
            "languages": [
                {
                    "code": code,
                    "name": _own_name(code, name),
                    "href": links["languages"][code],
                    "current": code == language,
                }
                for code, name in settings.LANGUAGES
            ],
        }
        return render_to_string("status/page.html", context)


def _own_name(code: str, name: Any) -> str:
    """A language's name in that language (日本語, 繁體中文)."""
    with override(code):
        return str(name)
