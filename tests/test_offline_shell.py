"""The offline shell (core/pwa.py, core/sw.js): the manifest, the worker and the offline page are
served as browsers need them; only the pages meant to be kept are marked for the worker; a logout
has the browser's cache of the site cleared. The worker's behaviour in a browser is
tests/live/test_browser_offline.py."""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client

from classnote.base.offline import OFFLINE_HEADER
from tests.conftest import Tenant, add_lesson, login_as
from tests.test_security_headers import csp_directives


def test_the_worker_is_served_from_the_root_as_javascript_never_from_a_cache(tenant_a: Tenant) -> None:
    response = Client().get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert "no-cache" in response["Cache-Control"]
    assert "Service-Worker-Allowed" not in response  # at the root, its scope is the whole site
    # The page's policy lets it register a worker and read the manifest of this site only.
    page = Client().get("/")
    directives = csp_directives(page["Content-Security-Policy"])
    assert directives["worker-src"] == ["'self'"]
    assert directives["manifest-src"] == ["'self'"]
    body = response.content.decode()
    prelude = body.split("\n", 1)[0]
    assert prelude.startswith("const CLASSNOTE = ")
    config = json.loads(prelude.removeprefix("const CLASSNOTE = ").rstrip(";"))
    assert config["offline"] == "/offline/"
    assert config["keepHeader"] == OFFLINE_HEADER
    assert config["keepSeconds"] == settings.SESSION_COOKIE_AGE  # no kept page outlives a session
    assert "/static/classnote/app.css" in config["precache"]
    assert "/static/classnote/offline.js" in config["precache"]
    for url in config["precache"]:  # each file to keep exists (a missing one fails the install)
        assert finders.find(url.removeprefix("/static/")), url
    assert len(config["version"]) == 16
    assert 'self.addEventListener("fetch"' in body


def test_the_worker_version_follows_the_files_it_keeps(tenant_a: Tenant, tmp_path: object, monkeypatch: object) -> None:
    from classnote.core import pwa

    before = pwa.worker_version()
    assert pwa.worker_version() == before  # stable while nothing changes
    copy = tmp_path / "sw.js"  # type: ignore[operator]
    copy.write_text(pwa.WORKER_SOURCE.read_text(encoding="utf-8") + "\n// changed\n", encoding="utf-8")
    monkeypatch.setattr(pwa, "WORKER_SOURCE", copy)  # type: ignore[attr-defined]
    assert pwa.worker_version() != before


def test_the_manifest_is_in_the_users_language_with_the_icons(tenant_a: Tenant) -> None:
    client = login_as(Client(), tenant_a.student)  # tenant a's school speaks Japanese
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = json.loads(response.content)
    assert manifest["lang"] == "ja"
    assert manifest["start_url"] == "/home/"
    assert manifest["scope"] == "/"
    assert manifest["display"] == "standalone"
    assert manifest["theme_color"] == "#1a66dc"
    assert manifest["background_color"] == "#f5f7fb"
    assert "classnote" in manifest["name"] and manifest["name"] != "classnote — lessons and cards"
    assert manifest["short_name"]
    english = json.loads(Client(HTTP_ACCEPT_LANGUAGE="en").get("/manifest.webmanifest").content)
    assert english["lang"] == "en"
    assert english["name"] == "classnote — lessons and cards"
    sizes = {(icon["sizes"], icon["purpose"]) for icon in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("192x192", "maskable"), ("512x512", "maskable")} <= sizes
    from PIL import Image

    for icon in manifest["icons"]:
        path = finders.find(icon["src"].removeprefix("/static/"))
        assert path, icon
        with Image.open(path) as image:
            assert f"{image.width}x{image.height}" == icon["sizes"]
            assert image.format == "PNG"


def test_pages_link_the_manifest_the_worker_and_the_apple_icon(tenant_a: Tenant) -> None:
    html = Client().get("/").content.decode()
    assert '<link rel="manifest" href="/manifest.webmanifest" crossorigin="use-credentials">' in html
    assert 'data-worker="/sw.js"' in html
    assert 'rel="apple-touch-icon"' in html
    assert "data-offline-banner" in html
    apple = finders.find("classnote/icons/apple-touch-icon.png")
    assert apple


def test_the_offline_page_is_translated_and_names_nobody(tenant_a: Tenant) -> None:
    client = login_as(Client(), tenant_a.student)
    response = client.get("/offline/")
    assert response.status_code == 200
    html = response.content.decode()
    assert response["Content-Language"] == "ja"
    assert "インターネットにつながっていません" in html  # "No connection"
    assert tenant_a.student.display_name not in html  # kept beside the static files, for everyone
    assert "Log out" not in html and "ログアウト" not in html  # rendered as for a visitor
    assert OFFLINE_HEADER not in response


def test_only_the_lesson_own_cards_and_home_are_marked_to_keep(tenant_a: Tenant) -> None:
    add_lesson(tenant_a, "k")
    student = login_as(Client(), tenant_a.student)
    teacher = login_as(Client(), tenant_a.teacher)
    own_card = tenant_a.submission.card
    for client, url in (
        (student, "/home/"),
        (student, f"/lessons/{tenant_a.lesson.pk}/"),
        (student, f"/cards/{own_card.pk}/"),
        (teacher, f"/lessons/{tenant_a.lesson.pk}/"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.get(OFFLINE_HEADER) == "keep", url
        assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"], url
    for client, url in (
        (teacher, f"/cards/{own_card.pk}/"),  # another's card: each view goes to the audit log
        (student, "/settings/"),
        (student, "/portfolio/"),
        (teacher, f"/classes/{tenant_a.school_class.pk}/"),
        (student, "/privacy/"),
        (Client(), "/"),
        (Client(), "/login/student/"),
    ):
        response = client.get(url)
        assert OFFLINE_HEADER not in response, url
    # Not signed in any more: the login page, unmarked.
    response = Client().get(f"/lessons/{tenant_a.lesson.pk}/")
    assert response.status_code == 302 and OFFLINE_HEADER not in response


def test_a_logout_clears_the_browsers_cache_of_the_site_but_not_its_storage(tenant_a: Tenant) -> None:
    client = login_as(Client(), tenant_a.student)
    assert "Clear-Site-Data" not in client.get("/home/")
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    # Not "storage": drafts not yet sent stay on the device (card.js sends them after a new login).
    assert response["Clear-Site-Data"] == '"cache"'
    assert "Clear-Site-Data" not in Client().get("/")
