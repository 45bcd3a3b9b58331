"""Issue 14, defect 5, in a real browser (Playwright driving Debian's chromium, ja-JP, 1024×768): the
teacher sees who has not submitted, not only "2/12".

Each submission box carries a roster strip: every pupil of the class, in class order, as submitted,
working on it ("取り組み中") or not yet opened. A freshly loaded page shows everyone as not yet
opened; pupil A opens the lesson and turns to working live; pupil B submits and turns to submitted
live; a reload shows the same states (rendered by the server); the box and its strip are in view
without scrolling; clicking B's name focuses B's tile. Screenshots go to test-artifacts/roster-strip/."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.live.server import ROOT, first
from tests.live.test_browser_lesson import ARGS, CHROMIUM, need_chromium
from tests.live.test_browser_teacher_actions import pupil_answers, running_lesson
from tests.live.test_realtime import signed_in

pytestmark = [pytest.mark.slow, pytest.mark.browser]
ARTIFACTS = ROOT / "test-artifacts" / "roster-strip"
WIDTH, HEIGHT = 1024, 768


def test_the_roster_strip_shows_who_has_not_submitted_live_and_after_a_reload(tmp_path: Path) -> None:
    need_chromium()
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = iter(range(1, 100))

    def snap(page: object, name: str) -> None:
        page.screenshot(path=str(ARTIFACTS / f"{next(shot):02d}-{name}.png"))  # type: ignore[attr-defined]

    with running_lesson(tmp_path) as (server, lesson_id, box_id), sync_playwright() as playwright:
        lesson_path = f"/lessons/{lesson_id}/"
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT}, locale="ja-JP")
        teacher = context.new_page()
        errors: list[str] = []
        teacher.on("pageerror", lambda error: errors.append(str(error)))
        teacher.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        login, password = server.login_of("teacher")
        teacher.goto(f"{server.url}/accounts/login/")
        teacher.fill("input[name=login]", login)
        teacher.fill("input[name=password]", password)
        teacher.click("main button[type=submit]")
        teacher.goto(server.url + lesson_path)

        box = teacher.locator(f"#box-{box_id}")
        strip = box.locator("[data-roster]")
        chips = strip.locator("[data-roster-pupil]")
        class_size = chips.count()
        assert class_size >= 3, class_size
        pupil_a, pupil_b, pupil_c = chips.nth(0), chips.nth(1), chips.nth(2)  # class order: pupils 1, 2, 3

        def count(state: str) -> object:
            return strip.locator(f"[data-roster-count={state}]")

        def states(expected_a: str, expected_b: str) -> None:
            expect(pupil_a).to_have_attribute("data-state", expected_a)
            expect(pupil_b).to_have_attribute("data-state", expected_b)
            expect(pupil_c).to_have_attribute("data-state", "not_opened")

        def in_view() -> None:
            """The box's title and its whole strip are on screen as loaded, without scrolling."""
            assert teacher.evaluate("window.scrollY") == 0
            expect(box.locator("h2").first).to_be_in_viewport(ratio=1)
            expect(strip).to_be_in_viewport(ratio=1)
            bottom = strip.evaluate("node => node.getBoundingClientRect().bottom")
            assert bottom <= HEIGHT, bottom

        # Fresh page: nobody has opened the lesson yet, shown in words and a mark, not by colour alone.
        for chip in (pupil_a, pupil_b, pupil_c):
            expect(chip).to_have_attribute("data-state", "not_opened")
            expect(chip).to_contain_text("まだ開いていない")
        expect(count("not_opened")).to_have_text(str(class_size))
        expect(count("submitted")).to_have_text("0")
        expect(strip).to_contain_text("まだ開いていない")
        in_view()
        snap(teacher, "fresh")

        # Pupil A opens the lesson: working on it, live.
        pupil = signed_in(server, "student", index=0)
        assert pupil.get(lesson_path).status_code == 200
        expect(pupil_a).to_have_attribute("data-state", "drafting")
        expect(pupil_a).to_contain_text("取り組み中")
        expect(count("drafting")).to_have_text("1")
        expect(count("not_opened")).to_have_text(str(class_size - 1))
        # ... and types on the card the teacher sent: still working, now marked as writing.
        card_id = int(first(r'data-card-id="(\d+)"', pupil.get(lesson_path).text))
        version = int(first(r'data-version="(\d+)"', pupil.get(f"/cards/{card_id}/").text))
        saved = pupil.post_json(f"/cards/{card_id}/autosave/", {"version": version, "fields": {"text": "1/2"}})
        assert saved.is_success, saved.text[:300]
        expect(pupil_a).to_have_attribute("data-edited", "1")
        snap(teacher, "a-working")

        # Pupil B submits: submitted, live; the tile arrives too.
        pupil_answers(server, 1, lesson_id, box_id)
        states("drafting", "submitted")
        expect(pupil_b).to_contain_text("提出済み")
        expect(count("submitted")).to_have_text("1")
        expect(count("drafting")).to_have_text("1")
        expect(count("not_opened")).to_have_text(str(class_size - 2))
        snap(teacher, "b-submitted")

        # Reload: the server renders the same states.
        teacher.reload()
        states("drafting", "submitted")
        expect(pupil_a).to_have_attribute("data-edited", "1")
        expect(count("submitted")).to_have_text("1")
        expect(count("not_opened")).to_have_text(str(class_size - 2))
        in_view()
        snap(teacher, "reloaded")

        # B's name leads to B's tile (in view and focused, for the keyboard too).
        b_tile = box.locator(f"[data-submission-grid] [data-student-id='{pupil_b.get_attribute('data-roster-pupil')}']")
        pupil_b.get_by_role("link").click()
        expect(b_tile).to_be_focused()
        expect(b_tile).to_be_in_viewport()
        snap(teacher, "b-tile-focused")

        # The pupil's own page shows nobody's state.
        assert "data-roster" not in pupil.get(lesson_path).text
        browser.close()
        assert not [e for e in errors if "favicon" not in e], errors
