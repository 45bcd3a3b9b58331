"""The card is one surface at 1024×768, in Japanese (issue 14, defect 4): a pupil opens a Venn card
from a lesson, puts a text box on a region with the Text tool and types Japanese into it (through the
browser's IME path), the submit button is on screen without scrolling, the card is submitted, a
reload shows the box where it was, and the teacher's picture of the submission shows it. With the
keyboard alone: the tools are buttons reached by Tab, a box is made with the Text button and moved
with the arrow keys. Text and drawing cards fit the screen too. Screenshots go to
test-artifacts/card-surface/."""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops

from classnote.cards.templates_bg import background_image
from tests.live.server import ROOT, first, running, wait_until
from tests.live.test_browser_lesson import ARGS, CHROMIUM, need_chromium
from tests.live.test_realtime import open_lesson, signed_in

pytestmark = [pytest.mark.slow, pytest.mark.browser]
ARTIFACTS = ROOT / "test-artifacts" / "card-surface"
VIEWPORT = {"width": 1024, "height": 768}


def send_card(teacher: Any, lesson_id: int, **fields: str) -> None:
    made = teacher.post("/cards/", {"lesson": str(lesson_id), **fields})
    assert made.status_code == 302, made.text[:300]
    card_id = int(first(r"/cards/(\d+)/", made.headers["location"]))
    teacher.get(f"/lessons/{lesson_id}/")
    assert teacher.post(f"/lessons/{lesson_id}/send/", {"cards": str(card_id), "to": "class"}).status_code == 302


def on_screen(locator: Any) -> dict[str, float]:
    """The element's box, asserted to lie wholly inside the 1024×768 viewport (no scrolling)."""
    box = locator.bounding_box()
    assert box is not None, "not rendered"
    assert box["x"] >= 0 and box["y"] >= 0, box
    assert box["x"] + box["width"] <= VIEWPORT["width"] and box["y"] + box["height"] <= VIEWPORT["height"], box
    return box  # type: ignore[no-any-return]


def test_a_pupil_types_japanese_onto_a_venn_card_and_submits_it(tmp_path: Path) -> None:
    need_chromium()
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with running(tmp_path / "home", "--demo") as server, sync_playwright() as playwright:
        teacher = signed_in(server, "teacher")
        _class_id, lesson_id = open_lesson(teacher, "なかまわけ")
        send_card(teacher, lesson_id, kind="drawing", background="venn", title="ねことさかな")
        send_card(teacher, lesson_id, kind="text", title="ふりかえり")
        send_card(teacher, lesson_id, kind="drawing", title="えをかこう")
        assert teacher.post(f"/lessons/{lesson_id}/boxes/", {"title": "ベン図"}).status_code == 302
        assert teacher.post(f"/lessons/{lesson_id}/boxes/", {"title": "ふりかえり"}).status_code == 302
        boxes = teacher.client.get(f"/api/lessons/{lesson_id}").json()["boxes"]
        box_id = next(box["id"] for box in boxes if box["title"] == "ベン図")

        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        context = browser.new_context(viewport=VIEWPORT, locale="ja-JP")
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        login, password = server.login_of("student")
        code, number = login.split(" / ")
        page.goto(f"{server.url}/login/student/")
        page.fill("input[name=school_code]", code)
        page.fill("input[name=student_number]", number)
        page.fill("input[name=password]", password)
        page.click("main button[type=submit]")

        # The Venn card, opened from the lesson.
        page.goto(f"{server.url}/lessons/{lesson_id}/")
        page.click("[data-inbox] .card-tile:has-text('ねことさかな')")
        page.wait_for_selector("form[data-card-editor][data-ready]")
        card_url = page.url
        page.screenshot(path=str(ARTIFACTS / "00-venn-opened.png"))
        expect(page.locator("h1")).to_be_visible()
        submit = page.locator(f"form[action$='/boxes/{box_id}/submit/'] button[type=submit]")
        on_screen(submit)
        on_screen(page.locator("[data-save-state]"))
        surface = page.locator("[data-surface]")
        card = on_screen(surface)
        assert card["width"] >= 560, card  # the card is as large as the screen allows
        for button in page.locator("#drawing-toolbar button:visible").all():
            size = on_screen(button)
            assert size["width"] >= 44 and size["height"] >= 44, (button.get_attribute("data-tool"), size)

        # The Text tool, then a tap inside the left circle (centre 330, 375 on the 1000×750 card).
        page.get_by_role("button", name="テキスト", exact=True).click()
        page.mouse.click(card["x"] + card["width"] * 0.20, card["y"] + card["height"] * 0.45)
        text = page.locator(".surface-item textarea")
        expect(text).to_have_count(1)
        expect(text).to_be_focused()
        # Japanese through the IME path: a composition, then its commit.
        cdp = context.new_cdp_session(page)
        cdp.send("Input.imeSetComposition", {"text": "ねこ", "selectionStart": 2, "selectionEnd": 2})
        cdp.send("Input.insertText", {"text": "ねこはさかながすき"})
        expect(text).to_have_value("ねこはさかながすき")
        expect(page.locator("[data-save-state]")).to_have_attribute("data-state", "saved")
        on_screen(submit)
        page.screenshot(path=str(ARTIFACTS / "01-venn-text-box.png"))

        # A sticky in the right circle, with the keyboard alone: Tab reaches the Sticky button.
        page.locator(".card-crumbs a").focus()
        for _ in range(12):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.dataset.tool") == "sticky":
                break
        assert page.evaluate("document.activeElement.dataset.tool") == "sticky", "Tab does not reach the tools"
        page.keyboard.press("Enter")
        sticky = page.locator(".surface-item.is-sticky textarea")
        expect(sticky).to_be_focused()
        page.keyboard.insert_text("ふしぎ")
        page.keyboard.press("Escape")  # selects the box: the arrow keys move it
        expect(page.locator(".surface-item.is-sticky .item-grip")).to_be_focused()
        before = page.locator(".surface-item.is-sticky").bounding_box()
        for _ in range(40):
            page.keyboard.press("ArrowRight")
        for _ in range(20):
            page.keyboard.press("ArrowDown")
        after = page.locator(".surface-item.is-sticky").bounding_box()
        assert before is not None and after is not None
        assert after["x"] > before["x"] + 100 and after["y"] > before["y"] + 50, (before, after)
        expect(page.locator("[data-save-state]")).to_have_attribute("data-state", "saved")
        page.screenshot(path=str(ARTIFACTS / "02-venn-text-box-and-sticky.png"))

        # Submitted without scrolling; the reload shows the boxes where they were.
        assert page.evaluate("window.scrollY") == 0
        submit.click()
        page.wait_for_url(f"{server.url}/lessons/{lesson_id}/")
        page.goto(card_url)
        page.wait_for_selector("form[data-card-editor][data-ready]")
        expect(page.locator(".surface-item.is-text textarea")).to_have_value("ねこはさかながすき")
        expect(page.locator(".surface-item.is-sticky textarea")).to_have_value("ふしぎ")
        card = on_screen(surface)
        box = page.locator(".surface-item.is-text").bounding_box()
        assert box is not None
        left = (box["x"] - card["x"]) * 1000 / card["width"]
        top = (box["y"] - card["y"]) * 750 / card["height"]
        assert 100 < left < 300 and 250 < top < 400, (left, top)  # in the left circle, as placed

        # The teacher's copy: the stored items, and the picture that shows them.
        submissions = teacher.client.get(f"/api/boxes/{box_id}/submissions").json()
        assert len(submissions) == 1, submissions
        submitted = teacher.client.get(f"/api/cards/{submissions[0]['card']['id']}").json()
        kinds = {item["k"]: item for item in submitted["items"]}
        assert kinds["text"]["t"] == "ねこはさかながすき" and kinds["sticky"]["t"] == "ふしぎ", submitted["items"]
        assert 150 <= kinds["text"]["x"] <= 250 and 280 <= kinds["text"]["y"] <= 360, kinds["text"]
        assert "ねこはさかながすき" in submitted["text"]  # excerpts and search read the items' text
        picture = fetch_picture(teacher, f"/cards/{submitted['id']}/image/")
        plain = background_image("venn").convert("RGB")
        inside = (kinds["text"]["x"], kinds["text"]["y"], kinds["text"]["x"] + 200, kinds["text"]["y"] + 40)
        changed = ImageChops.difference(picture.crop(inside), plain.crop(inside)).convert("L").point(lambda v: v > 60)
        assert sum(changed.getdata()) > 200, "the text box is not in the teacher's picture"
        picture.save(ARTIFACTS / "03-teacher-picture.png")

        # The other cards fit the screen too: a text card is its text, with no drawing area.
        page.goto(f"{server.url}/lessons/{lesson_id}/")
        page.click("[data-inbox] .card-tile:has-text('ふりかえり')")
        page.wait_for_selector("form[data-card-editor][data-ready]")
        expect(page.locator("canvas")).to_have_count(0)
        text_box = on_screen(page.locator("#card-text"))
        assert text_box["height"] >= 300, text_box
        page.fill("#card-text", "きょうは ベン図で なかまわけを しました。")
        on_screen(page.locator("form[data-flush-before-submit] button[type=submit]").first)
        page.screenshot(path=str(ARTIFACTS / "04-text-card.png"))
        page.goto(f"{server.url}/lessons/{lesson_id}/")
        page.click("[data-inbox] .card-tile:has-text('えをかこう')")
        page.wait_for_selector("form[data-card-editor][data-ready]")
        on_screen(page.locator("[data-surface]"))
        on_screen(page.locator("form[data-flush-before-submit] button[type=submit]").first)
        page.screenshot(path=str(ARTIFACTS / "05-drawing-card.png"))
        assert not errors, errors
        browser.close()


def fetch_picture(client: Any, path: str) -> Image.Image:
    """The PNG at PATH once rendered (the first answers may be the 4×3 placeholder, 202)."""
    found: list[bytes] = []

    def rendered() -> bool:
        response = client.client.get(path)
        if response.status_code == 200:
            found.append(response.content)
            return True
        time.sleep(0.3)
        return False

    wait_until(rendered, 60, f"{path} was not rendered")
    return Image.open(io.BytesIO(found[0])).convert("RGB")
