"""IPA checklist 9 — clickjacking.

Promise: no page of classnote can be shown in a frame of another site (or of its own): every
response — pages, redirects, form answers, refusals (400, 403, 404, 405, 429), the event stream,
file downloads, static files and JSON — carries `X-Frame-Options: DENY` and a
Content-Security-Policy with `frame-ancestors 'none'`, for anonymous visitors and every role,
for GET and POST. No page is meant to be framed, so there is no exemption: a static check finds
no `xframe_options_exempt`/`_sameorigin`, no CSP override and no other X_FRAME_OPTIONS.
(tests/test_security_headers.py checks the rest of the headers on GET pages.)
"""

from __future__ import annotations

import ast
import re
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.test import Client

from classnote.accounts.models import User
from tests.conftest import Tenant, login_as, read_body
from tests.files import samples
from tests.security.static import python_files, resolved_calls
from tests.test_isolation import _values, all_routes


def framing_problems(response: Any, where: str) -> list[str]:
    problems = []
    if response.get("X-Frame-Options", "").upper() != "DENY":
        problems.append(f"{where} -> {response.status_code}: X-Frame-Options {response.get('X-Frame-Options')!r}")
    policies = [value for name, value in response.items() if name.lower() == "content-security-policy"]
    ancestors = []
    for policy in policies:
        for directive in policy.split(";"):
            words = directive.split()
            if words and words[0].lower() == "frame-ancestors":
                ancestors.append(words[1:])
    if ancestors != [["'none'"]]:
        problems.append(f"{where} -> {response.status_code}: frame-ancestors {ancestors}")
    return problems


def test_every_response_of_every_route_refuses_to_be_framed(tenant_a: Tenant, officer: User, operator: User) -> None:
    problems: list[str] = []
    actors: list[User | None] = [None, *tenant_a.users(), officer, operator]
    # Event streams (text/event-stream) are not documents a browser frames; opened through the
    # synchronous test client on PostgreSQL they hand the test's connection back to the pool.
    routes = [(route, route.path(_values(route, tenant_a))) for route in all_routes() if not route.streaming]
    statuses: set[int] = set()
    for actor in actors:
        for _route, url in routes:
            for method in ("GET", "POST"):
                client = Client(raise_request_exception=False)
                if actor is not None:
                    login_as(client, actor)
                response = client.get(url) if method == "GET" else client.post(url, {"name": "x"})
                read_body(response)
                statuses.add(response.status_code)
                who = actor.role if actor else "anonymous"
                problems += framing_problems(response, f"{method} {url} as {who}")
    assert not problems, "\n".join(problems)
    # The walk met pages, redirects and refusals, so the check covered each kind of answer.
    assert {200, 302, 403, 404, 405} <= statuses, sorted(statuses)


def test_downloads_throttled_answers_and_static_files_refuse_to_be_framed(tenant_a: Tenant) -> None:
    pupil = login_as(Client(), tenant_a.student)
    upload = pupil.post("/files/", {"file": samples.upload("a.png", samples.png(), "image/png")})
    file_id = upload.json()["id"]
    responses = {
        "download": pupil.get(f"/files/{file_id}/"),
        "inline image": pupil.get(f"/files/{file_id}/?inline=1"),
        "thumbnail": pupil.get(f"/files/{file_id}/thumbnail/"),
        "card image": pupil.get(f"/cards/{tenant_a.card.pk}/image/"),
        "static file": Client().get("/static/classnote/app.css"),
        "API JSON": pupil.get("/api/me"),
        "API error": pupil.get("/api/classes/999999"),
    }
    cache.clear()
    for _ in range(61):
        throttled = Client().post("/login/card/", {"token": "x" * 32})
    responses["429 (throttled QR login)"] = throttled
    problems = []
    for label, response in responses.items():
        read_body(response)
        problems += framing_problems(response, label)
    assert responses["429 (throttled QR login)"].status_code == 429
    assert not problems, "\n".join(problems)


def test_no_page_is_exempt_from_the_framing_rules() -> None:
    assert settings.X_FRAME_OPTIONS == "DENY"
    assert settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["frame-ancestors"] == ["'none'"]
    assert "django.middleware.clickjacking.XFrameOptionsMiddleware" in settings.MIDDLEWARE
    exemptions = (
        "xframe_options_exempt",
        "xframe_options_sameorigin",
        "xframe_options_deny",
        "csp_exempt",
        "csp_replace",
        "csp_update",
    )
    found = []
    for path, tree in python_files():
        for call, name in resolved_calls(tree):
            if name.rsplit(".", 1)[-1] in exemptions:
                found.append(f"src/classnote/{path}:{call.lineno}: {name}")
        for node in ast.walk(tree):
            for decorator in getattr(node, "decorator_list", []):
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                name = getattr(target, "id", None) or getattr(target, "attr", None)
                if name in exemptions:
                    found.append(f"src/classnote/{path}:{decorator.lineno}: @{name}")
            # A view setting its own X-Frame-Options or frame-ancestors (response["..."] = ...).
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                lowered = node.value.lower()
                if re.search(r"frame-ancestors\s+(?!'none')", lowered):
                    found.append(f"src/classnote/{path}:{node.lineno}: frame-ancestors {node.value!r}")
                if lowered in ("sameorigin", "allow-from"):
                    found.append(f"src/classnote/{path}:{node.lineno}: {node.value!r}")
    assert not found, "A page may be framed:\n" + "\n".join(found)
