"""Nothing a student writes is lost, in a real browser: typing while offline, and typing after the
session has ended, keep the work on the device; it is saved when the connection is back, or when
the student logs in again and reopens the card."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.live.server import running
from tests.live.test_browser_lesson import ARGS, ARTIFACTS, CHROMIUM, need_chromium
from tests.live.test_realtime import open_lesson, send_text_card, signed_in

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_drafts_survive_offline_and_an_expired_session(tmp_path: Path) -> None:
    need_chromium()
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with running(tmp_path / "home", "--demo") as server, sync_playwright() as playwright:
        teacher = signed_in(server, "teacher")
        _class_id, lesson_id = open_lesson(teacher, "Drafts")
        send_text_card(teacher, lesson_id, "Write a long answer")

        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="en-US")
        page = context.new_page()
        login, password = server.login_of("student")
        code, number = login.split(" / ")

        def log_in() -> None:
            page.goto(f"{server.url}/login/student/")
            page.fill("input[name=school_code]", code)
            page.fill("input[name=student_number]", number)
            page.fill("input[name=password]", password)
            page.click("main button[type=submit]")

        log_in()
        page.goto(f"{server.url}/lessons/{lesson_id}/")
        page.click("[data-inbox] .card-tile")
        page.wait_for_selector("form[data-card-editor][data-ready]")
        card_url = page.url
        state = page.locator("[data-save-state]")

        # Offline: the edit stays on the device and is sent when the connection is back.
        context.set_offline(True)
        page.fill("#card-text", "Written on the bus, offline.")
        expect(state).to_have_attribute("data-state", "offline")
        page.screenshot(path=str(ARTIFACTS / "10-draft-offline.png"))
        context.set_offline(False)
        page.evaluate("window.dispatchEvent(new Event('online'))")
        expect(state).to_have_attribute("data-state", "saved")

        # The session ends (cookies gone): the edit is kept and sent after logging in again.
        context.clear_cookies()
        page.fill("#card-text", "Written after the session ended.")
        expect(state).to_have_attribute("data-state", "login")
        page.screenshot(path=str(ARTIFACTS / "11-draft-session-ended.png"))
        log_in()
        page.goto(card_url)
        expect(state).to_have_attribute("data-state", "saved")
        page.reload()
        expect(page.locator("#card-text")).to_have_value("Written after the session ended.")
        assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('classnote:draft:')).length") == 0
        browser.close()
