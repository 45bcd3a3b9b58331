"""IPA checklist 7 — HTTP header injection (response splitting) and open redirects.

Promise: nothing a visitor sends ends up in a response header as anything but a harmless,
single-line value:
  * redirect targets (`next` of the language switch, of new cards, of the login and logout pages,
    and the login redirect of a protected page) with CR/LF, encoded CR/LF, NUL, other sites or
    scheme tricks (`//evil`, `/\\evil`, `javascript:`) lead to a path of this site, never to another
    host, and add no header or cookie;
  * file names (also ones stored before names were cleaned) reach Content-Disposition only as an
    ASCII fallback without quotes or line breaks and a percent-encoded `filename*`;
  * the language cookie, the language form and Accept-Language never put their value into
    Content-Language or a cookie unless it is one of the supported languages;
  * X-Request-ID from a client is ignored unless a trusted proxy is configured, and even then only
    a short id of letters, digits, `.`, `_` and `-` is echoed;
  * a foreign Host header is refused (so links the service builds, like the QR login URL, always
    name this site), and X-Forwarded-Host is not believed.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client, override_settings

from classnote.files.models import StoredFile
from tests.conftest import PASSWORD, Tenant, login_as, read_body
from tests.test_isolation import _values, all_routes

CONTROL = re.compile(r"[\x00-\x1f\x7f]")
HOSTILE_NEXT = [
    "/home/\r\nSet-Cookie: injected=1",
    "/home/\nX-Injected: 1",
    "/home/%0d%0aSet-Cookie:%20injected=1",
    "/home/%0D%0AX-Injected:%201",
    "/\r\nLocation: https://evil.example/",
    "/home/\x00",
    "//evil.example/",
    "///evil.example/",
    "https://evil.example/",
    "http:/evil.example/",
    "/\\evil.example/",
    "\\\\evil.example/",
    "/\t/evil.example/",
    " //evil.example/",
    "/%2f%2fevil.example/",
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "https://testserver.evil.example/",
    "/" + "x" * 5000,
]


def header_problems(response: Any, where: str) -> list[str]:
    problems = []
    if response.status_code >= 500:
        problems.append(f"{where}: {response.status_code}")
    for name, value in response.items():
        if CONTROL.search(name) or CONTROL.search(value):
            problems.append(f"{where}: header {name!r} carries a control character: {value[:100]!r}")
        if name.lower().startswith("x-injected"):
            problems.append(f"{where}: an injected header {name}")
    for name in response.cookies:
        if "injected" in name.lower() or "injected" in response.cookies[name].value.lower():
            problems.append(f"{where}: an injected cookie {name}")
    location = response.get("Location", "")
    if location:
        target = urlsplit(location)
        if target.netloc not in ("", "testserver") or target.scheme not in ("", "http", "https"):
            problems.append(f"{where}: redirects to another site: {location[:100]!r}")
        if location.startswith(("//", "/\\", "\\")):
            problems.append(f"{where}: redirects to a scheme-relative URL {location[:100]!r}")
    return problems


def test_redirect_targets_never_lead_off_the_site_or_add_headers(tenant_a: Tenant) -> None:
    problems = []
    for target in HOSTILE_NEXT:
        anonymous = Client(raise_request_exception=False)
        response = anonymous.post("/settings/language/", {"language": "en", "next": target})
        problems += header_problems(response, f"language switch next={target[:40]!r}")
        assert response.status_code == 302
        response = anonymous.get(f"/accounts/login/?next={quote(target, safe='')}")
        problems += header_problems(response, f"login page next={target[:40]!r}")
        login = anonymous.post(
            f"/accounts/login/?next={quote(target, safe='')}",
            {"login": tenant_a.teacher.username, "password": PASSWORD, "next": target},
        )
        problems += header_problems(login, f"login next={target[:40]!r}")
        teacher = login_as(Client(raise_request_exception=False), tenant_a.teacher)
        card = teacher.post("/cards/", {"kind": "link", "link_url": "not a link", "next": target})
        problems += header_problems(card, f"new card next={target[:40]!r}")
        logout = teacher.post("/accounts/logout/", {"next": target})
        problems += header_problems(logout, f"logout next={target[:40]!r}")
        protected = Client(raise_request_exception=False).get(f"/home/?x={quote(target, safe='')}")
        problems += header_problems(protected, f"login redirect with x={target[:40]!r}")
    assert not problems, "\n".join(problems)


def test_a_safe_next_is_followed(tenant_a: Tenant) -> None:
    """The checks above must not pass by ignoring every next: a path of the site is kept."""
    response = Client().post("/settings/language/", {"language": "en", "next": "/adopters/"})
    assert response["Location"] == "/adopters/"
    login = Client().post(
        "/accounts/login/?next=/settings/", {"login": tenant_a.teacher.username, "password": PASSWORD}
    )
    assert login["Location"] == "/settings/"


LEGACY_NAMES = [
    "report.pdf\r\nSet-Cookie: injected=1",
    'x.pdf"; filename="evil.exe',
    "a.pdf\r\n\r\n<html>body</html>",
    "a;b=c.pdf",
    "日本語\n.pdf",
    "x.pdf\x00.exe",
]


def test_file_names_reach_content_disposition_as_one_harmless_line(tenant_a: Tenant) -> None:
    pupil = login_as(Client(raise_request_exception=False), tenant_a.student)
    problems = []
    from tests.security.test_path_traversal import storable

    for number, name in enumerate(storable(LEGACY_NAMES)):
        key = default_storage.save(f"files/{tenant_a.school.pk}/header{number:026d}", ContentFile(b"%PDF-1.4"))
        stored = StoredFile.objects.create(
            school=tenant_a.school,
            owner=tenant_a.student,
            kind="pdf",
            name=name,
            content_type="application/pdf",
            size=8,
            sha256="0" * 64,
            storage_key=key,
        )
        for url in (f"/files/{stored.pk}/", f"/files/{stored.pk}/?inline=1"):
            response = pupil.get(url)
            read_body(response)
            problems += header_problems(response, f"GET {url} of {name!r}")
            disposition = response["Content-Disposition"]
            match = re.fullmatch(
                r"attachment; filename=\"([A-Za-z0-9._ ()-]+)\"; filename\*=UTF-8''([A-Za-z0-9%._~-]+)", disposition
            )
            if not match:
                problems.append(f"{name!r}: Content-Disposition is {disposition!r}")
    assert not problems, "\n".join(problems)


def test_language_values_never_reach_a_header_unless_supported(db: None) -> None:
    supported = {code for code, _name in settings.LANGUAGES}
    hostile = ["ja\r\nSet-Cookie: injected=1", "ja%0d%0aX-Injected:%201", "en\x00", "<script>", "x" * 300]
    problems = []
    for value in hostile:
        client = Client(raise_request_exception=False)
        response = client.post("/settings/language/", {"language": value, "next": "/"})
        problems += header_problems(response, f"language form {value[:30]!r}")
        if settings.LANGUAGE_COOKIE_NAME in response.cookies:
            cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME].value
            problems.append(f"language form {value[:30]!r}: set the cookie to {cookie!r}")
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = value
        page = client.get("/", HTTP_ACCEPT_LANGUAGE=value)
        problems += header_problems(page, f"language cookie and Accept-Language {value[:30]!r}")
        if page["Content-Language"] not in supported:
            problems.append(f"{value[:30]!r}: Content-Language {page['Content-Language']!r}")
    assert not problems, "\n".join(problems)


HOSTILE_REQUEST_IDS = [
    "abc12345\r\nSet-Cookie: injected=1",
    "abc12345%0d%0aX-Injected:1",
    "<script>alert(1)</script>",
    "id with spaces 123",
    "x" * 200,
    "short",
    "ünïcödé-12345678",
]


@pytest.mark.parametrize("trusted_proxies", [0, 1])
def test_a_request_id_from_the_client_is_echoed_only_when_trusted_and_well_formed(
    db: None, trusted_proxies: int
) -> None:
    with override_settings(ALLAUTH_TRUSTED_PROXY_COUNT=trusted_proxies):
        for value in HOSTILE_REQUEST_IDS:
            response = Client(raise_request_exception=False).get("/healthz", HTTP_X_REQUEST_ID=value)
            assert not header_problems(response, value)
            assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"]), (value, response["X-Request-ID"])
        good = "proxy-req-1234.abcd_EF"
        echoed = Client().get("/healthz", HTTP_X_REQUEST_ID=good)["X-Request-ID"]
        assert (echoed == good) == bool(trusted_proxies), echoed


def test_a_foreign_host_header_is_refused_and_forwarded_host_is_ignored(tenant_a: Tenant) -> None:
    for host in ("evil.example", "testserver\r\nX-Injected: 1", "testserver.evil.example"):
        response = Client(raise_request_exception=False).get("/accounts/login/", HTTP_HOST=host)
        assert response.status_code == 400, (host, response.status_code)
        assert not header_problems(response, host)
    teacher = login_as(Client(raise_request_exception=False), tenant_a.teacher)
    page = teacher.get(f"/classes/{tenant_a.school_class.pk}/login-cards/", HTTP_X_FORWARDED_HOST="evil.example")
    assert page.status_code == 200 and b"evil.example" not in page.content
    redirect = Client().get("/home/", HTTP_X_FORWARDED_HOST="evil.example")
    assert "evil" not in redirect["Location"]


def test_no_route_puts_a_hostile_query_or_header_into_a_response_header(tenant_a: Tenant) -> None:
    query = "next=%0d%0aSet-Cookie:%20injected=1&x=%0aX-Injected:1&page=%0d%0a&s=%0d%0a"
    headers = {
        "HTTP_X_REQUEST_ID": "a\r\nX-Injected: 1",
        "HTTP_ACCEPT_LANGUAGE": "ja\r\nX-Injected: 1",
        "HTTP_REFERER": "https://testserver/\r\nX-Injected: 1",
        "HTTP_LAST_EVENT_ID": "1\r\nX-Injected: 1",
    }
    problems = []
    for actor in (None, tenant_a.teacher, tenant_a.student):
        client = Client(raise_request_exception=False)
        if actor is not None:
            login_as(client, actor)
        for route in all_routes():
            if route.streaming:
                continue
            url = route.path(_values(route, tenant_a))
            response = client.get(f"{url}?{query}", **headers)
            read_body(response)
            problems += header_problems(response, f"GET {url} as {actor.role if actor else 'anonymous'}")
    assert not problems, "\n".join(problems)
