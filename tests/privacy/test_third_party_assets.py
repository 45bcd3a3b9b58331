"""No page loads anything from another host: no analytics, trackers, fonts, scripts or images of
third parties, and no link to them. Checked three ways: every page as every role, every template and
static file on disk, and the Content-Security-Policy."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.test import Client

import classnote
from classnote.accounts.models import User
from classnote.base.roles import Role
from tests.conftest import PASSWORD, Tenant, login_as
from tests.test_isolation import all_routes

PACKAGE = Path(classnote.__file__).resolve().parent
HOST = "testserver"  # the Django test client's host

# Absolute URLs that may appear in our files, and why. Nothing here is ever fetched by a browser.
ALLOWED_ON_DISK = {
    "www.w3.org": "XML namespace identifiers (xmlns) of SVG files: names, never fetched",
    "en.wikipedia.org": "a reference in a comment of the vendored jsQR (static/classnote/vendor/jsqr): never fetched",
    "www.apache.org": "the licence text of the vendored jsQR (static/classnote/vendor/jsqr/LICENSE): never fetched",
}
URL_ATTRIBUTES = {"src", "href", "action", "formaction", "poster", "data", "background", "xlink:href", "manifest"}
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")\s]+)""", re.IGNORECASE)
CSS_IMPORT = re.compile(r"""@import\s+['"]([^'"]+)""", re.IGNORECASE)
ABSOLUTE_URL = re.compile(r"""(?:https?:)//([A-Za-z0-9.-]+)""", re.IGNORECASE)
PROTOCOL_RELATIVE = re.compile(r"""(?:src|href|action)\s*=\s*['"]//([A-Za-z0-9.-]+)|url\(\s*['"]?//([A-Za-z0-9.-]+)""")


class UrlCollector(HTMLParser):
    """Every URL a page makes the browser load or go to: attributes, srcset, inline and embedded CSS."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_style = tag == "style"
        for name, value in attrs:
            if not value:
                continue
            if name in URL_ATTRIBUTES:
                self.urls.append(value)
            elif name in ("srcset", "imagesrcset"):
                self.urls += [part.strip().split(" ")[0] for part in value.split(",") if part.strip()]
            elif name == "style":
                self.urls += CSS_URL.findall(value)
            elif name == "content" and "url=" in value.lower():  # <meta http-equiv="refresh">
                self.urls.append(value.lower().split("url=", 1)[1])

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.urls += CSS_URL.findall(data) + CSS_IMPORT.findall(data)


def foreign(urls: list[str]) -> list[str]:
    outside = []
    for url in urls:
        parts = urlsplit(url.strip())
        if parts.scheme in ("", "http", "https") and parts.netloc and parts.hostname != HOST:
            outside.append(url)
        elif parts.scheme not in ("", "http", "https", "data", "blob", "mailto", "tel", "javascript"):
            outside.append(url)  # other schemes (ftp:, ws: to elsewhere, ...) have no place here
    return outside


def pages_without_parameters() -> list[str]:
    return sorted({"/" + route.template for route in all_routes() if not route.parameters and not route.streaming})


def visitors(tenant: Tenant) -> dict[str, Client]:
    officer = User.objects.create_user("assets-officer", PASSWORD, display_name="Officer", role=Role.PRIVACY_OFFICER)
    operator = User.objects.create_user("assets-operator", PASSWORD, display_name="Operator", role=Role.OPERATOR)
    people = [tenant.student, tenant.teacher, tenant.school_admin, tenant.municipal_admin, officer, operator]
    return {"anonymous": Client(), **{person.role: login_as(Client(), person) for person in people}}


def test_no_page_loads_or_links_anything_from_another_host(tenant_a: Tenant) -> None:
    paths = pages_without_parameters()
    assert "/privacy/" in paths and "/" in paths and "/accounts/login/" in paths
    problems = []
    scanned = 0
    for role, client in visitors(tenant_a).items():
        for path in paths:
            response = client.get(path)
            if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
                continue
            scanned += 1
            collector = UrlCollector()
            collector.feed(response.content.decode("utf-8", "replace"))
            problems += [f"{path} as {role}: {url}" for url in foreign(collector.urls)]
    assert scanned > 30, "the walk no longer reaches the pages"
    assert not problems, "pages refer to other hosts:\n" + "\n".join(problems)


def test_the_collector_finds_what_a_page_could_load() -> None:
    collector = UrlCollector()
    collector.feed(
        '<link rel="stylesheet" href="https://fonts.example.com/css"><img srcset="/a.png 1x, //cdn.example/b.png 2x">'
        "<div style=\"background: url('https://img.example/x.png')\"></div>"
        "<style>@import 'https://evil.example/x.css'; p { background: url(/static/ok.png) }</style>"
        '<form action="https://forms.example/post"></form><script src="/static/app.js"></script>'
    )
    assert foreign(collector.urls) == [
        "https://fonts.example.com/css",
        "//cdn.example/b.png",
        "https://img.example/x.png",
        "https://evil.example/x.css",
        "https://forms.example/post",
    ]


def our_files() -> list[Path]:
    found = []
    for folder in [*PACKAGE.glob("**/templates"), *PACKAGE.glob("**/static")]:
        found += [path for path in folder.rglob("*") if path.is_file()]
    return found


def test_templates_and_static_files_name_no_other_host() -> None:
    files = our_files()
    assert any(path.suffix == ".html" for path in files) and any(path.suffix == ".css" for path in files)
    problems = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # images
        hosts = ABSOLUTE_URL.findall(text) + [a or b for a, b in PROTOCOL_RELATIVE.findall(text)]
        problems += [f"{path.relative_to(PACKAGE)}: {host}" for host in hosts if host.lower() not in ALLOWED_ON_DISK]
    assert not problems, "absolute URLs to other hosts (serve the asset yourself):\n" + "\n".join(problems)


def test_the_content_security_policy_allows_no_other_host(client: Client, db: None) -> None:
    directives = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    assert directives["default-src"] == ["'self'"]
    allowed = {"'self'", "'none'", "data:", "blob:"}
    for name, sources in directives.items():
        if isinstance(sources, bool):
            continue
        assert set(sources) <= allowed, f"{name} allows {set(sources) - allowed}"
    header = client.get("/privacy/")["Content-Security-Policy"]
    assert "default-src 'self'" in header
    assert not re.search(r"https?:|\*|//", header), header


@pytest.mark.parametrize("name", ["script-src", "style-src", "font-src", "connect-src", "img-src", "frame-src"])
def test_every_loading_directive_is_set(name: str) -> None:
    """A directive left out falls back to default-src; set explicitly, none may widen it to a host."""
    assert name in settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
