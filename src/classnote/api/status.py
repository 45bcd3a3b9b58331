"""The public status page's summary (issue 15) in the API: GET /api/status/summary.json, the same
document as /status/api/summary.json (Atlassian Statuspage's summary conventions where they fit,
plus our figures). Public: no login, nothing personal. Described here so that /api/openapi.json
carries its schema (and the schemathesis run checks real answers against it).
"""

from __future__ import annotations

from typing import Literal

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Field, Router, Schema

from classnote.status import public, queries
from classnote.tenancy.access import PUBLIC, audience

router = Router(tags=["status"])

State = Literal["operational", "degraded", "outage", "maintenance", "unknown"]


class PageOut(Schema):
    id: str
    name: str
    url: str = Field(description="The status page's address.")
    updated_at: str = Field(description="When these figures were computed (ISO 8601, UTC).")
    time_zone: str


class StatusOut(Schema):
    indicator: Literal["none", "minor", "major", "critical", "maintenance"]
    description: str
    state: State


class FiguresOut(Schema):
    """One period's figures by the method of docs/operations.md. Fractions 0..1; null: nothing observed."""

    start: str
    end: str
    uptime: float | None = Field(description="Answered / known time.")
    availability: float | None = Field(description="Succeeded within the latency objective / known time.")
    coverage: float | None = Field(description="Known time / (period - maintenance): below 1 there were gaps.")
    total_seconds: float
    known_seconds: float
    unknown_seconds: float
    maintenance_seconds: float
    answered_seconds: float
    available_seconds: float
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    latency_p99_ms: float | None


class PeriodsOut(Schema):
    day: FiguresOut | None = Field(description="The last 24 hours.")
    d30: FiguresOut | None = Field(alias="30d", description="The last 30 days.")
    d90: FiguresOut | None = Field(alias="90d", description="The last 90 days.")
    quarter: FiguresOut | None = Field(description="The calendar quarter so far.")
    previous_quarter: FiguresOut | None


class DayOut(Schema):
    date: str
    state: State
    uptime: float | None
    availability: float | None
    coverage: float | None
    maintenance_seconds: float


class ComponentOut(Schema):
    id: str
    name: str
    description: str
    status: Literal[
        "operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance", "unknown"
    ] = Field(description="Statuspage's component status; 'unknown': no recent probe result.")
    state: State
    position: int
    user_facing: bool
    checked_at: str | None
    latency_ms: int | None
    failed_step: str = Field(
        description="The step of the last probe that failed (login, stream, upload, ...); empty when it succeeded."
    )
    figures: PeriodsOut
    days: list[DayOut] = Field(description="The bar: one entry per day, oldest first (90 days).")


class BudgetOut(Schema):
    slo: float
    period_seconds: float
    allowed_seconds: float
    spent_seconds: float
    left_seconds: float
    left_fraction: float | None


class PostComponentOut(Schema):
    id: str
    name: str


class UpdateOut(Schema):
    status: str
    body: str
    created_at: str


class PostOut(Schema):
    id: str
    name: str
    status: str
    impact: str
    shortlink: str
    started_at: str
    created_at: str
    updated_at: str
    resolved_at: str | None
    body: str
    components: list[PostComponentOut]
    incident_updates: list[UpdateOut]
    scheduled_for: str | None = None
    scheduled_until: str | None = None


class SummaryOut(Schema):
    page: PageOut
    status: StatusOut
    components: list[ComponentOut]
    service: ComponentOut = Field(description="The whole service (its user-facing components).")
    error_budget: BudgetOut
    incidents: list[PostOut] = Field(description="Unresolved incidents.")
    past_incidents: list[PostOut] = Field(description="Incidents resolved in the last 90 days.")
    scheduled_maintenances: list[PostOut] = Field(description="Maintenance in progress or announced.")
    snapshot_age_seconds: float | None


@router.get("/status/summary.json", response={200: SummaryOut}, auth=None, by_alias=True)
@audience(PUBLIC)
def status_summary(request: HttpRequest, response: HttpResponse) -> object:
    """The status page's summary: the state of each component and of the whole service, uptime and
    availability per period, the 90 days of the bars, the error budget, incidents and maintenance.
    Public (no login); also at /status/api/summary.json. Names in the request's language."""
    if not request.user.is_authenticated:  # a signed-in user's answers stay private, no-store
        response["Cache-Control"] = "public, max-age=30"
    response["Access-Control-Allow-Origin"] = "*"
    page_url = settings.STATUS_PUBLIC_URL or request.build_absolute_uri(reverse("status_page"))
    return public.as_json(queries.shared_summary(), page_url)
