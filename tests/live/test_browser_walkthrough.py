"""The whole lesson as a class lives it (issue 14, "done when"): one teacher and two pupils in
Japanese at 1024×768 (an iPad), the teacher's page reloaded between every step, so that nothing
works only on the live-updated path.

1. The teacher starts a lesson from the class page; both pupils, on their home pages, see the
   "lesson started" prompt arrive live and join from it.
2. The teacher makes a Venn card and a submission box on the lesson page and sends the card.
3. The roster strip shows that the two pupils are working and the rest of the class has not opened
   the lesson.
4. Each pupil opens the card, puts a text box on a Venn region, types into it and submits without
   scrolling (the submit button is on screen).
5. The teacher sees who has submitted and who has not, compares the two answers, returns one with a
   comment (the pupil reads it after a reload), locks every pupil's screen and unlocks it (both
   pupils see the cover live), and shows the box on the projector.

Screenshots of every step go to test-artifacts/walkthrough/ (looked at when the test was written)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.live.server import ROOT, running
from tests.live.test_browser_lesson import ARGS, CHROMIUM, need_chromium

pytestmark = [pytest.mark.slow, pytest.mark.browser]
ARTIFACTS = ROOT / "test-artifacts" / "walkthrough"
VIEWPORT = {"width": 1024, "height": 768}


def in_view(locator: Any) -> None:
    """The element lies wholly inside the 1024×768 viewport: reachable without scrolling."""
    box = locator.bounding_box()
    assert box is not None, "not rendered"
    assert box["x"] >= 0 and box["y"] >= 0, box
    assert box["x"] + box["width"] <= VIEWPORT["width"], box
    assert box["y"] + box["height"] <= VIEWPORT["height"], box


def test_a_whole_lesson_in_japanese_on_a_tablet_with_reloads_between_the_steps(tmp_path: Path) -> None:
    need_chromium()
    from playwright.sync_api import Page, expect, sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shots = iter(range(1, 100))

    def shot(page: Page, name: str) -> None:
        page.screenshot(path=str(ARTIFACTS / f"{next(shots):02d}-{name}.png"))

    with running(tmp_path / "home", "--demo") as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        errors: list[str] = []

        def new_page() -> Page:
            page = browser.new_context(viewport=VIEWPORT, locale="ja-JP").new_page()
            page.on("pageerror", lambda error: errors.append(str(error)))
            return page

        def local(url: str) -> str:
            return re.sub(r"^https?://[^/]+", "", url)

        teacher = new_page()
        login, password = server.login_of("teacher")
        teacher.goto(f"{server.url}/accounts/login/")
        teacher.fill("input[name=login]", login)
        teacher.fill("input[name=password]", password)
        teacher.click("main button[type=submit]")
        teacher.wait_for_url(f"{server.url}/home/")

        def pupil(index: int) -> Page:
            page = new_page()
            login, password = server.login_of("student", index=index)
            code, number = login.split(" / ")
            page.goto(f"{server.url}/login/student/")
            page.fill("input[name=school_code]", code)
            page.fill("input[name=student_number]", number)
            page.fill("input[name=password]", password)
            page.click("main button[type=submit]")
            page.wait_for_url(f"{server.url}/home/")
            expect(page.locator("html")).to_have_attribute("lang", "ja")
            return page

        pupils = [pupil(0), pupil(1)]
        for page in pupils:
            expect(page.locator("[data-lesson-prompts]")).to_be_attached()

        # 1. The teacher starts the lesson; the pupils join from the live prompt.
        teacher.click(".tiles a >> nth=0")
        teacher.fill("#lesson-title", "分数のたし算")
        with teacher.expect_navigation():
            teacher.click("form[action$='/lessons/'] button[type=submit]")
        lesson_path = local(teacher.url)
        assert re.fullmatch(r"/lessons/\d+/", lesson_path), lesson_path
        shot(teacher, "teacher-lesson-started")
        for number, page in enumerate(pupils, start=1):
            join = page.locator("[data-lesson-prompts] .prompt", has_text="分数のたし算").locator("a.join")
            expect(join).to_be_visible()  # arrived live: the pupil's home was loaded before the lesson began
            in_view(join)
            shot(page, f"pupil{number}-prompt")
            join.click()
            page.wait_for_url(f"{server.url}{lesson_path}")
        teacher.reload()

        # 2. A Venn card and a submission box, each from the page; the card goes to the class.
        teacher.click(".new-card > summary")
        teacher.select_option(".new-card select[name=kind]", "drawing")
        teacher.select_option(".new-card select[name=background]", "venn")
        teacher.fill(".new-card input[name=title]", "ねことさかな")
        teacher.click(".new-card button[type=submit]")
        teacher.wait_for_selector("form[data-card-editor][data-ready]")
        teacher.goto(f"{server.url}{lesson_path}")
        teacher.fill("form.box-new input[name=title]", "なかまわけ")
        with teacher.expect_navigation():  # each form's answer has loaded before the page is reloaded
            teacher.click("form.box-new button[type=submit]")
        teacher.reload()
        teacher.check("[data-send-form] input[name=cards] >> nth=0")
        with teacher.expect_navigation():  # sent with its idempotency key, then the page follows
            teacher.click("[data-send-button]")
        teacher.reload()

        # 3. Who is where: the two pupils opened the lesson, the rest of the class has not.
        box = teacher.locator("section.box").first
        in_view(box.locator("[data-roster]"))
        expect(box.locator("[data-roster-count=drafting]")).to_have_text("2")
        expect(box.locator("[data-roster-count=submitted]")).to_have_text("0")
        class_size = box.locator("[data-roster-pupil]").count()
        assert class_size > 2
        expect(box.locator("[data-roster-count=not_opened]")).to_have_text(str(class_size - 2))
        shot(teacher, "teacher-roster-before")
        teacher.reload()

        # 4. Each pupil types onto a Venn region and submits without scrolling.
        answers = ["ねこはさかながすき", "どちらもうみのそば"]
        for number, (page, answer) in enumerate(zip(pupils, answers, strict=True), start=1):
            tile = page.locator("[data-inbox] .card-tile", has_text="ねことさかな")
            expect(tile).to_be_visible()  # arrived live
            tile.click()
            page.wait_for_selector("form[data-card-editor][data-ready]")
            surface = page.locator("[data-surface]")
            card = surface.bounding_box()
            assert card is not None
            page.get_by_role("button", name="テキスト", exact=True).click()
            x = 0.2 if number == 1 else 0.75  # the left circle, the right circle
            page.mouse.click(card["x"] + card["width"] * x, card["y"] + card["height"] * 0.45)
            text = page.locator(".surface-item textarea")
            expect(text).to_be_focused()
            page.keyboard.insert_text(answer)
            expect(page.locator("[data-save-state]")).to_have_attribute("data-state", "saved")
            submit = page.locator("form[data-flush-before-submit] button[type=submit]").first
            in_view(submit)
            assert page.evaluate("window.scrollY") == 0
            shot(page, f"pupil{number}-venn-typed")
            submit.click()
            page.wait_for_url(f"{server.url}{lesson_path}")
            expect(page.locator(".history")).to_contain_text("#1")
        teacher.reload()

        # 5a. Who has submitted, who has not.
        box = teacher.locator("section.box").first
        expect(box.locator("[data-roster-count=submitted]")).to_have_text("2")
        expect(box.locator("[data-roster-count=not_opened]")).to_have_text(str(class_size - 2))
        expect(box.locator("[data-submission]")).to_have_count(2)
        in_view(box.locator("[data-roster]"))
        shot(teacher, "teacher-roster-submitted")
        teacher.reload()

        # 5b. Compare the two answers (on a page loaded fresh), then reload the comparison.
        box = teacher.locator("section.box").first
        for check in box.locator("[data-tile-check]").all():
            check.check()
        box.locator("button[form^=compare-]").click()
        teacher.wait_for_url(re.compile(r"/boxes/\d+/compare/"))
        teacher.reload()
        expect(teacher.locator(".compare article")).to_have_count(2)
        for answer in answers:
            expect(teacher.locator(".compare")).to_contain_text(answer)
        shot(teacher, "teacher-compare")
        teacher.goto(f"{server.url}{lesson_path}")

        # 5c. Return the first pupil's answer with a comment; the pupil reads it after a reload.
        tile = teacher.locator("section.box [data-submission]", has_text=answers[0])
        tile.locator("summary").click()
        tile.locator("textarea[name=comment]").fill("よく見つけたね。")
        with teacher.expect_navigation():  # the form is sent with its idempotency key, then the page follows
            tile.locator("[data-return-form] button[type=submit]").click()
        teacher.reload()
        expect(teacher.locator("section.box [data-submission]", has_text=answers[0])).to_contain_text("返却済み")
        pupils[0].reload()
        expect(pupils[0].locator(".returned")).to_contain_text("よく見つけたね。")
        shot(pupils[0], "pupil1-returned")

        # 5d. Eyes on me: lock every screen, then unlock; the pupils see the cover come and go live.
        lock = teacher.locator("[data-screen-lock-button]")
        expect(lock).to_have_text("画面をロック")
        with teacher.expect_navigation():  # a plain form: the answer loads before anything else
            lock.click()
        expect(lock).to_have_text("ロック解除")
        for number, page in enumerate(pupils, start=1):
            cover = page.locator("[data-screen-lock]")
            expect(cover).to_be_visible()
            shot(page, f"pupil{number}-locked")
        teacher.reload()
        lock = teacher.locator("[data-screen-lock-button]")
        expect(lock).to_have_text("ロック解除")
        shot(teacher, "teacher-locked")
        with teacher.expect_navigation():
            lock.click()
        expect(lock).to_have_text("画面をロック")
        for page in pupils:
            expect(page.locator("[data-screen-lock]")).to_be_hidden()
        teacher.reload()

        # 5e. The box on the projector: a grid of the answers, one at a time with the arrow keys.
        with teacher.expect_popup() as popup:
            teacher.locator("section.box [data-projector-link]").first.click()
        projector = popup.value
        projector.wait_for_load_state("load")
        tiles = projector.locator("[data-projector-grid] .projector-tile")
        expect(tiles).to_have_count(2)
        shot(projector, "projector-grid")
        tiles.first.focus()
        projector.keyboard.press("Enter")
        expect(projector.locator("[data-projector-single]")).to_be_visible()
        expect(projector.locator("[data-counter]")).to_have_text("1 / 2")
        projector.keyboard.press("ArrowRight")
        expect(projector.locator("[data-counter]")).to_have_text("2 / 2")
        shot(projector, "projector-single")
        projector.keyboard.press("Escape")
        expect(projector.locator("[data-projector-grid]")).to_be_visible()
        browser.close()

    assert not errors, errors
