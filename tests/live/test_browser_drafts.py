"""Nothing a student writes is lost, in a real browser: typing while offline, and typing after the
session has ended, keep the work on the device; it is saved when the connection is back, or when
the student logs in again and reopens the card. And nothing is done twice: a submission whose
answer was lost (a 503 after the server committed it) is retried with its Idempotency-Key and
stays one submission."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

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


def test_a_submit_whose_answer_was_lost_is_retried_and_stays_one_submission(tmp_path: Path) -> None:
    need_chromium()
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with running(tmp_path / "home", "--demo") as server, sync_playwright() as playwright:
        teacher = signed_in(server, "teacher")
        _class_id, lesson_id = open_lesson(teacher, "Retries")
        send_text_card(teacher, lesson_id, "Answer and submit")
        assert teacher.post(f"/lessons/{lesson_id}/boxes/", {"title": "Exit ticket"}).status_code == 302
        boxes = teacher.client.get(f"/api/lessons/{lesson_id}").json()["boxes"]
        box_id = next(box["id"] for box in boxes if box["title"] == "Exit ticket")

        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        # No service worker (core/sw.js) here: this test reads the server's own answers (the
        # Idempotent-Replayed header), which Playwright reports as the worker's for a navigation
        # the worker let through. The worker never touches writes; test_browser_offline.py has it.
        context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="en-US", service_workers="block")
        page = context.new_page()
        login, password = server.login_of("student")
        code, number = login.split(" / ")
        page.goto(f"{server.url}/login/student/")
        page.fill("input[name=school_code]", code)
        page.fill("input[name=student_number]", number)
        page.fill("input[name=password]", password)
        page.click("main button[type=submit]")
        page.goto(f"{server.url}/lessons/{lesson_id}/")
        page.click("[data-inbox] .card-tile")
        page.wait_for_selector("form[data-card-editor][data-ready]")
        page.fill("#card-text", "My answer, submitted once.")
        expect(page.locator("[data-save-state]")).to_have_attribute("data-state", "saved")

        # The first submit reaches the server and is committed, but its answer is lost: the browser
        # gets a 503 as from a proxy that gave up waiting. Later requests pass untouched.
        submits: list[dict[str, Any]] = []

        def lose_the_first_answer(route: Any) -> None:
            submits.append(route.request.headers)
            if len(submits) == 1:
                route.fetch(max_redirects=0)
                route.fulfill(status=503, body="Service Unavailable")
            else:
                route.continue_()

        replayed: list[str] = []
        page.on(
            "response",
            lambda response: (
                replayed.append(response.headers.get("idempotent-replayed", "")) if "/submit/" in response.url else None
            ),
        )
        page.route(re.compile(rf"/boxes/{box_id}/submit/$"), lose_the_first_answer)
        page.click(f"form[action$='/boxes/{box_id}/submit/'] button[type=submit]")
        page.wait_for_url(re.compile(rf"/lessons/{lesson_id}/$"), timeout=60_000)
        expect(page.locator(".messages li")).to_have_count(1)  # "Submitted.", in the school's language
        page.screenshot(path=str(ARTIFACTS / "12-submit-retried-once.png"))

        assert len(submits) >= 2  # card.js tried again
        keys = {headers.get("idempotency-key") for headers in submits if headers.get("idempotency-key")}
        assert len(keys) == 1, submits  # with the same key each time
        assert "true" in replayed  # and the server answered with the first outcome
        current = teacher.client.get(f"/api/boxes/{box_id}/submissions").json()
        assert [entry["number"] for entry in current] == [1], current  # one submission, not two
        browser.close()
