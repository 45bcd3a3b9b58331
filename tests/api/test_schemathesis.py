"""Property-based tests of the whole API from its own OpenAPI document (schemathesis).

Every operation of /api/openapi.json is called with generated requests by six roles: a student
of municipality A (session cookie + X-CSRFToken), a teacher and a school administrator (personal
API tokens), a municipal administrator (session with a fresh login, so the session-only "make a
token" is exercised too), and the operator's privacy officer and operator (sessions, accounts
without a tenant). Path parameters are drawn from A's real objects, B's objects and generated
values. Every answer must be no server error, have a status code, content type and body the
document declares, and show nothing of municipality B (nor, to the operator's people, anything of
A); nothing of B may change. A role outside an operation's audience is refused every time.

Generated data rarely hits the narrow valid input of some operations (a card's current version,
a card of one's own, a real image), so each of those is also called once with a valid request that
must succeed and conform. The run records which roles really called which operation and fails if
any operation was exercised by fewer than three roles or never answered with success.

Bounded and derandomized: the same examples on every run; about 45 s of CPU on two cores.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.wsgi import get_wsgi_application
from django.db import connections
from django.test.client import BOUNDARY, encode_multipart
from django.urls import resolve
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err, Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from classnote.accounts import tokens
from classnote.accounts.models import User
from classnote.base.roles import Role
from classnote.cards.models import Card
from classnote.tenancy.access import AUTHENTICATED, PUBLIC
from tests.api.conftest import session
from tests.conftest import PASSWORD, Tenant
from tests.files import samples
from tests.test_isolation import _markers, _snapshot

MAX_EXAMPLES = {GenerationMode.POSITIVE: 12, GenerationMode.NEGATIVE: 6}
# A role outside the operation's audience: the gate refuses before reading anything.
REFUSED_EXAMPLES = {GenerationMode.POSITIVE: 3, GenerationMode.NEGATIVE: 2}
OUTSIDE_AUDIENCE = {401, 403, 404, 405}
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
NEGATIVE_CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance]
HYPOTHESIS = {
    "deadline": None,
    "derandomize": True,
    "database": None,
    "phases": [Phase.explicit, Phase.generate],
    "suppress_health_check": list(HealthCheck),
}


@pytest.fixture(autouse=True)
def no_write_rate_limit(settings: Any) -> None:
    """These tests send hundreds of writes a minute from one account on purpose: the limit per person
    (core.throttle, tested in tests/test_throttle.py) would answer them 429 instead of checking them."""
    settings.WRITE_RATE_PER_MINUTE = 0


@contextmanager
def in_test_transaction() -> Iterator[None]:
    """The WSGI app runs in this thread, on the test's connection and inside its transaction: it
    must not close that connection after each request as it would in production (Django's test
    client does the same; patching the connection survives the test client's own reconnects)."""
    kept = list(connections.all())
    for connection in kept:
        connection.close_if_unusable_or_obsolete = lambda: None  # type: ignore[method-assign]
    try:
        yield
    finally:
        for connection in kept:
            del connection.close_if_unusable_or_obsolete


def by_token(user: User) -> tuple[dict[str, Any], dict[str, str]]:
    """How a script calls: a personal API token, no cookie. Also: the token's id, never to revoke."""
    api_token, secret = tokens.issue(user, "schemathesis")
    return {"headers": {"Authorization": f"Bearer {secret}"}}, {"token_id": str(api_token.pk)}


def by_session(user: User, *, fresh: bool = False) -> dict[str, Any]:
    """How a browser calls: the session and CSRF cookies, and the X-CSRFToken header; with
    fresh=True the password was entered just now (step-up for making a token passes)."""
    client = session(user, fresh=fresh)
    csrf = client.get("/api/csrf").json()["csrf_token"]
    cookies = {name: morsel.value for name, morsel in client.cookies.items()}
    assert set(cookies) == {"classnote_session", "csrftoken"}
    return {"headers": {"X-CSRFToken": csrf}, "cookies": cookies}


def path_values(tenant_a: Tenant, tenant_b: Tenant, actor: User) -> dict[str, list[object]]:
    """Ids to try for each kind of path parameter: the actor's school's objects, B's, and junk."""

    def both(pick: Callable[[Tenant], object]) -> list[object]:
        return [pick(tenant_a), pick(tenant_b)]

    # A spare token of the actor to revoke, and one of B's; never the token the run is using.
    spare = tokens.issue(actor, "spare")[0].pk if actor.role in tokens.TOKEN_ROLES else 1
    theirs = tokens.issue(tenant_b.teacher, "theirs")[0].pk
    return {
        "class_id": both(lambda t: t.school_class.pk) + [tenant_a.other_class.pk],
        "lesson_id": both(lambda t: t.lesson.pk),
        "card_id": both(lambda t: t.card.pk) + both(lambda t: t.submission.card_id),
        "box_id": both(lambda t: t.box.pk),
        "submission_id": both(lambda t: t.submission.pk),
        "file_id": both(lambda t: t.file.pk),
        "token_id": [spare, theirs],
    }


def cases(operation: Any, mode: GenerationMode, values: dict[str, list[object]], keep: dict[str, str]) -> Any:
    """Generated cases whose path parameters are often real ids (A's and B's). KEEP maps a parameter
    to a value the run must never send (the actor's own token: revoking it would end the run)."""
    names = [name for name in values if f"{{{name}}}" in operation.path]
    choices = {name: st.one_of(st.sampled_from(values[name]), st.none()) for name in names}
    return st.tuples(operation.as_strategy(generation_mode=mode), st.fixed_dictionaries(choices)).map(
        lambda pair: _with_path(*pair, keep=keep, values=values)
    )


def _with_path(case: Any, chosen: dict[str, object], *, keep: dict[str, str], values: dict[str, list[object]]) -> Any:
    for name, value in chosen.items():
        if value is not None and case.path_parameters is not None:
            case.path_parameters[name] = str(value)
    for name, forbidden in keep.items():
        if case.path_parameters and str(case.path_parameters.get(name)) == forbidden:
            case.path_parameters[name] = str(values[name][0])
    return case


@dataclass
class Actor:
    role: str
    user: User
    credentials: dict[str, Any]
    keep: dict[str, str] = field(default_factory=dict)  # path values never to send (see cases())
    foreign: list[str] = field(default_factory=list)  # text that must appear in no answer to this actor


@dataclass
class Calls:
    """What the run really did: who called which operation, and the answers."""

    statuses: dict[tuple[str, str], list[int]] = field(default_factory=lambda: defaultdict(list))

    def roles_of(self, label: str) -> set[str]:
        return {role for (operation, role), seen in self.statuses.items() if operation == label and seen}


def audience_of(operation: Any) -> frozenset[str]:
    """The roles an operation declares with @audience (read from the ninja view behind its URL)."""
    match = resolve(re.sub(r"\{\w+\}", "1", operation.path))
    for cell in getattr(match.func, "__closure__", None) or ():
        path_view = cell.cell_contents
        for ninja_operation in getattr(path_view, "operations", []):
            if operation.method.upper() in ninja_operation.methods:
                return frozenset(ninja_operation.view_func.classnote_audience)
    raise AssertionError(f"no @audience found for {operation.label}")


def takes_input(operation: Any) -> bool:
    """Whether a request to OPERATION can be invalid at all: it has parameters, a body or a security
    scheme. A public operation without any (the status summary) has no invalid request to generate."""
    raw = operation.definition.raw
    return bool(raw.get("parameters") or raw.get("requestBody") or raw.get("security"))


def admitted(actor: Actor, audience: frozenset[str]) -> bool:
    return PUBLIC in audience or AUTHENTICATED in audience or actor.role in audience


def run_operation(
    operation: Any,
    mode: GenerationMode,
    actor: Actor,
    values: dict[str, list[object]],
    markers: list[str],
    calls: Calls,
    audience: frozenset[str],
) -> None:
    inside = admitted(actor, audience)
    # Outside the audience the gate refuses before anything is read: a few examples show it.
    examples = MAX_EXAMPLES[mode] if inside else REFUSED_EXAMPLES[mode]
    seen = calls.statuses[(operation.label, actor.role)]
    credentials = actor.credentials
    foreign = markers + actor.foreign

    @settings(max_examples=examples, **HYPOTHESIS)  # type: ignore[arg-type]
    @given(case=cases(operation, mode, values, actor.keep))
    def check(case: Any) -> None:
        response = case.call(**credentials)
        seen.append(response.status_code)
        headers = credentials["headers"]
        if mode is GenerationMode.POSITIVE:
            case.validate_response(response, checks=CHECKS, headers=headers)
        else:  # invalid input: refused as the document says, never a server error
            case.validate_response(response, checks=NEGATIVE_CHECKS, headers=headers)
        body = response.text
        leaked = [marker for marker in foreign if marker in body]
        assert not leaked, f"{case.method} {case.formatted_path} shows data it must not {leaked}"
        if not inside:
            assert response.status_code in OUTSIDE_AUDIENCE, (
                f"{case.method} {case.formatted_path} as {actor.role} (not in {sorted(audience)}) "
                f"-> {response.status_code}"
            )

    check()


@pytest.fixture(scope="module")
def app() -> Any:
    return get_wsgi_application()


def operator_side(role: str, login: str) -> User:
    """An account of the operator (no municipality): the privacy officer, the operator."""
    return User.objects.create_user(login, PASSWORD, display_name=f"Operator side {login}", role=role)


def usable(result: Ok[Any] | Err[Any]) -> Any:
    """An operation of the document; one schemathesis cannot read fails the run with its reason."""
    if isinstance(result, Err):
        raise AssertionError(f"the API document has an unusable operation: {result.err()}")
    return result.ok()


def make_actors(tenant_a: Tenant) -> list[Actor]:
    officer = operator_side(Role.PRIVACY_OFFICER, "schemathesis-privacy-officer")
    operator = operator_side(Role.OPERATOR, "schemathesis-operator")
    own_school = [marker for marker in _markers(tenant_a) if marker]
    actors = [
        # First: its fresh login (step-up for making a token) lasts five minutes.
        Actor("municipal_admin", tenant_a.municipal_admin, by_session(tenant_a.municipal_admin, fresh=True)),
        Actor("student", tenant_a.student, by_session(tenant_a.student)),
        Actor("teacher", tenant_a.teacher, *by_token(tenant_a.teacher)),
        Actor("school_admin", tenant_a.school_admin, *by_token(tenant_a.school_admin)),
        # Without a tenant, A's data is as foreign to the operator's people as B's.
        Actor("privacy_officer", officer, by_session(officer), foreign=own_school),
        Actor("operator", operator, by_session(operator), foreign=own_school),
    ]
    assert {actor.role for actor in actors} == {actor.user.role for actor in actors}
    return actors


def happy_paths(t: Tenant) -> list[tuple[str, str, dict[str, Any]]]:
    """One valid request for each operation that generated data rarely gets right (the card's
    current version, a card of one's own, a lesson that allows peer sending, a real image): each
    must succeed and conform to the document too. In order: some prepare the next."""
    copy = Card.objects.filter(owner=t.student, lesson=t.lesson, frozen=False).order_by("pk").first()
    assert copy is not None
    lesson, box = {"lesson_id": t.lesson.pk}, {"box_id": t.box.pk}
    upload = encode_multipart(BOUNDARY, {"file": SimpleUploadedFile("drawing.png", samples.png(), "image/png")})
    return [
        ("POST /api/cards", "student", {"body": {"kind": "text", "title": "My plan", "lesson_id": t.lesson.pk}}),
        (
            "PATCH /api/cards/{card_id}",
            "student",
            {
                "path_parameters": {"card_id": copy.pk},
                "body": {
                    "version": copy.version,
                    "fields": {
                        "title": "Edited",
                        "strokes": [{"c": "#112233", "w": 3, "e": False, "p": [[1, 2], [3, 4]]}],
                    },
                },
            },
        ),
        (
            "POST /api/cards/{card_id}/sequence",
            "teacher",
            {"path_parameters": {"card_id": t.card.pk}, "body": {"card_ids": []}},
        ),
        (
            "POST /api/lessons/{lesson_id}/send",
            "teacher",
            {"path_parameters": lesson, "body": {"card_ids": [t.card.pk]}},
        ),
        (
            "POST /api/lessons/{lesson_id}/peer-sending",
            "teacher",
            {"path_parameters": lesson, "body": {"allowed": True}},
        ),
        (
            "POST /api/lessons/{lesson_id}/peer-send",
            "student",
            {
                "path_parameters": lesson,
                "body": {"card_id": copy.pk, "student_ids": [t.classmate.pk]},
            },
        ),
        (
            "POST /api/lessons/{lesson_id}/boxes",
            "teacher",
            {"path_parameters": lesson, "body": {"title": "Second task", "deadline": "2027-03-01T15:00:00+09:00"}},
        ),
        ("POST /api/boxes/{box_id}/close", "teacher", {"path_parameters": box}),
        ("POST /api/boxes/{box_id}/open", "teacher", {"path_parameters": box}),
        ("POST /api/boxes/{box_id}/submissions", "student", {"path_parameters": box, "body": {"card_id": copy.pk}}),
        (
            "POST /api/boxes/{box_id}/sharing",
            "teacher",
            {"path_parameters": box, "body": {"sharing": True, "anonymous": False}},
        ),
        ("GET /api/boxes/{box_id}/shared", "student", {"path_parameters": box}),
        # Sent as a ready multipart body: schemathesis sends a nullable binary field as a plain form field.
        (
            "POST /api/files",
            "teacher",
            {"body": upload, "media_type": "multipart/form-data", "headers": {"Content-Type": MULTIPART}},
        ),
    ]


def run_happy_paths(
    operations: list[Any], actors: list[Actor], tenant: Tenant, markers: list[str], calls: Calls
) -> list[str]:
    by_label = {operation.label: operation for operation in operations}
    by_role = {actor.role: actor for actor in actors}
    problems = []
    for label, role, request in happy_paths(tenant):
        actor = by_role[role]
        headers = actor.credentials["headers"] | request.pop("headers", {})
        case = by_label[label].Case(**request)
        response = case.call(**(actor.credentials | {"headers": headers}))
        calls.statuses[(label, role)].append(response.status_code)
        try:
            case.validate_response(response, checks=CHECKS, headers=actor.credentials["headers"])
            assert 200 <= response.status_code < 300, f"{response.status_code} {response.text[:300]}"
            assert not [marker for marker in markers if marker in response.text], "shows B's data"
        except Exception as failure:
            problems.append(f"{role} {label} (valid request):\n{failure}")
    return problems


def test_every_operation_conforms_and_shows_nothing_of_another_school(
    app: Any, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    with in_test_transaction():
        schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
        operations = [usable(result) for result in schema.get_all_operations()]
        assert len(operations) >= 30, "the API document lists suspiciously few operations"
        markers = [marker for marker in _markers(tenant_b) if marker]
        before = _snapshot(tenant_b)
        actors = make_actors(tenant_a)
        calls = Calls()
        problems = run_happy_paths(operations, actors, tenant_a, markers, calls)
        for actor in actors:
            values = path_values(tenant_a, tenant_b, actor.user)
            for operation in operations:
                audience = audience_of(operation)
                modes = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
                for mode in modes if takes_input(operation) else modes[:1]:
                    try:
                        run_operation(operation, mode, actor, values, markers, calls, audience)
                    except Exception as failure:  # collect them all, then fail once
                        problems.append(f"{actor.role} {mode.value} {operation.label}:\n{failure}")
            # The credentials worked all along: the run tested the API, not a logged-out client.
            inside = [
                status
                for operation in operations
                if admitted(actor, audience_of(operation))
                for status in calls.statuses[(operation.label, actor.role)]
            ]
            succeeded = sum(200 <= status < 300 for status in inside)
            assert succeeded > len(inside) // 10, f"{actor.role}: only {succeeded} of {len(inside)} succeeded"
    assert not problems, "\n\n".join(problems)
    assert _snapshot(tenant_b) == before, "a request by a user of A changed data of B"
    # Coverage: every operation of the document was really called by at least three roles.
    thin = {op.label: sorted(calls.roles_of(op.label)) for op in operations if len(calls.roles_of(op.label)) < 3}
    assert not thin, f"operations exercised by fewer than three roles: {thin}"
    # ... and every operation answered with success to at least one of them.
    never_ok = [
        op.label
        for op in operations
        if not any(
            200 <= status < 300 for role in calls.roles_of(op.label) for status in calls.statuses[(op.label, role)]
        )
    ]
    assert not never_ok, f"operations that never succeeded: {never_ok}"
