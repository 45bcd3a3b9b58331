"""Tenant isolation over every URL of the project — including ones added after this test.

The test walks the whole URL tree. For each route it fills path parameters with the
ids of municipality B's objects and calls it (GET and POST) as every kind of user of
municipality A. It proves that
  * no route answers A with success for B's objects, or shows any of B's data,
    or changes anything of B's;
  * a student cannot reach teacher or admin routes, even with their own school's ids;
  * anonymous visitors reach only public routes;
  * every view of ours declares its audience (classnote.tenancy.access.audience).
A new URL is covered without editing this file; a new *kind* of path parameter makes the
test fail until it is added to PARAMETERS below, so nothing is skipped silently.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.forms.models import model_to_dict
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from classnote.accounts.models import LoginCard, User
from classnote.cards.models import Card
from classnote.files.models import StoredFile
from classnote.lessons.models import Lesson, Submission, SubmissionBox
from classnote.tenancy.access import AUTHENTICATED, PUBLIC
from classnote.tenancy.models import Membership
from tests.conftest import Tenant, login_as

# Path parameter name -> how to pick the object of a tenant it stands for.
PARAMETERS: dict[str, Callable[[Tenant], object]] = {
    "municipality_id": lambda t: t.municipality.pk,
    "school_id": lambda t: t.school.pk,
    "class_id": lambda t: t.school_class.pk,
    "user_id": lambda t: t.student.pk,
    "lesson_id": lambda t: t.lesson.pk,
    "box_id": lambda t: t.box.pk,
    "submission_id": lambda t: t.submission.pk,
    "card_id": lambda t: t.submission.card_id,
    "file_id": lambda t: t.file.pk,
    "object_id": lambda t: t.lesson.pk,  # event streams: /events/<kind>/<object_id>/
    # API tokens (/api/tokens/<token_id>): a token row of the tenant's teacher, made on first use
    # (its hash is of no real token).
    "token_id": lambda t: (
        t.teacher.api_tokens.get_or_create(name="isolation test", defaults={"token_hash": f"{t.teacher.pk:064x}"})[0].pk
    ),
    # Operator support grants (/privacy/support/<grant_id>/revoke/): a running grant of the tenant.
    "grant_id": lambda t: _support_grant(t).pk,
    # Data-subject requests (/requests/<request_id>/...): an open deletion request about the tenant's
    # pupil — the most destructive step must be refused to everyone outside the tenant.
    "request_id": lambda t: _data_request(t).pk,
    # Complaints (/complaints/<complaint_id>/) and incidents (/incidents/<incident_id>/) about the tenant.
    "complaint_id": lambda t: _complaint(t).pk,
    "incident_id": lambda t: _incident(t).pk,
    # The status page's posts and webhooks (/operator/status/...) belong to no tenant: a published
    # incident, a maintenance window and a webhook, which no tenant user may change.
    "status_incident_id": lambda t: _status_posts()[0].pk,
    "maintenance_id": lambda t: _status_posts()[1].pk,
    "subscriber_id": lambda t: _status_posts()[2].pk,
    # Status subscriptions' links (/status/subscribe/confirm/<token>/): a token of no subscription.
    "subscription_token": lambda t: "not-a-subscription-token",
}


def _status_posts() -> tuple[Any, Any, Any]:
    from datetime import timedelta

    from django.utils import timezone

    from classnote.status.models import Maintenance, StatusIncident, Subscriber

    now = timezone.now()
    incident = StatusIncident.objects.get_or_create(
        title="ISOLATION status incident", defaults={"components": ["api"], "published_at": now}
    )[0]
    window = Maintenance.objects.get_or_create(
        title="ISOLATION maintenance",
        defaults={"components": ["api"], "starts_at": now + timedelta(days=1), "ends_at": now + timedelta(days=2)},
    )[0]
    hook = Subscriber.objects.get_or_create(
        kind="webhook",
        address="https://hooks.example/isolation",
        defaults={"token_hash": "f" * 64, "secret": "s", "confirmed_at": now},
    )[0]
    return incident, window, hook


def _data_request(tenant: Tenant) -> Any:
    from classnote.rights import workflow
    from classnote.rights.models import DataSubjectRequest

    existing = DataSubjectRequest.objects.filter(subject=tenant.student, kind="deletion").first()
    return existing or workflow.open_request(
        tenant.school_admin, subject_id=tenant.student.pk, kind="deletion", requester="guardian"
    )


def _support_grant(tenant: Tenant) -> Any:
    from datetime import timedelta

    from django.utils import timezone

    from classnote.privacy.models import SupportGrant

    return SupportGrant.objects.get_or_create(
        municipality=tenant.municipality,
        reference="ISOLATION-1",
        defaults={"reason": "fault", "expires_at": timezone.now() + timedelta(hours=1)},
    )[0]


def _complaint(tenant: Tenant) -> Any:
    from classnote.complaints.models import Complaint

    return Complaint.objects.get_or_create(
        reference=f"C-ISOLATION-{tenant.municipality.pk}",
        defaults={"municipality": tenant.municipality, "kind": "complaint", "message": "m", "language": "en"},
    )[0]


def _incident(tenant: Tenant) -> Any:
    from django.utils import timezone

    from classnote.incidents.models import Incident

    incident, created = Incident.objects.get_or_create(
        reference=f"I-ISOLATION-{tenant.municipality.pk}",
        defaults={"kind": "leak", "discovered_at": timezone.now(), "summary": "s"},
    )
    if created:
        incident.municipalities.add(tenant.municipality)
    return incident


# Parameters that name a kind of thing rather than an object of a tenant.
FIXED_PARAMETERS = {"kind": "lesson", "background": "venn"}
# Parameters of third-party account routes that carry secrets (reset keys), not tenant objects.
OPAQUE_PARAMETERS = {
    "uidb36": "1",
    "key": "not-a-real-key-0000",
    "uidb64": "MQ",
    "token": "x-x",
    "pk": "999999",
}
# Views we did not write: the account's own pages (allauth) and the API schema/docs (ninja).
THIRD_PARTY_MODULES = ("allauth.", "ninja.openapi.")
# A student may call these (besides PUBLIC and AUTHENTICATED).
STUDENT_ROLE = "student"
OK_REFUSALS = {403, 404, 405}


@dataclass
class Route:
    template: str  # e.g. "schools/<int:school_id>/"
    parameters: list[str]
    audience: frozenset[str] | None  # None: third-party view
    module: str
    streaming: bool = False  # an event stream: it never ends

    def path(self, values: dict[str, object]) -> str:
        def fill(match: re.Match[str]) -> str:
            return str(values[match.group(2)])

        return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", fill, self.template)


def _ninja_audiences(callback: Any) -> list[frozenset[str] | None]:
    """A django-ninja URL serves several operations through one view; read each one's mark."""
    for cell in getattr(callback, "__closure__", None) or ():
        path_view = cell.cell_contents
        if hasattr(path_view, "operations"):
            return [getattr(op.view_func, "classnote_audience", None) for op in path_view.operations]
    return []


def _walk(patterns: list[Any], prefix: str = "") -> Iterator[Route]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            template = prefix + str(entry.pattern)
            callback = entry.callback
            if "^" in template or "(?P" in template:
                if not (getattr(callback, "__module__", "") or "").startswith(THIRD_PARTY_MODULES):
                    pytest.fail(f"Regex route {template!r}: use path() so the isolation test can fill it")
                template = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"<\1>", template).replace("^", "").replace("$", "")
            module = getattr(callback, "__module__", "") or ""
            if isinstance(callback, type(lambda: None)) and module.startswith("ninja"):
                marks = _ninja_audiences(callback)
                if not marks or any(mark is None for mark in marks):
                    pytest.fail(f"API route {template!r} has an operation without @audience(...)")
                audience: frozenset[str] | None = frozenset().union(*[m for m in marks if m])
            else:
                func = getattr(callback, "func", callback)  # functools.partial
                module = getattr(func, "__module__", "") or ""
                audience = getattr(callback, "classnote_audience", None) or getattr(
                    getattr(callback, "view_class", None), "classnote_audience", None
                )
                if audience is None and not module.startswith(THIRD_PARTY_MODULES):
                    pytest.fail(
                        f"The view of {template!r} ({module}) does not declare its audience: "
                        "decorate it with classnote.tenancy.access.audience(...)"
                    )
            params = re.findall(r"<(?:\w+:)?(\w+)>", template)
            yield Route(template, params, audience, module, bool(getattr(callback, "classnote_streaming", False)))


def all_routes() -> list[Route]:
    return list(_walk(get_resolver().url_patterns))


def _values(route: Route, tenant: Tenant) -> dict[str, object]:
    values: dict[str, object] = {}
    for name in route.parameters:
        if name in PARAMETERS:
            values[name] = PARAMETERS[name](tenant)
        elif name in FIXED_PARAMETERS:
            values[name] = FIXED_PARAMETERS[name]
        elif name in OPAQUE_PARAMETERS and route.audience is None:
            values[name] = OPAQUE_PARAMETERS[name]
        else:
            pytest.fail(
                f"Route {route.template!r} has a parameter {name!r} the isolation test does not know: "
                "add it to PARAMETERS in tests/test_isolation.py"
            )
    return values


def _snapshot(tenant: Tenant) -> list[dict[str, Any]]:
    """Everything of tenant B that a request could change."""
    users = User.objects.filter(municipality=tenant.municipality).order_by("pk")
    rows: list[Any] = [tenant.municipality, tenant.school, tenant.school_class, tenant.other_class]
    for obj in rows:
        obj.refresh_from_db()
    rows += list(users)
    rows += list(Membership.objects.filter(school_class__school=tenant.school).order_by("pk"))
    rows += list(LoginCard.objects.filter(user__in=users).order_by("pk"))
    rows += list(Card.objects.filter(school=tenant.school).order_by("pk"))
    rows += list(Lesson.objects.filter(school_class__school=tenant.school).order_by("pk"))
    rows += list(SubmissionBox.objects.filter(lesson__school_class__school=tenant.school).order_by("pk"))
    rows += list(Submission.objects.filter(box__lesson__school_class__school=tenant.school).order_by("pk"))
    rows += list(StoredFile.objects.filter(school=tenant.school).order_by("pk"))
    rows += [_complaint(tenant), _incident(tenant), *_status_posts()]
    # last_login changes when the test signs its actors in; it is not data a request could steal.
    return [model_to_dict(row, exclude=["last_login"]) | {"_model": type(row).__name__} for row in rows]


def _markers(tenant: Tenant) -> list[str]:
    return [
        tenant.municipality.name,
        tenant.school.name,
        tenant.school_class.name,
        tenant.other_class.name,
        tenant.school.code,
        *[u.display_name for u in User.objects.filter(municipality=tenant.municipality)],
        *[u.username for u in User.objects.filter(municipality=tenant.municipality)],
    ]


def _call(client: Client, method: str, path: str) -> Any:
    if method == "GET":
        return client.get(path)
    return client.post(path, {"name": "x", "form": "class", "user": "1", "role": "student", "active": "0"})


def test_every_route_is_enumerated_and_declared(db: None) -> None:
    routes = all_routes()
    templates = {route.template for route in routes}
    # A sanity check that the walk really sees the tree (our own pages, the API and allauth's).
    for expected in ("schools/<int:school_id>/", "api/classes/<class_id>", "accounts/login/"):
        assert expected in templates, f"{expected} missing from the walk"
    assert len(routes) > 30


def test_no_user_of_a_can_read_or_change_anything_of_b(tenant_a: Tenant, tenant_b: Tenant) -> None:
    before = _snapshot(tenant_b)
    markers = _markers(tenant_b)
    problems = []
    for actor in tenant_a.users():
        for route in all_routes():
            values = _values(route, tenant_b)
            path = route.path(values)
            for method in ("GET", "POST"):
                client = login_as(Client(), actor)
                response = _call(client, method, path)
                status = response.status_code
                where = f"{method} {path} as {actor.role} of A -> {status}"
                if status >= 500:
                    problems.append(f"{where}: server error")
                names_objects = any(name in PARAMETERS for name in route.parameters)
                if names_objects and route.audience is not None and status not in OK_REFUSALS:
                    problems.append(f"{where}: B's object was not refused")
                body = response.content.decode("utf-8", "replace")
                leaked = [m for m in markers if m and m in body]
                if leaked:
                    problems.append(f"{where}: response shows B's data {leaked}")
    assert not problems, "\n".join(problems)
    assert _snapshot(tenant_b) == before, "a request by a user of A changed data of B"


def test_students_cannot_reach_staff_routes_even_in_their_own_school(tenant_a: Tenant) -> None:
    before = _snapshot(tenant_a)
    problems = []
    for route in all_routes():
        if route.audience is None or route.audience & {PUBLIC, AUTHENTICATED, STUDENT_ROLE}:
            continue
        path = route.path(_values(route, tenant_a))
        for method in ("GET", "POST"):
            client = login_as(Client(), tenant_a.student)
            status = _call(client, method, path).status_code
            if status not in OK_REFUSALS:
                problems.append(f"{method} {path} as a student -> {status}")
    assert not problems, "\n".join(problems)
    assert _snapshot(tenant_a) == before


def test_a_student_sees_only_their_own_classes(tenant_a: Tenant) -> None:
    client = login_as(Client(), tenant_a.student)
    assert client.get(f"/classes/{tenant_a.school_class.pk}/").status_code == 200
    assert client.get(f"/classes/{tenant_a.other_class.pk}/").status_code == 404
    classes = client.get("/api/classes").json()
    assert [c["id"] for c in classes] == [tenant_a.school_class.pk]
    # The roster of one's own class is not shown to pupils: only their teachers.
    body = client.get(f"/classes/{tenant_a.school_class.pk}/").content.decode()
    assert tenant_a.classmate.display_name not in body
    assert tenant_a.teacher.display_name in body


def test_a_teacher_sees_only_the_classes_they_teach(tenant_a: Tenant) -> None:
    client = login_as(Client(), tenant_a.teacher)
    assert client.get(f"/classes/{tenant_a.school_class.pk}/").status_code == 200
    assert client.get(f"/classes/{tenant_a.other_class.pk}/").status_code == 404
    assert client.get(f"/users/{tenant_a.student.pk}/").status_code == 200
    assert client.get(f"/users/{tenant_a.other_class_student.pk}/").status_code == 404
    assert client.get(f"/schools/{tenant_a.school.pk}/").status_code == 403


def test_anonymous_visitors_reach_only_public_routes(tenant_a: Tenant) -> None:
    problems = []
    for route in all_routes():
        if route.audience is None or PUBLIC in route.audience:
            continue
        path = route.path(_values(route, tenant_a))
        response = Client().get(path)
        redirected_to_login = response.status_code == 302 and "/accounts/login/" in response["Location"]
        if not (redirected_to_login or response.status_code in {401, 403, 404, 405}):
            problems.append(f"GET {path} anonymously -> {response.status_code}")
    assert not problems, "\n".join(problems)
