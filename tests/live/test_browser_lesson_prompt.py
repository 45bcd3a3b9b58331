"""A pupil is told live that a lesson has started (Playwright driving Debian's chromium, at
1024×768, the pupil in Japanese): on the home page, without a reload, a "join" prompt appears when
the teacher starts a lesson; it opens the lesson; it is still there after a reload; it goes, live,
when the teacher ends the lesson. The class page shows it as well. Screenshots go to
test-artifacts/lesson-prompt/."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.live.server import ROOT, running
from tests.live.test_browser_lesson import ARGS, CHROMIUM, need_chromium

pytestmark = [pytest.mark.slow, pytest.mark.browser]
ARTIFACTS = ROOT / "test-artifacts" / "lesson-prompt"


def test_a_pupil_joins_from_the_live_lesson_started_prompt(tmp_path: Path) -> None:
    need_chromium()
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    with running(tmp_path / "home", "--demo") as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        viewport = {"width": 1024, "height": 768}
        errors: list[str] = []

        def new_page(locale: str) -> object:
            page = browser.new_context(viewport=viewport, locale=locale).new_page()
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            return page

        # The pupil logs in (in Japanese) and stays on the home page.
        pupil = new_page("ja-JP")
        login, password = server.login_of("student")
        code, number = login.split(" / ")
        pupil.goto(f"{server.url}/login/student/")
        pupil.fill("input[name=school_code]", code)
        pupil.fill("input[name=student_number]", number)
        pupil.fill("input[name=password]", password)
        pupil.click("main button[type=submit]")
        pupil.goto(f"{server.url}/home/")
        prompts = pupil.locator("[data-lesson-prompts]")
        expect(prompts).to_be_visible()
        class_url = pupil.locator(".tiles a[href^='/classes/']").first.get_attribute("href")
        assert class_url

        # The teacher of the pupil's class starts a lesson.
        teacher = new_page("en-US")
        login, password = server.login_of("teacher")
        teacher.goto(f"{server.url}/accounts/login/")
        teacher.fill("input[name=login]", login)
        teacher.fill("input[name=password]", password)
        teacher.click("main button[type=submit]")
        teacher.goto(f"{server.url}{class_url}")
        teacher.fill("#lesson-title", "分数のたし算")
        teacher.click("form[action$='/lessons/'] button[type=submit]")
        lesson_url = teacher.url
        lesson_path = lesson_url.removeprefix(server.url)

        # Without a reload, the pupil's home shows the lesson with a prominent "join", and says so.
        prompt = prompts.locator(".prompt", has_text="分数のたし算")
        expect(prompt).to_have_count(1)
        join = prompt.locator("a.join")
        expect(join).to_have_text("参加する")
        expect(join).to_have_attribute("href", lesson_path)
        expect(pupil.locator("[data-prompt-announce]")).to_contain_text("分数のたし算")
        expect(pupil.locator("[data-prompt-announce]")).to_have_attribute("aria-live", "polite")
        box = join.bounding_box()
        assert box is not None and box["height"] >= 44 and box["y"] + box["height"] <= 768, box
        pupil.screenshot(path=str(ARTIFACTS / "01-home-lesson-started.png"))

        # Joining opens the lesson.
        join.click()
        pupil.wait_for_url(lesson_url)
        expect(pupil.locator("[data-lesson][data-role=student]")).to_be_visible()
        expect(pupil.locator("h1")).to_contain_text("分数のたし算")

        # Back home after a reload: the prompt is rendered from the server; so on the class page.
        pupil.goto(f"{server.url}/home/")
        expect(prompts.locator(".prompt", has_text="分数のたし算")).to_have_count(1)
        pupil.goto(f"{server.url}{class_url}")
        expect(pupil.locator("[data-lesson-prompts] .prompt", has_text="分数のたし算")).to_have_count(1)
        pupil.screenshot(path=str(ARTIFACTS / "02-class-page.png"))
        pupil.goto(f"{server.url}/home/")
        expect(prompts.locator(".prompt", has_text="分数のたし算")).to_have_count(1)

        # The teacher ends the lesson: the prompt goes, live, and the page says so.
        teacher.goto(lesson_url)
        teacher.once("dialog", lambda dialog: dialog.accept())
        teacher.click("[data-end-lesson]")
        expect(teacher.locator("[data-end-lesson]")).to_have_count(0)
        expect(prompts.locator(".prompt", has_text="分数のたし算")).to_have_count(0)
        expect(pupil.locator("[data-prompt-announce]")).to_contain_text("分数のたし算")
        pupil.screenshot(path=str(ARTIFACTS / "03-home-lesson-ended.png"))
        browser.close()
        assert not [e for e in errors if "favicon" not in e], errors
