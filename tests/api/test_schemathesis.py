"""Property-based tests of the whole API from its own OpenAPI document (schemathesis).

Every operation of /api/openapi.json is called with generated requests, as a student (session
cookie + X-CSRFToken), a teacher and a school administrator (personal API tokens) of school A.
Path parameters are drawn from A's real objects, B's objects and generated values. Every answer
must be no server error, have a status code, content type and body the document declares, and
show nothing of school B; nothing of B may change. Bounded and derandomized: the same examples on
every run, well under a minute.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from django.db import connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from classnote.accounts import tokens
from classnote.accounts.models import User
from tests.api.conftest import session
from tests.conftest import Tenant
from tests.test_isolation import _markers, _snapshot

MAX_EXAMPLES = {GenerationMode.POSITIVE: 12, GenerationMode.NEGATIVE: 6}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
NEGATIVE_CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance]
HYPOTHESIS = {
    "deadline": None,
    "derandomize": True,
    "database": None,
    "phases": [Phase.explicit, Phase.generate],
    "suppress_health_check": list(HealthCheck),
}


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


def by_token(user: User) -> dict[str, Any]:
    """How a script calls: a personal API token, no cookie."""
    return {"headers": {"Authorization": f"Bearer {tokens.issue(user, 'schemathesis')[1]}"}}


def by_session(user: User) -> dict[str, Any]:
    """How a browser calls: the session and CSRF cookies, and the X-CSRFToken header."""
    client = session(user)
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


def cases(operation: Any, mode: GenerationMode, values: dict[str, list[object]]) -> Any:
    """Generated cases whose path parameters are often real ids (A's and B's)."""
    names = [name for name in values if f"{{{name}}}" in operation.path]
    choices = {name: st.one_of(st.sampled_from(values[name]), st.none()) for name in names}
    return st.tuples(operation.as_strategy(generation_mode=mode), st.fixed_dictionaries(choices)).map(
        lambda pair: _with_path(*pair)
    )


def _with_path(case: Any, chosen: dict[str, object]) -> Any:
    for name, value in chosen.items():
        if value is not None and case.path_parameters is not None:
            case.path_parameters[name] = str(value)
    return case


def run_operation(
    operation: Any,
    mode: GenerationMode,
    credentials: dict[str, Any],
    values: dict[str, list[object]],
    markers: list[str],
    statuses: list[int],
) -> None:
    @settings(max_examples=MAX_EXAMPLES[mode], **HYPOTHESIS)  # type: ignore[arg-type]
    @given(case=cases(operation, mode, values))
    def check(case: Any) -> None:
        response = case.call(**credentials)
        statuses.append(response.status_code)
        headers = credentials["headers"]
        if mode is GenerationMode.POSITIVE:
            case.validate_response(response, checks=CHECKS, headers=headers)
        else:  # invalid input: refused as the document says, never a server error
            case.validate_response(response, checks=NEGATIVE_CHECKS, headers=headers)
        body = response.text
        leaked = [marker for marker in markers if marker in body]
        assert not leaked, f"{case.method} {case.formatted_path} shows B's data {leaked}"

    check()


@pytest.fixture(scope="module")
def app() -> Any:
    return get_wsgi_application()


def test_every_operation_conforms_and_shows_nothing_of_another_school(
    app: Any, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    with in_test_transaction():
        schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 30, "the API document lists suspiciously few operations"
        markers = [marker for marker in _markers(tenant_b) if marker]
        before = _snapshot(tenant_b)
        actors = {
            "student": (tenant_a.student, by_session(tenant_a.student)),
            "teacher": (tenant_a.teacher, by_token(tenant_a.teacher)),
            "school_admin": (tenant_a.school_admin, by_token(tenant_a.school_admin)),
        }
        problems: list[str] = []
        started = time.monotonic()
        for role, (actor, credentials) in actors.items():
            values = path_values(tenant_a, tenant_b, actor)
            statuses: list[int] = []
            for operation in operations:
                for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                    try:
                        run_operation(operation, mode, credentials, values, markers, statuses)
                    except Exception as failure:  # collect them all, then fail once
                        problems.append(f"{role} {mode.value} {operation.label}:\n{failure}")
            # The credentials worked all along: the run tested the API, not a logged-out client.
            succeeded = sum(200 <= status < 300 for status in statuses)
            assert succeeded > len(statuses) // 10, f"{role}: only {succeeded} of {len(statuses)} succeeded"
    elapsed = time.monotonic() - started
    assert not problems, "\n\n".join(problems)
    assert _snapshot(tenant_b) == before, "a request by a user of A changed data of B"
    assert elapsed < 120, f"the schemathesis run took {elapsed:.0f} s"
