"""Who may call each route, held outside the code: tests/security/expected_routes.toml.

The ``@audience`` marks (classnote.tenancy.access.audience) both enforce and declare who may call a
view, and the isolation and access-control tests (tests/test_isolation.py,
tests/security/test_access_control.py) take the expected roles from those same marks: widen a mark
and those tests widen with it. This module holds the marks to a table kept apart from the code and
reviewed like a ledger:

* every route of the URL tree (web pages, each API operation by method, third-party pages) is in
  the ledger with the same roles as its mark, and the ledger names no route that is gone;
* the ledger is exercised: every role it leaves out of a route (and an anonymous visitor) calls the
  route, with the caller's own tenant's ids and a valid CSRF token, and is refused (403, 404, 405,
  or the login page).

A failure here is a change of who may see what. Update the ledger only after review (SECURITY.md:
the change needs a second pair of eyes), never to make the test pass.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from classnote.accounts.models import User
from classnote.tenancy.access import AUTHENTICATED, PUBLIC
from tests.conftest import Tenant
from tests.security.test_access_control import ROLES, csrf_ready, people
from tests.test_isolation import Route, _values, all_routes

LEDGER = Path(__file__).with_name("expected_routes.toml")
# Views we did not write (allauth's account pages, ninja's schema): no mark of ours, listed so a new
# one (a library upgrade, a new allauth feature switched on) needs review too.
THIRD_PARTY = "third-party"
KNOWN_ROLES = {str(role) for role in ROLES} | {PUBLIC, AUTHENTICATED, THIRD_PARTY}
WEB_REFUSALS = {403, 404, 405}
API_REFUSALS = {401, 403, 404}


def _ninja_operations(callback: Any) -> list[Any]:
    for cell in getattr(callback, "__closure__", None) or ():
        operations = getattr(cell.cell_contents, "operations", None)
        if operations is not None:
            return list(operations)
    return []


def _callbacks(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(template, callback) of every path() route, templates spelled as tests/test_isolation.py does."""
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _callbacks(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def api_marks() -> dict[str, frozenset[str]]:
    """ "METHOD api/template" -> the audience of that operation (an API URL serves several methods)."""
    marks: dict[str, frozenset[str]] = {}
    for template, callback in _callbacks(get_resolver().url_patterns):
        for operation in _ninja_operations(callback):
            audience = getattr(operation.view_func, "classnote_audience", None)
            for method in operation.methods:
                marks[f"{method} {template}"] = frozenset(str(r) for r in audience) if audience else frozenset()
    return marks


def marks_in_code() -> dict[str, frozenset[str]]:
    """Every route's key in the ledger, with the roles the code allows."""
    marks: dict[str, frozenset[str]] = {}
    api = api_marks()
    for route in all_routes():
        if route.audience is not None and route.module.startswith("ninja"):
            continue  # by operation, below
        roles = route.audience if route.audience is not None else {THIRD_PARTY}
        marks[route.template] = frozenset(str(r) for r in roles)
    marks.update(api)
    return marks


def read_ledger() -> dict[str, frozenset[str]]:
    data = tomllib.loads(LEDGER.read_text(encoding="utf-8"))
    ledger: dict[str, frozenset[str]] = {}
    for section in ("web", "api"):
        for key, roles in data[section].items():
            assert isinstance(roles, list) and roles, f"{LEDGER.name}: {key!r} needs a non-empty list of roles"
            unknown = set(roles) - KNOWN_ROLES
            assert not unknown, f"{LEDGER.name}: {key!r} names unknown roles {sorted(unknown)}"
            ledger[key] = frozenset(roles)
    return ledger


def _line(key: str, roles: frozenset[str]) -> str:
    return f"{json.dumps(key)} = {json.dumps(sorted(roles))}"


def test_the_ledger_matches_every_audience_mark_in_the_code(db: None) -> None:
    code, ledger = marks_in_code(), read_ledger()
    problems = []
    for key in sorted(code.keys() - ledger.keys()):
        problems.append(
            f"not in the ledger: {key!r} (the code allows {sorted(code[key])}); "
            f"after review add  {_line(key, code[key])}"
        )
    for key in sorted(ledger.keys() - code.keys()):
        problems.append(f"in the ledger but no such route: {key!r}; after review remove it")
    for key in sorted(code.keys() & ledger.keys()):
        if code[key] != ledger[key]:
            wider, narrower = sorted(code[key] - ledger[key]), sorted(ledger[key] - code[key])
            problems.append(
                f"{key!r}: the code allows {sorted(code[key])}, the ledger {sorted(ledger[key])} "
                f"(the code adds {wider}, drops {narrower}); if the change was reviewed, write {_line(key, code[key])}"
            )
    assert not problems, (
        "The @audience marks differ from tests/security/expected_routes.toml."
        " Who may call a route changed: have the change reviewed, then update the ledger.\n" + "\n".join(problems)
    )


def test_the_ledger_covers_every_kind_of_route(db: None) -> None:
    """The walk sees our pages, the API by method, and the third-party pages."""
    ledger = read_ledger()
    assert ledger["audit/"] == {"school_admin", "municipal_admin"}
    assert "GET api/classes/<class_id>/members" in ledger
    assert ledger["accounts/login/"] == {THIRD_PARTY}
    assert len(ledger) > 100


def _route_for(template: str, routes: dict[str, Route]) -> Route:
    route = routes.get(template)
    assert route is not None, f"{template!r} is in the ledger but not in the URL tree"
    return route


def _is_login_redirect(response: Any) -> bool:
    return response.status_code == 302 and "/accounts/login/" in response.get("Location", "")


def test_every_role_the_ledger_leaves_out_is_refused(tenant_a: Tenant, officer: User, operator: User) -> None:
    """Each route is called by every role the ledger does not list (and anonymously, for routes that
    are not public), as the isolation test calls them, but with the caller's own tenant's objects:
    the role check, not the tenant check, must refuse."""
    ledger = read_ledger()
    routes = {route.template: route for route in all_routes()}
    actors = people(tenant_a, officer, operator)
    clients = {str(role): csrf_ready(actor) for role, actor in actors.items()}
    problems = []
    checked = 0
    for key, allowed in sorted(ledger.items()):
        if THIRD_PARTY in allowed or PUBLIC in allowed:
            continue
        method, _, template = key.partition(" ") if " " in key else ("", "", key)
        route = _route_for(template, routes)
        path = route.path(_values(route, tenant_a))
        methods = [method] if method else ["GET", "POST"]
        refused_roles = [] if AUTHENTICATED in allowed else [str(r) for r in ROLES if str(r) not in allowed]
        for verb in methods:
            # Anonymous visitors: the login page (pages) or 401/403 (API).
            response = Client().generic(verb, path)
            if not (_is_login_redirect(response) or response.status_code in {401, 403, 405}):
                problems.append(f"{verb} {path} anonymously -> {response.status_code}")
            for role in refused_roles:
                client, token = clients[role]
                if method:  # an API operation
                    body = json.dumps({"title": "x", "name": "x", "kind": "text", "card_ids": [1], "to": "class"})
                    response = client.generic(verb, path, body, content_type="application/json", HTTP_X_CSRFTOKEN=token)
                    ok = response.status_code in API_REFUSALS
                elif verb == "GET":
                    response = client.get(path)
                    ok = response.status_code in WEB_REFUSALS
                else:
                    response = client.post(path, {"csrfmiddlewaretoken": token, "name": "x", "form": "class"})
                    ok = response.status_code in WEB_REFUSALS
                checked += 1
                if not ok:
                    problems.append(
                        f"{verb} {path} as {role} (not in the ledger for {key!r}) -> {response.status_code}"
                    )
    assert checked > 300
    assert not problems, "Roles the ledger leaves out were let in:\n" + "\n".join(problems)


def test_a_key_of_the_ledger_names_a_method_only_for_the_api() -> None:
    keys = read_ledger().keys()
    for key in keys:
        if " " in key:
            method, template = key.split(" ", 1)
            assert re.fullmatch(r"GET|POST|PUT|PATCH|DELETE", method) and template.startswith("api/"), key
        else:
            assert not key.startswith("api/") or key in {"api/", "api/docs", "api/openapi.json"}, key
