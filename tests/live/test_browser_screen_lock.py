""" "Eyes on me" in real browsers (Playwright driving Debian's chromium, at 1024×768, in Japanese): a
teacher and two pupils. One pupil is on the lesson's page, the other is typing in a card of the
lesson and has not been saved yet (the page's clock is paused, so the autosave's pause never ends).
The teacher taps "画面をロック": both pupils' pages are covered live, the rest of each page is inert
and focus is in the cover, and the typed text was saved on the server first. The typing pupil
reloads: the page comes covered from the server, even without lock.js. The teacher taps
"ロック解除": both covers go live, and focus returns where it was. Screenshots go to
test-artifacts/screen-lock/."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.live.server import ROOT, first, running, wait_until
from tests.live.test_browser_lesson import ARGS, CHROMIUM, need_chromium
from tests.live.test_realtime import open_lesson, send_text_card, signed_in

pytestmark = [pytest.mark.slow, pytest.mark.browser]
ARTIFACTS = ROOT / "test-artifacts" / "screen-lock"
TYPED = "三分の一と六分の一をたすと、二分の一になります。"

# Whether the point in the middle of the screen belongs to the cover, the rest of the page is inert,
# and focus is inside the cover.
COVERED = """() => {
  const cover = document.querySelector('[data-screen-lock]');
  const hit = document.elementFromPoint(512, 384);
  return {
    hit: !!(hit && cover.contains(hit)),
    inert: ['body > header', 'body > main', 'body > footer'].every((s) => document.querySelector(s).inert),
    focus: cover.contains(document.activeElement),
  };
}"""


def test_the_teacher_locks_and_unlocks_every_pupils_screen_live(tmp_path: Path) -> None:
    need_chromium()
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with running(tmp_path / "home", "--demo") as server, sync_playwright() as playwright:
        staff = signed_in(server, "teacher")
        _class_id, lesson_id = open_lesson(staff, "分数のたし算")
        send_text_card(staff, lesson_id, "考えを書きましょう")
        made = staff.post(f"/lessons/{lesson_id}/boxes/", {"title": "ふりかえり"})
        assert made.status_code == 302, made.text[:300]

        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        errors: list[str] = []

        def new_page() -> object:
            context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="ja-JP")
            page = context.new_page()
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            return page

        def pupil_signed_in(index: int) -> object:
            page = new_page()
            login, password = server.login_of("student", index=index)
            code, number = login.split(" / ")
            page.goto(f"{server.url}/login/student/")
            page.fill("input[name=school_code]", code)
            page.fill("input[name=student_number]", number)
            page.fill("input[name=password]", password)
            page.click("main button[type=submit]")
            page.wait_for_url(f"{server.url}/home/")
            return page

        lesson_url = f"{server.url}/lessons/{lesson_id}/"

        # Pupil 1 follows the lesson on its page, with focus on the card to submit.
        reader = pupil_signed_in(0)
        reader.goto(lesson_url)
        expect(reader.locator("[data-lesson][data-role=student]")).to_be_visible()
        reader.focus(".submit-form select[name=card]")

        # Pupil 2 types in the card of the lesson; the page's clock stands still, so the autosave
        # (700 ms after the last keystroke) has not happened when the teacher locks.
        writer = pupil_signed_in(1)
        writer.clock.install()
        writer.goto(lesson_url)
        writer.click("[data-inbox] .card-tile")
        writer.wait_for_selector("form[data-card-editor][data-ready]")
        card_id = int(first(r"/cards/(\d+)/", writer.url))
        writer.clock.pause_at(datetime.now(UTC) + timedelta(seconds=5))
        writer.fill("#card-text", TYPED)
        own = signed_in(server, "student", index=1)  # the same pupil, reading the server through the API
        assert own.client.get(f"/api/cards/{card_id}").json()["text"] != TYPED  # not saved yet

        # The teacher taps "画面をロック" in the lesson's header.
        teacher = new_page()
        login, password = server.login_of("teacher")
        teacher.goto(f"{server.url}/accounts/login/")
        teacher.fill("input[name=login]", login)
        teacher.fill("input[name=password]", password)
        teacher.click("main button[type=submit]")
        teacher.goto(lesson_url)
        lock = teacher.locator("[data-screen-lock-button]")
        expect(lock).to_have_text("画面をロック")
        box = lock.bounding_box()
        assert box is not None and box["height"] >= 44 and box["y"] + box["height"] <= 768, box
        lock.click()
        expect(lock).to_have_text("ロック解除")
        expect(teacher.locator("[data-screen-lock]")).to_have_count(0)  # a teacher is never covered
        teacher.screenshot(path=str(ARTIFACTS / "01-teacher-locked.png"))

        # Both pupils are covered live: the cover takes the taps, the rest is inert, focus is inside.
        for page in (reader, writer):
            cover = page.locator("[data-screen-lock]")
            expect(cover).to_be_visible()
            expect(cover.locator("[role=alertdialog]")).to_have_accessible_name("先生の方を見ましょう")
            wait_until(
                lambda page=page: page.evaluate(COVERED) == {"hit": True, "inert": True, "focus": True},
                10,
                lambda page=page: f"not covered: {page.evaluate(COVERED)}",
            )
            page.keyboard.press("Tab")
            assert not page.evaluate("document.querySelector('main').contains(document.activeElement)")
        reader.screenshot(path=str(ARTIFACTS / "02-lesson-page-locked.png"))
        writer.screenshot(path=str(ARTIFACTS / "03-card-locked.png"))

        # The typed text was saved first, although the autosave's pause had not ended.
        wait_until(
            lambda: own.client.get(f"/api/cards/{card_id}").json()["text"] == TYPED,
            15,
            lambda: f"the typed text is not on the server: {own.client.get(f'/api/cards/{card_id}').text[:300]}",
        )

        # Submitting is refused meanwhile, whatever the page.
        box_id = staff.client.get(f"/api/lessons/{lesson_id}").json()["boxes"][0]["id"]
        refused = own.post_json(f"/api/boxes/{box_id}/submissions", {"card_id": card_id})
        assert refused.status_code == 400 and "ロック" in refused.json()["detail"], refused.text

        # A reload comes covered from the server, even without lock.js (no flash of the open page).
        writer.route("**/lock.js", lambda route: route.fulfill(status=200, content_type="text/javascript", body=""))
        writer.reload()
        expect(writer.locator("[data-screen-lock]")).to_be_visible()
        assert writer.evaluate(COVERED)["inert"] and writer.evaluate(COVERED)["hit"]
        writer.unroute("**/lock.js")
        writer.reload()
        expect(writer.locator("[data-screen-lock]")).to_be_visible()
        expect(writer.locator("#card-text")).to_have_value(TYPED)  # as saved on the server
        writer.screenshot(path=str(ARTIFACTS / "04-card-reloaded-locked.png"))

        # The teacher taps "ロック解除": both covers go live; focus returns where it was.
        teacher.locator("[data-screen-lock-button]").click()
        expect(teacher.locator("[data-screen-lock-button]")).to_have_text("画面をロック")
        for page in (reader, writer):
            expect(page.locator("[data-screen-lock]")).to_be_hidden()
            wait_until(lambda page=page: not page.evaluate(COVERED)["inert"], 10, "the page stayed inert")
        assert reader.evaluate("document.activeElement.matches('.submit-form select[name=card]')")
        writer.fill("#card-text", TYPED + "おわり")  # the editor takes typing again
        reader.screenshot(path=str(ARTIFACTS / "05-lesson-page-unlocked.png"))
        browser.close()
        assert not [e for e in errors if "favicon" not in e], errors
