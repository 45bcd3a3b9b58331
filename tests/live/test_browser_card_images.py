"""Pictures on the card's surface at 1024×768, in Japanese (issue 14, defect 4): a pupil opens a
drawing card from a lesson, presses 画像, chooses a picture (a PNG made here), it is uploaded and
appears in the middle of the card; the arrow keys move it and make it bigger, the pen draws over it,
a reload shows it where it was, the card is submitted and the teacher's picture of the submission
shows it. Screenshots go to test-artifacts/card-images/."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.live.server import ROOT, running
from tests.live.test_browser_card_surface import VIEWPORT, fetch_picture, on_screen, send_card
from tests.live.test_browser_lesson import ARGS, CHROMIUM, need_chromium
from tests.live.test_realtime import open_lesson, signed_in

pytestmark = [pytest.mark.slow, pytest.mark.browser]
ARTIFACTS = ROOT / "test-artifacts" / "card-images"
RED = (220, 30, 30)


def red_png(path: Path) -> Path:
    out = io.BytesIO()
    Image.new("RGB", (160, 120), RED).save(out, "PNG")
    path.write_bytes(out.getvalue())
    return path


def is_red(pixel: Any) -> bool:
    return bool(abs(pixel[0] - RED[0]) < 30 and abs(pixel[1] - RED[1]) < 30 and abs(pixel[2] - RED[2]) < 30)


def test_a_pupil_puts_a_picture_on_a_card_and_the_teacher_sees_it(tmp_path: Path) -> None:
    need_chromium()
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    picture_file = red_png(tmp_path / "あか.png")
    with running_lesson(tmp_path) as (server, teacher, lesson_id, box_id), sync_playwright() as playwright:
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

        page.goto(f"{server.url}/lessons/{lesson_id}/")
        page.click("[data-inbox] .card-tile:has-text('しゃしんをはろう')")
        page.wait_for_selector("form[data-card-editor][data-ready]")
        card_url = page.url
        button = page.get_by_role("button", name="画像", exact=True)
        size = on_screen(button)
        assert size["width"] >= 44 and size["height"] >= 44, size
        for tool in page.locator("#drawing-toolbar button:visible").all():
            on_screen(tool)

        # 画像 opens the file chooser; the picture is uploaded and placed in the middle.
        with page.expect_file_chooser() as chooser:
            button.click()
        chooser.value.set_files(str(picture_file))
        frame = page.locator(".surface-item.is-image")
        expect(frame).to_have_count(1)
        expect(page.locator("[data-save-state]")).to_have_attribute("data-state", "saved")
        surface = on_screen(page.locator("[data-surface]"))
        canvas = page.locator("canvas[data-drawing]")

        def canvas_pixel(x: float, y: float) -> Any:
            """The canvas's pixel at logical (x, y) on the 1000×750 card."""
            shot = Image.open(io.BytesIO(canvas.screenshot())).convert("RGB")
            return shot.getpixel((int(x * shot.width / 1000), int(y * shot.height / 750)))

        page.wait_for_function(
            "() => { const c = document.querySelector('canvas[data-drawing]'); const x = c.getContext('2d');"
            " const d = x.getImageData(c.width / 2, c.height / 2, 1, 1).data; return d[0] > 180 && d[1] < 80; }"
        )
        assert is_red(canvas_pixel(500, 375)), canvas_pixel(500, 375)  # drawn on the card, in the middle
        assert not is_red(canvas_pixel(100, 100))
        page.screenshot(path=str(ARTIFACTS / "00-picture-placed.png"))

        # The keyboard: the grip moves it, the corner handle makes it bigger.
        grip = frame.locator(".item-grip")
        expect(grip).to_be_focused()
        before = frame.bounding_box()
        for _ in range(10):
            page.keyboard.press("ArrowLeft")
        handle = frame.locator(".item-resize")
        handle.focus()
        for _ in range(5):
            page.keyboard.press("ArrowRight")
        after = frame.bounding_box()
        assert before is not None and after is not None
        assert after["x"] < before["x"] - 50, (before, after)
        assert after["width"] > before["width"] + 20 and after["height"] > before["height"] + 10, (before, after)
        expect(page.locator("[data-save-state]")).to_have_attribute("data-state", "saved")

        # The pen draws over the picture: a stroke across it.
        box = canvas.bounding_box()
        assert box is not None
        y = box["y"] + box["height"] / 2
        page.mouse.move(box["x"] + box["width"] * 0.30, y)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.60, y, steps=8)
        page.mouse.up()
        expect(page.locator("[data-save-state]")).to_have_attribute("data-state", "saved")
        assert not is_red(canvas_pixel(450, 375)), "the pen does not draw over the picture"
        page.screenshot(path=str(ARTIFACTS / "01-moved-resized-drawn-over.png"))

        # A reload shows it where it was.
        page.goto(card_url)
        page.wait_for_selector("form[data-card-editor][data-ready]")
        expect(page.locator(".surface-item.is-image")).to_have_count(1)
        reloaded = page.locator(".surface-item.is-image").bounding_box()
        assert (
            reloaded is not None and abs(reloaded["x"] - after["x"]) < 3 and abs(reloaded["width"] - after["width"]) < 3
        )
        page.wait_for_function(
            "() => { const c = document.querySelector('canvas[data-drawing]'); const x = c.getContext('2d');"
            " const d = x.getImageData(c.width * 0.4, c.height * 0.4, 1, 1).data; return d[0] > 180 && d[1] < 80; }"
        )
        assert surface["width"] >= 560

        # A second picture, dragged by its corner handle to be larger, then removed with Delete.
        with page.expect_file_chooser() as chooser:
            button.click()
        chooser.value.set_files(str(picture_file))
        expect(page.locator(".surface-item.is-image")).to_have_count(2)
        second = page.locator(".surface-item.is-image").nth(1)
        small = second.bounding_box()
        corner = second.locator(".item-resize").bounding_box()
        assert small is not None and corner is not None
        page.mouse.move(corner["x"] + corner["width"] / 2, corner["y"] + corner["height"] / 2)
        page.mouse.down()
        page.mouse.move(corner["x"] + corner["width"] / 2 + 80, corner["y"] + corner["height"] / 2 + 60, steps=6)
        page.mouse.up()
        large = second.bounding_box()
        assert large is not None and large["width"] > small["width"] + 30, (small, large)
        second.locator(".item-grip").focus()
        page.keyboard.press("Delete")
        expect(page.locator(".surface-item.is-image")).to_have_count(1)
        expect(page.locator("[data-save-state]")).to_have_attribute("data-state", "saved")

        # Submitted; the teacher's picture of the submission shows it.
        submit = page.locator(f"form[action$='/boxes/{box_id}/submit/'] button[type=submit]")
        on_screen(submit)
        submit.click()
        page.wait_for_url(f"{server.url}/lessons/{lesson_id}/")
        submissions = teacher.client.get(f"/api/boxes/{box_id}/submissions").json()
        assert len(submissions) == 1, submissions
        submitted = teacher.client.get(f"/api/cards/{submissions[0]['card']['id']}").json()
        pictures = [item for item in submitted["items"] if item["k"] == "image"]
        assert len(pictures) == 1, submitted["items"]
        item = pictures[0]
        picture = fetch_picture(teacher, f"/cards/{submitted['id']}/image/")
        picture.save(ARTIFACTS / "02-teacher-picture.png")
        assert is_red(picture.getpixel((item["x"] + 10, item["y"] + 10))), picture.getpixel(
            (item["x"] + 10, item["y"] + 10)
        )
        assert not is_red(picture.getpixel((20, 20)))
        assert not is_red(picture.getpixel((450, 375))), "the stroke over the picture is missing"
        # The teacher may see the item's own picture, through the card (not the pupil's file itself).
        assert teacher.client.get(f"/cards/{submitted['id']}/items/{item['f']}/").status_code == 200
        assert teacher.client.get(f"/files/{item['f']}/").status_code == 404
        assert not errors, errors
        browser.close()


@contextmanager
def running_lesson(tmp_path: Path) -> Iterator[tuple[Any, Any, int, int]]:
    """A demo server with a lesson, a drawing card sent to the class and a submission box."""
    with running(tmp_path / "home", "--demo") as server:
        teacher = signed_in(server, "teacher")
        _class_id, lesson_id = open_lesson(teacher, "しゃしん")
        send_card(teacher, lesson_id, kind="drawing", title="しゃしんをはろう")
        assert teacher.post(f"/lessons/{lesson_id}/boxes/", {"title": "しゃしん"}).status_code == 302
        boxes = teacher.client.get(f"/api/lessons/{lesson_id}").json()["boxes"]
        box_id = next(box["id"] for box in boxes if box["title"] == "しゃしん")
        yield server, teacher, lesson_id, box_id
