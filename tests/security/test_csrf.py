"""IPA checklist 6 — cross-site request forgery (CSRF).

tests/test_csrf.py proves the token check on every POST route (anonymous and teacher), on the login
forms, with the token in the header, and for session-authenticated API calls of a teacher and a
school admin. This module attacks the item from the other sides:
  * every role (pupil, teacher, school and municipal admin, privacy officer, operator) sending every
    unsafe method (POST, PUT, PATCH, DELETE) to every route of the site and the API without a token
    is refused — and, the point of CSRF, nothing in the database changed;
  * a token is bound to its session: an attacker's own valid token does not work in a victim's
    session;
  * over HTTPS a request from another origin is refused even with a valid token (Origin and
    Referer checks), a same-origin one is not;
  * safe methods never change anything (a GET walk of every route by every role), so a link or an
    image cannot act for the user;
  * no view of ours is exempt from the check.
"""

from __future__ import annotations

import re
from typing import Any

from django.test import Client

from classnote.accounts.models import User
from classnote.tenancy.access import AUTHENTICATED, PUBLIC
from tests.conftest import Tenant, login_as, read_body
from tests.security.static import python_files, resolved_calls
from tests.security.test_sql_injection import database_fingerprint
from tests.test_csrf import FIELDS, UNSAFE_METHODS, api_methods, is_csrf_refusal, token_of
from tests.test_isolation import Route, _snapshot, _values, all_routes


def csrf_client(actor: User | None) -> Client:
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    return login_as(client, actor) if actor is not None else client


def everyone(tenant: Tenant, officer: User, operator: User) -> list[User]:
    return [*tenant.users(), officer, operator]


def senders(route: Route, people: list[User]) -> list[User | None]:
    if route.audience is None or route.audience & {PUBLIC, AUTHENTICATED}:
        return [None, *people]
    return [person for person in people if person.role in route.audience]


def walkable(tenant: Tenant) -> list[tuple[Route, str]]:
    return [(route, route.path(_values(route, tenant))) for route in all_routes() if not route.streaming]


def is_api_csrf_refusal(response: Any) -> bool:
    if response.status_code != 403 or not response.get("Content-Type", "").startswith("application/json"):
        return False
    return "csrf" in response.content.decode("utf-8", "replace").lower()


def test_no_role_can_change_anything_without_the_token(
    tenant_a: Tenant, officer: User, operator: User, settings: Any
) -> None:
    # Every unsafe method of every route, several hundred writes a person within the minute: past the
    # write throttle (core/throttle.py, tested in tests/test_throttle.py), whose 429 would hide the
    # CSRF refusal this test is about.
    settings.WRITE_RATE_PER_MINUTE = 0
    people = everyone(tenant_a, officer, operator)
    routes = walkable(tenant_a)  # (filling the paths makes the objects they name: before the snapshot)
    before, fingerprint = _snapshot(tenant_a), database_fingerprint()
    problems = []
    for route, path in routes:
        api = route.template.startswith("api/") and route.audience is not None
        declared = api_methods(path) if api else set(UNSAFE_METHODS)
        for number, actor in enumerate(senders(route, people)):
            client = csrf_client(actor)
            # POST by everyone; the other unsafe methods by the first sender of the route.
            for method in UNSAFE_METHODS if number == 0 else ("POST",):
                if api:
                    response = client.generic(
                        method, path, '{"name": "x", "title": "x"}', content_type="application/json"
                    )
                else:
                    response = client.generic(
                        method,
                        path,
                        "&".join(f"{k}={v}" for k, v in FIELDS.items()),
                        content_type="application/x-www-form-urlencoded",
                    )
                who = actor.role if actor else "anonymous"
                where = f"{method} {path} as {who} without a token -> {response.status_code}"
                if api:
                    if actor is None:
                        ok = response.status_code in {401, 405}
                    elif method in declared:
                        ok = is_api_csrf_refusal(response)
                    else:
                        ok = response.status_code in {403, 405}
                elif route.audience is None:  # the API's schema and docs (ninja's views): no unsafe method
                    ok = response.status_code in {403, 405}
                else:
                    ok = is_csrf_refusal(response)
                if not ok:
                    problems.append(where)
    assert not problems, "\n".join(problems)
    assert _snapshot(tenant_a) == before, "a request without a CSRF token changed data"
    assert database_fingerprint() == fingerprint, "a request without a CSRF token added or removed rows"


def test_a_token_works_only_in_the_session_it_belongs_to(tenant_a: Tenant) -> None:
    attacker = csrf_client(tenant_a.classmate)
    attackers_token = token_of(attacker)
    victim = csrf_client(tenant_a.teacher)
    token_of(victim)  # the victim has a CSRF cookie of their own
    epoch = tenant_a.teacher.session_epoch
    response = victim.post("/settings/logout-everywhere/", {"csrfmiddlewaretoken": attackers_token})
    assert is_csrf_refusal(response)
    api = victim.post(
        f"/api/lessons/{tenant_a.lesson.pk}/boxes",
        {"title": "forged"},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=attackers_token,
    )
    assert is_api_csrf_refusal(api)
    tenant_a.teacher.refresh_from_db()
    assert tenant_a.teacher.session_epoch == epoch
    assert not tenant_a.lesson.boxes.filter(title="forged").exists()


def test_over_https_another_origin_is_refused_even_with_a_valid_token(tenant_a: Tenant) -> None:
    client = csrf_client(tenant_a.teacher)
    page = client.get("/settings/", secure=True)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    assert token
    data = {"csrfmiddlewaretoken": token.group(1), "language": "en", "next": "/settings/"}
    host = "https://testserver"
    cases = {
        "Origin of another site": {"HTTP_ORIGIN": "https://evil.example"},
        "Origin of the same host over plain HTTP": {"HTTP_ORIGIN": "http://testserver"},
        "Origin null (sandboxed frame, data: URL)": {"HTTP_ORIGIN": "null"},
        "no Origin, Referer of another site": {"HTTP_REFERER": "https://evil.example/page"},
        "no Origin and no Referer": {},
    }
    for label, headers in cases.items():
        response = client.post("/settings/language/", data, secure=True, **headers)
        assert is_csrf_refusal(response), f"{label}: {response.status_code}"
    same = client.post("/settings/language/", data, secure=True, HTTP_ORIGIN=host, HTTP_REFERER=f"{host}/settings/")
    assert same.status_code == 302, same.status_code
    api = client.post(
        f"/api/lessons/{tenant_a.lesson.pk}/boxes",
        {"title": "cross-site"},
        content_type="application/json",
        secure=True,
        HTTP_X_CSRFTOKEN=token.group(1),
        HTTP_ORIGIN="https://evil.example",
    )
    assert is_api_csrf_refusal(api)
    assert not tenant_a.lesson.boxes.filter(title="cross-site").exists()


def test_safe_methods_change_nothing(tenant_a: Tenant, officer: User, operator: User) -> None:
    """A link, an image or a prefetch cannot act for the user: GET and HEAD of every route, by every
    role, leave the data as it was (reads of pupils' work add audit entries, which is their job)."""
    people = everyone(tenant_a, officer, operator)
    routes = walkable(tenant_a)
    before, fingerprint = _snapshot(tenant_a), database_fingerprint()
    for route, path in routes:
        for actor in senders(route, people):
            client = csrf_client(actor)
            for method in ("GET", "HEAD"):
                read_body(client.generic(method, path))
    assert _snapshot(tenant_a) == before
    after = database_fingerprint()
    # Like the read audit, a pupil's first look at a lesson is recorded for the teacher's roster strip
    # (issue 14): one LessonActivity row per pupil and lesson at most, announced by one event.
    opened = after.pop("lessons.LessonActivity") - fingerprint.pop("lessons.LessonActivity")
    assert 0 <= opened <= 1
    assert after.pop("realtime.Event") - fingerprint.pop("realtime.Event") == opened
    assert after == fingerprint


def test_no_view_is_exempt_from_the_csrf_check() -> None:
    exempt = [
        f"src/classnote/{path}:{call.lineno}: {name}"
        for path, tree in python_files()
        for call, name in resolved_calls(tree)
        if name.rsplit(".", 1)[-1] in ("csrf_exempt", "_dont_enforce_csrf_checks")
    ]
    decorated = []
    for path, tree in python_files():
        for node in __import__("ast").walk(tree):
            for decorator in getattr(node, "decorator_list", []):
                name = getattr(decorator, "id", None) or getattr(decorator, "attr", None)
                if name == "csrf_exempt":
                    decorated.append(f"src/classnote/{path}:{decorator.lineno}: @csrf_exempt")
    assert not exempt + decorated, "\n".join(exempt + decorated)
    from django.conf import settings

    assert "django.middleware.csrf.CsrfViewMiddleware" in settings.MIDDLEWARE
