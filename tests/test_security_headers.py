"""Every response carries the browser's security headers, and no page needs a weaker policy.

Promise: whatever classnote answers — a page, a redirect, an error page (400, 403, 404, 500),
a static file or JSON from the API — it carries
  * a Content-Security-Policy whose script-src allows neither 'unsafe-inline' nor
    'unsafe-eval', with frame-ancestors 'none';
  * X-Frame-Options: DENY, X-Content-Type-Options: nosniff, a Referrer-Policy,
    a Permissions-Policy and a Cross-Origin-Opener-Policy;
and pages of signed-in users are never cached (Cache-Control: no-store). The HTML keeps to
that policy: no inline script code, no inline event handlers (onclick=...), no style=
attributes. Error pages show no internals: a view that crashes gets the product's own
"Something went wrong" page, without the exception's message or a traceback.

The test walks every URL pattern (``all_routes()`` of tests/test_isolation.py), so a new page
is covered without editing this file.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import path
from django.utils import translation

from classnote import urls as project_urls
from classnote.accounts.models import User
from tests.conftest import PASSWORD, Tenant, login_as, read_body
from tests.test_isolation import _values, all_routes

# --- A tiny URLconf for the crash test: the project's URLs plus one view that fails. --------------

SECRET_DETAIL = "secret-internal-detail"


def _crash(request: HttpRequest) -> HttpResponse:
    raise RuntimeError(SECRET_DETAIL)


urlpatterns = [path("crash-for-test/", _crash), path("api/crash-for-test", _crash), *project_urls.urlpatterns]
handler400 = project_urls.handler400
handler403 = project_urls.handler403
handler404 = project_urls.handler404
handler500 = project_urls.handler500

# --- Checks ---------------------------------------------------------------------------------------

REFERRER_POLICIES = {"no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"}
# <script type=...> blocks that hold data, not code: browsers never run them.
DATA_SCRIPT_TYPES = {"application/json", "application/ld+json"}


def csp_directives(value: str) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in value.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    return directives


def header_problems(response: Any, where: str) -> list[str]:
    problems = []
    where = f"{where} -> {response.status_code}"
    csp = response.get("Content-Security-Policy", "")
    if not csp:
        problems.append(f"{where}: no Content-Security-Policy")
    else:
        directives = csp_directives(csp)
        script_src = directives.get("script-src", directives.get("default-src"))
        if script_src is None:
            problems.append(f"{where}: CSP restricts no scripts (no script-src or default-src)")
        else:
            weak = {"'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:", "https:"} & set(script_src)
            if weak:
                problems.append(f"{where}: CSP script-src allows {sorted(weak)}")
        if directives.get("frame-ancestors") != ["'none'"]:
            problems.append(f"{where}: CSP frame-ancestors is {directives.get('frame-ancestors')}, not 'none'")
    expected = {"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff"}
    for header, value in expected.items():
        if response.get(header, "").upper() != value.upper():
            problems.append(f"{where}: {header} is {response.get(header)!r}, not {value!r}")
    if response.get("Referrer-Policy", "") not in REFERRER_POLICIES:
        problems.append(f"{where}: Referrer-Policy is {response.get('Referrer-Policy')!r}")
    if not response.get("Permissions-Policy"):
        problems.append(f"{where}: no Permissions-Policy")
    if response.get("Cross-Origin-Opener-Policy") != "same-origin":
        problems.append(f"{where}: Cross-Origin-Opener-Policy is {response.get('Cross-Origin-Opener-Policy')!r}")
    return problems


class InlineCodeFinder(HTMLParser):
    """Finds what a strict CSP blocks: inline script code, on* handlers, style= attributes,
    javascript: URLs and <style> elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._script: list[str] | None = None
        self._script_tag = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...> (inline event handler)")
            elif name == "style":
                self.found.append(f"<{tag} style={value!r}> (inline style)")
            elif name in ("href", "src", "action", "formaction") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.found.append(f"<{tag} {name}={value!r}> (javascript: URL)")
        a = dict(attrs)
        if tag == "script" and (a.get("type") or "").lower() not in DATA_SCRIPT_TYPES:
            self._script, self._script_tag = [], self.get_starttag_text() or tag
        if tag == "style":
            self.found.append("<style> element (inline style)")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            code = "".join(self._script).strip()
            if code:
                self.found.append(f"{self._script_tag} with inline code {code[:60]!r}")
            self._script = None

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._script.append(data)


def html_problems(response: Any, where: str) -> list[str]:
    if not response.get("Content-Type", "").startswith("text/html"):
        return []
    finder = InlineCodeFinder()
    finder.feed(response.content.decode("utf-8", "replace"))
    finder.close()
    return [f"{where} -> {response.status_code}: {what}" for what in finder.found]


def cache_problems(response: Any, where: str) -> list[str]:
    cache_control = response.get("Cache-Control", "")
    if "no-store" not in cache_control:
        return [f"{where} -> {response.status_code}: signed in, but Cache-Control is {cache_control!r}"]
    return []


def get(client: Client, url: str) -> Any:
    response = client.get(url)
    read_body(response)  # static files: read so the test does not leak file handles
    return response


# --- Tests ------------------------------------------------------------------------------------------


def test_every_route_carries_the_security_headers_and_keeps_to_the_csp(tenant_a: Tenant) -> None:
    problems: list[str] = []
    routes = all_routes()
    for actor in (None, tenant_a.teacher):
        for route in routes:
            if route.streaming and actor is not None:
                continue  # never ends; tests/live/test_realtime.py checks its headers
            url = route.path(_values(route, tenant_a))
            client = Client(raise_request_exception=False)
            if actor is not None:
                login_as(client, actor)
            response = get(client, url)
            where = f"GET {url} as {'anonymous' if actor is None else actor.role}"
            if response.status_code >= 500:
                problems.append(f"{where} -> {response.status_code}: server error")
            problems += header_problems(response, where)
            problems += html_problems(response, where)
            if actor is not None:
                problems += cache_problems(response, where)
    assert not problems, "\n".join(problems)


def test_pages_of_every_role_keep_to_the_csp_and_are_not_cached(tenant_a: Tenant) -> None:
    """The admins see more than a teacher (forms, rosters): their pages are checked, too."""
    problems: list[str] = []
    for actor in tenant_a.users():
        client = login_as(Client(raise_request_exception=False), actor)
        for route in all_routes():
            if route.audience is None or route.template.startswith("api/") or route.streaming:
                continue
            url = route.path(_values(route, tenant_a))
            response = get(client, url)
            where = f"GET {url} as {actor.role}"
            problems += header_problems(response, where)
            problems += html_problems(response, where)
            problems += cache_problems(response, where)
    assert not problems, "\n".join(problems)


def test_account_pages_after_a_real_staff_login_keep_to_the_csp(tenant_a: Tenant) -> None:
    """force_login() skips allauth's records of a fresh login, so pages that need one (setting up
    an authenticator app or a passkey) redirect; here the teacher logs in through the form."""
    client = Client(raise_request_exception=False)
    login = client.post("/accounts/login/", {"login": tenant_a.teacher.username, "password": PASSWORD})
    assert login.status_code == 302
    problems: list[str] = []
    rendered = 0
    for route in all_routes():
        if not route.template.startswith("accounts/"):
            continue
        url = route.path(_values(route, tenant_a))
        response = get(client, url)
        rendered += response.status_code == 200
        where = f"GET {url} as a freshly logged-in teacher"
        problems += header_problems(response, where)
        problems += html_problems(response, where)
        problems += cache_problems(response, where)
    totp = get(client, "/accounts/2fa/totp/activate/")
    assert totp.status_code == 200, "the authenticator-app setup page was not reached"
    assert rendered > 10
    assert not problems, "\n".join(problems)


def test_error_pages_carry_the_headers(tenant_a: Tenant) -> None:
    anonymous = Client()
    teacher = login_as(Client(), tenant_a.teacher)
    cases = [
        ("404 anonymous", anonymous.get("/no-such-page/"), 404),
        ("404 signed in", teacher.get("/no-such-page/"), 404),
        ("404 of a missing object", teacher.get("/classes/99999999/"), 404),
        ("403 signed in", teacher.get(f"/schools/{tenant_a.school.pk}/"), 403),
        ("405", anonymous.get("/settings/language/"), 405),
        ("redirect to the URL with a slash", anonymous.get("/adopters"), 301),
        (
            "400 (broken multipart)",
            anonymous.generic(
                "POST", "/login/student/", b"--x\r\nbroken", content_type="multipart/form-data; boundary=x"
            ),
            400,
        ),
    ]
    problems: list[str] = []
    for label, response, status in cases:
        assert response.status_code == status, label
        problems += header_problems(response, label)
        problems += html_problems(response, label)
        body = response.content.decode()
        assert "Traceback" not in body and "django" not in body.lower(), label
    problems += cache_problems(cases[1][1], "404 signed in")
    problems += cache_problems(cases[3][1], "403 signed in")
    assert not problems, "\n".join(problems)


def test_static_files_carry_the_headers(db: None) -> None:
    response = get(Client(), "/static/classnote/app.css")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")
    problems = header_problems(response, "GET /static/classnote/app.css")
    assert not problems, "\n".join(problems)


def test_api_json_responses_carry_the_headers(tenant_a: Tenant) -> None:
    teacher = login_as(Client(), tenant_a.teacher)
    cases = [
        ("me", teacher.get("/api/me"), 200),
        ("classes", teacher.get("/api/classes"), 200),
        ("missing class", teacher.get("/api/classes/99999999"), 404),
        ("invalid id", teacher.get("/api/classes/abc"), 422),
        ("anonymous", Client().get("/api/me"), 401),
    ]
    problems: list[str] = []
    for label, response, status in cases:
        assert response.status_code == status, label
        assert response["Content-Type"].startswith("application/json"), label
        problems += header_problems(response, f"API {label}")
        if label != "anonymous":
            problems += cache_problems(response, f"API {label}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "teacher"])
@override_settings(ROOT_URLCONF=__name__)
def test_a_crash_shows_the_products_error_page_and_no_internals(tenant_a: Tenant, signed_in: bool) -> None:
    client = Client(raise_request_exception=False)
    if signed_in:
        login_as(client, tenant_a.teacher)
    response = client.get("/crash-for-test/")
    assert response.status_code == 500
    body = response.content.decode()
    assert SECRET_DETAIL not in body
    assert "Traceback" not in body and "RuntimeError" not in body
    with translation.override(response["Content-Language"]):
        heading = translation.gettext("Something went wrong")
    assert f"<h1>{heading}</h1>" in body  # errors/500.html, not Django's bare default
    assert 'href="/static/classnote/app.css"' in body
    problems = header_problems(response, "500") + html_problems(response, "500")
    if signed_in:
        problems += cache_problems(response, "500 signed in")
    assert not problems, "\n".join(problems)


@override_settings(ROOT_URLCONF=__name__)
def test_a_crash_in_the_api_answers_json_without_internals(tenant_a: Tenant) -> None:
    client = login_as(Client(raise_request_exception=False), tenant_a.teacher)
    response = client.get("/api/crash-for-test")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/json")
    assert SECRET_DETAIL not in response.content.decode()
    assert response.json()["detail"]
    problems = header_problems(response, "API 500") + cache_problems(response, "API 500")
    assert not problems, "\n".join(problems)


def test_the_checks_catch_what_they_claim(db: None) -> None:
    """The HTML and header checks themselves, on made-up responses."""
    bad = HttpResponse(
        '<p style="color:red" onclick="x()">a</p><script>alert(1)</script><script src="/s.js"></script>'
        '<script type="application/json">{"a": 1}</script><a href="javascript:x()">b</a><style>p{}</style>',
        content_type="text/html",
    )
    found = html_problems(bad, "made up")
    assert len(found) == 5, found
    bad["Content-Security-Policy"] = "default-src 'self'; script-src 'self' 'unsafe-inline'"
    assert any("unsafe-inline" in p for p in header_problems(bad, "made up"))
    assert any("frame-ancestors" in p for p in header_problems(bad, "made up"))
    assert User.objects.count() == 0
