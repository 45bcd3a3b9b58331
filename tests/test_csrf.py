"""No state-changing request is accepted from another site: every POST needs the CSRF token.

Promise: with CSRF checks enforced (as in a real browser), a POST without the token is refused
with 403 and the product's "please try again" page — on the staff login, the student login,
the QR-card login, the language switch, "log out everywhere" and every other route of the
project, whoever sends it (anonymous, or a signed-in user whose role may use the route). The
same POST *with* the token is not refused for CSRF, so the 403 above really is the CSRF check
and the forms keep working: a student who fetched the login page and types a wrong password
gets 400 with an error message, not 403. Session-authenticated API requests that change
something need the X-CSRFToken header, too.

The test walks every URL pattern (``all_routes()`` of tests/test_isolation.py), so a new route
is covered without editing this file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.urls import resolve
from django.utils import translation

from classnote.accounts.models import User
from classnote.tenancy.access import AUTHENTICATED, PUBLIC
from tests.conftest import PASSWORD, Tenant, login_as
from tests.test_isolation import Route, _values, all_routes

CSRF_MESSAGE = "Your form was too old or came from another site. Go back, reload the page and send it again."
# Filled in the forms of each route; harmless if a view ignores them.
FIELDS = {"name": "x", "form": "class", "user": "1", "role": "student", "active": "1", "language": "ja"}
UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
TOKEN_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def csrf_client(actor: User | None) -> Client:
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    return login_as(client, actor) if actor is not None else client


def token_of(client: Client) -> str:
    """The token a browser would send: read from a form of a page, as a user's browser would."""
    body = client.get("/login/student/").content.decode()
    match = TOKEN_FIELD.search(body)
    assert match, "the student login page has no CSRF token field"
    return match.group(1)


def is_csrf_refusal(response: Any) -> bool:
    """The product's CSRF failure page, in the language it was rendered in."""
    if response.status_code != 403:
        return False
    body = response.content.decode("utf-8", "replace")
    with translation.override(response.get("Content-Language") or "en"):
        return translation.gettext(CSRF_MESSAGE) in body


def actors(route: Route, tenant: Tenant) -> list[User | None]:
    """Who may POST to a route: None is an anonymous visitor. Third-party (allauth) routes
    are tried anonymously and as a teacher."""
    if route.audience is None or route.audience & {PUBLIC, AUTHENTICATED}:
        return [None, tenant.teacher]
    return [user for user in tenant.users() if user.role in route.audience]


def who(actor: User | None) -> str:
    return "anonymous" if actor is None else str(actor.role)


@contextmanager
def rolled_back() -> Iterator[None]:
    """What a request with a valid token changed (logout everywhere, a new password...) is undone."""
    cache.clear()
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def api_methods(path: str) -> set[str]:
    """The HTTP methods the API operations behind a URL accept (django-ninja keeps them in its view)."""
    callback = resolve(path).func
    for cell in getattr(callback, "__closure__", None) or ():
        if hasattr(cell.cell_contents, "operations"):
            return {method for op in cell.cell_contents.operations for method in op.methods}
    return set()


def test_every_post_without_the_token_is_refused_and_with_it_is_not(tenant_a: Tenant) -> None:
    problems: list[str] = []
    walked = set()
    for route in all_routes():
        if route.template.startswith("api/"):
            continue  # the API checks CSRF itself: see the API tests below
        path = route.path(_values(route, tenant_a))
        walked.add(path)
        for actor in actors(route, tenant_a):
            with rolled_back():
                client = csrf_client(actor)
                refused = client.post(path, FIELDS)
                where = f"POST {path} as {who(actor)}"
                if not is_csrf_refusal(refused):
                    problems.append(f"{where} without a CSRF token -> {refused.status_code}, not refused")
                # With the CSRF cookie but no token, or a token that does not match it: no better.
                token = token_of(client)
                missing = client.post(path, FIELDS)
                if not is_csrf_refusal(missing):
                    problems.append(f"{where} with the cookie but no token -> {missing.status_code}, not refused")
                forged = client.post(path, FIELDS | {"csrfmiddlewaretoken": "x" * 64})
                if not is_csrf_refusal(forged):
                    problems.append(f"{where} with a forged token -> {forged.status_code}, not refused")
                accepted = client.post(path, FIELDS | {"csrfmiddlewaretoken": token})
                if is_csrf_refusal(accepted):
                    problems.append(f"{where} with a valid token was refused for CSRF")
                if accepted.status_code >= 500:
                    problems.append(f"{where} with a valid token -> {accepted.status_code}")
    for named in ("/accounts/login/", "/login/student/", "/login/card/", "/settings/language/"):
        assert named in walked, f"{named} was not walked"
    assert "/settings/logout-everywhere/" in walked
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    "path",
    ["/accounts/login/", "/login/student/", "/login/card/", "/settings/language/", "/accounts/logout/"],
)
def test_login_and_language_forms_need_the_token(db: None, path: str) -> None:
    response = csrf_client(None).post(path, {"login": "x", "password": "y", "token": "z" * 20, "language": "ja"})
    assert response.status_code == 403
    assert is_csrf_refusal(response)


def test_logout_everywhere_needs_the_token(tenant_a: Tenant) -> None:
    client = csrf_client(tenant_a.teacher)
    epoch = tenant_a.teacher.session_epoch
    assert client.post("/settings/logout-everywhere/").status_code == 403
    tenant_a.teacher.refresh_from_db()
    assert tenant_a.teacher.session_epoch == epoch, "the refused request still logged the teacher out"
    assert client.get("/home/").status_code == 200, "the teacher is still signed in"


def test_the_student_login_works_with_the_token(tenant_a: Tenant) -> None:
    client = csrf_client(None)
    page = client.get("/login/student/")
    assert page.status_code == 200
    assert client.cookies.get("csrftoken"), "the login page sets the CSRF cookie"
    token = TOKEN_FIELD.search(page.content.decode())
    assert token
    credentials = {
        "csrfmiddlewaretoken": token.group(1),
        "school_code": tenant_a.school.code,
        "student_number": tenant_a.student.student_number,
    }
    wrong = client.post("/login/student/", credentials | {"password": "not-the-password"})
    assert wrong.status_code == 400
    assert "The school code, student ID or password is not right." in wrong.content.decode()
    right = client.post("/login/student/", credentials | {"password": PASSWORD})
    assert right.status_code == 302
    assert right["Location"] == "/home/"
    assert client.get("/home/").status_code == 200


def test_the_token_may_come_in_the_header(tenant_a: Tenant) -> None:
    """What app.js-style requests (and the API) send: the cookie's token in X-CSRFToken."""
    client = csrf_client(tenant_a.teacher)
    token = token_of(client)
    response = client.post("/settings/language/", {"language": "en", "next": "/settings/"}, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 302
    tenant_a.teacher.refresh_from_db()
    assert tenant_a.teacher.language == "en"


def test_api_requests_that_change_something_need_the_csrf_header(tenant_a: Tenant) -> None:
    """Session-authenticated API calls with an unsafe method and no X-CSRFToken are refused.
    An API URL without such an operation answers 405; one with it must answer 403."""
    problems: list[str] = []
    api_routes = [route for route in all_routes() if route.template.startswith("api/") and route.audience]
    assert api_routes, "no API route found"
    for route in api_routes:
        path = route.path(_values(route, tenant_a))
        declared = api_methods(path)
        for actor in (tenant_a.teacher, tenant_a.school_admin):
            client = csrf_client(actor)
            for method in UNSAFE_METHODS:
                with rolled_back():
                    response = client.generic(method, path, '{"name": "x"}', content_type="application/json")
                where = f"{method} {path} as {who(actor)} without X-CSRFToken"
                if method in declared and response.status_code not in {401, 403}:
                    problems.append(f"{where} -> {response.status_code}, not refused")
                if method not in declared and response.status_code not in {403, 405}:
                    problems.append(f"{where} -> {response.status_code}, expected 405")
                if response.status_code < 400 or response.status_code >= 500:
                    problems.append(f"{where} -> {response.status_code}")
    assert not problems, "\n".join(problems)
