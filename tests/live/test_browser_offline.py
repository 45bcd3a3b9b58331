"""The offline shell in a real browser (Chromium, Japanese, 1024x768): a pupil who opened a lesson
and a card finds both again when the connection is lost and the page is reloaded (the lesson's title
and cards, the draft typed offline), with a banner saying it is a copy; back online the draft is
sent. A logout deletes the pages kept on the device. And Chromium finds the app installable (its
manifest and worker without errors)."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

from tests.live.server import running
from tests.live.test_browser_lesson import ARGS, ARTIFACTS, CHROMIUM, need_chromium
from tests.live.test_realtime import open_lesson, send_text_card, signed_in

pytestmark = [pytest.mark.slow, pytest.mark.browser]
VIEWPORT = {"width": 1024, "height": 768}
CONTROLLED = "navigator.serviceWorker.controller !== null"
KEPT_PAGES = """async () => {
  let count = 0;
  for (const name of await caches.keys()) {
    if (name.startsWith("classnote-pages")) count += (await (await caches.open(name)).keys()).length;
  }
  return count;
}"""


def wait_for(page: Any, script: str, expected: object, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    value = page.evaluate(script)
    while value != expected and time.monotonic() < deadline:
        time.sleep(0.2)
        value = page.evaluate(script)
    assert value == expected, f"{what}: {value!r}"


def log_in_pupil(page: Any, server: Any) -> None:
    login, password = server.login_of("student")
    code, number = login.split(" / ")
    page.goto(f"{server.url}/login/student/")
    page.fill("input[name=school_code]", code)
    page.fill("input[name=student_number]", number)
    page.fill("input[name=password]", password)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/home/$"))
    # The worker installed on the first page now controls the pages (clients.claim).
    wait_for(page, CONTROLLED, True, "the worker controls the page")


def test_a_pupil_reloads_a_lesson_and_a_card_offline_and_the_draft_is_sent_later(tmp_path: Path) -> None:
    need_chromium()
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with running(tmp_path / "home", "--demo") as server, sync_playwright() as playwright:
        teacher = signed_in(server, "teacher")
        _class_id, lesson_id = open_lesson(teacher, "オフラインの授業")
        send_text_card(teacher, lesson_id, "長い答えを書こう")

        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        context = browser.new_context(viewport=VIEWPORT, locale="ja-JP", service_workers="allow")
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        log_in_pupil(page, server)

        lesson_url = f"{server.url}/lessons/{lesson_id}/"
        page.goto(lesson_url)
        expect(page.locator("h1")).to_have_text("オフラインの授業")
        expect(page.locator("[data-inbox] .card-tile")).to_have_count(1)
        page.click("[data-inbox] .card-tile")
        page.wait_for_selector("form[data-card-editor][data-ready]")
        card_url = page.url
        state = page.locator("[data-save-state]")
        banner = page.locator("[data-offline-banner]")
        expect(banner).to_be_hidden()

        # The connection goes: what the pupil types stays on the tablet.
        context.set_offline(True)
        page.fill("#card-text", "バスの中でオフラインで書きました。")
        expect(state).to_have_attribute("data-state", "offline")
        expect(banner).to_have_attribute("data-state", "offline")
        page.screenshot(path=str(ARTIFACTS / "20-offline-typing.png"))

        # Reloading the lesson offline shows the lesson kept on the tablet, not the browser's error page.
        page.goto(lesson_url)
        expect(page.locator("h1")).to_have_text("オフラインの授業")
        expect(page.locator("[data-inbox] .card-tile")).to_have_count(1)
        expect(page.locator("[data-inbox] .card-tile strong")).to_have_text("長い答えを書こう")
        expect(banner).to_have_attribute("data-state", "copy")
        expect(banner).to_contain_text(re.compile(r"オフラインです — \d{1,2}:\d{2} に保存したページ"))
        expect(page.locator("[data-live-state]")).to_have_class(re.compile("is-offline"))
        expect(page.locator("[data-live-state]")).to_have_text("オフライン")
        page.screenshot(path=str(ARTIFACTS / "21-offline-lesson-copy.png"))

        # The card too, with the draft typed offline.
        page.goto(card_url)
        page.wait_for_selector("form[data-card-editor][data-ready]")
        expect(page.locator("#card-text")).to_have_value("バスの中でオフラインで書きました。")
        expect(banner).to_have_attribute("data-state", "copy")
        page.screenshot(path=str(ARTIFACTS / "22-offline-card-copy.png"))

        # A page never opened before: the offline page, in Japanese.
        page.goto(f"{server.url}/portfolio/")
        expect(page.locator("[data-offline-page] h1")).to_have_text("インターネットにつながっていません")
        page.screenshot(path=str(ARTIFACTS / "23-offline-page.png"))

        # Back online: the draft is sent.
        page.goto(card_url)
        page.wait_for_selector("form[data-card-editor][data-ready]")
        context.set_offline(False)
        page.evaluate("window.dispatchEvent(new Event('online'))")
        expect(state).to_have_attribute("data-state", "saved")
        expect(banner).to_have_attribute("data-state", "online")
        page.reload()
        page.wait_for_selector("form[data-card-editor][data-ready]")
        expect(banner).to_be_hidden()  # a fresh page from the server
        expect(page.locator("#card-text")).to_have_value("バスの中でオフラインで書きました。")
        assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('classnote:draft:')).length") == 0
        assert not errors, errors
        browser.close()


def test_a_logout_deletes_the_pages_kept_on_the_tablet(tmp_path: Path) -> None:
    need_chromium()
    from playwright.sync_api import sync_playwright

    with running(tmp_path / "home", "--demo") as server, sync_playwright() as playwright:
        teacher = signed_in(server, "teacher")
        _class_id, lesson_id = open_lesson(teacher, "ログアウトの授業")
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        context = browser.new_context(viewport=VIEWPORT, locale="ja-JP", service_workers="allow")
        page = context.new_page()
        log_in_pupil(page, server)
        page.goto(f"{server.url}/lessons/{lesson_id}/")
        page.goto(f"{server.url}/home/")
        wait_for(page, KEPT_PAGES, 2, "the lesson and the home page are kept")

        page.click(".topbar form[action$='/accounts/logout/'] button")
        page.wait_for_url(re.compile(r"/accounts/login/"))
        wait_for(page, KEPT_PAGES, 0, "pages kept after the logout")
        assert "classnote-pages" not in page.evaluate("caches.keys()")
        assert any(name.startswith("classnote-static-") for name in page.evaluate("caches.keys()"))

        # Offline now, the lesson is not shown from the tablet: the offline page is.
        context.set_offline(True)
        page.goto(f"{server.url}/lessons/{lesson_id}/")
        assert page.locator("[data-offline-page]").count() == 1
        assert "ログアウトの授業" not in page.content()
        browser.close()


def test_chromium_finds_the_app_installable(tmp_path: Path) -> None:
    need_chromium()
    from playwright.sync_api import sync_playwright

    with running(tmp_path / "home", "--demo") as server, sync_playwright() as playwright:
        # A profile on disk: Chromium never offers to install from an incognito-like context.
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=ARGS,
            viewport=VIEWPORT,
            locale="ja-JP",
        )
        page = context.new_page()
        page.goto(f"{server.url}/")
        wait_for(page, CONTROLLED, True, "the worker controls the page")
        page.reload()
        cdp = context.new_cdp_session(page)
        manifest = cdp.send("Page.getAppManifest")
        assert manifest["url"] == f"{server.url}/manifest.webmanifest"
        assert manifest["errors"] == [], manifest["errors"]
        installability: list[dict[str, Any]] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            installability = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
            if not installability:
                break
            time.sleep(0.5)
        assert installability == [], installability
        context.close()
