"""In-app capture in a real browser (Playwright driving Debian's chromium with its fake camera and
microphone, at 1024×768, the pupil in Japanese): on the lesson page a pupil takes a photo into a new
card, records two seconds of sound into another and a short video into a third. The cards exist;
what was stored is checked by its bytes (a JPEG, WebM recordings with a sound or a picture track);
the card pages show an <img>, an <audio> and a <video> that the browser can play. Without a
camera, the form's file input takes over. Screenshots go to test-artifacts/capture/."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from classnote.files import validation
from tests.live.server import ROOT, running, wait_until
from tests.live.test_browser_lesson import ARGS, CHROMIUM, need_chromium
from tests.live.test_realtime import open_lesson, signed_in

pytestmark = [pytest.mark.slow, pytest.mark.browser]
ARTIFACTS = ROOT / "test-artifacts" / "capture"
# Chromium's stand-ins for a camera and a microphone (a moving test picture, a beeping tone), and
# permission granted without asking: only for this test.
FAKE_MEDIA = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]


def test_a_pupil_takes_a_photo_and_records_sound_into_cards(tmp_path: Path) -> None:
    need_chromium()
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with running(tmp_path / "home", "--demo") as server, sync_playwright() as playwright:
        teacher = signed_in(server, "teacher")
        _class_id, lesson_id = open_lesson(teacher, "朝顔の観察")

        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=[*ARGS, *FAKE_MEDIA])
        context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="ja-JP")
        context.grant_permissions(["camera", "microphone"], origin=server.url)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

        login, password = server.login_of("student")
        code, number = login.split(" / ")
        page.goto(f"{server.url}/login/student/")
        page.fill("input[name=school_code]", code)
        page.fill("input[name=student_number]", number)
        page.fill("input[name=password]", password)
        page.click("main button[type=submit]")
        lesson_url = f"{server.url}/lessons/{lesson_id}/"
        page.goto(lesson_url)

        photo_button = page.get_by_role("button", name="写真を撮る")
        sound_button = page.get_by_role("button", name="録音する")
        video_button = page.get_by_role("button", name="動画を撮る")
        for button in (photo_button, sound_button, video_button):
            expect(button).to_be_visible()
            box = button.bounding_box()
            assert box is not None and box["height"] >= 44 and box["x"] + box["width"] <= 1024, box
        page.screenshot(path=str(ARTIFACTS / "01-lesson-capture-buttons.png"))

        # A photo: the live picture, "撮る", check it, a title, "これを使う".
        photo_button.click()
        dialog = page.locator("[data-capture-dialog]")
        expect(dialog).to_be_visible()
        expect(dialog.locator("h2")).to_have_text("写真を撮る")
        # Polled from here (page.evaluate is not subject to the page's CSP; wait_for_function is).
        wait_until(
            lambda: page.evaluate("document.querySelector('[data-capture-live]').videoWidth > 0"),
            15,
            "the camera's picture never came",
        )
        shoot = dialog.get_by_role("button", name="撮る", exact=True)
        expect(shoot).to_be_focused()  # keyboard users start right there
        box = dialog.bounding_box()
        assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 768, box
        page.screenshot(path=str(ARTIFACTS / "02-photo-dialog-live.png"))
        shoot.click()
        expect(dialog.locator("[data-capture-result] img")).to_be_visible()
        dialog.get_by_label("題名").fill("朝顔の写真")
        page.screenshot(path=str(ARTIFACTS / "03-photo-dialog-taken.png"))
        dialog.get_by_role("button", name="これを使う").click()
        page.wait_for_url(re.compile(r"/cards/\d+/$"))
        photo_card_url = page.url
        image = page.locator("img.card-image")
        expect(image).to_be_visible()
        wait_until(lambda: page.evaluate("document.querySelector('img.card-image').naturalWidth > 0"), 15, "no picture")
        expect(page.locator("#card-title")).to_have_value("朝顔の写真")
        page.screenshot(path=str(ARTIFACTS / "04-photo-card.png"))
        photo_src = image.get_attribute("src")
        assert photo_src and photo_src.startswith("/files/")

        # Two seconds of sound: "スタート", the timer runs, "ストップ", "これを使う".
        page.goto(lesson_url)
        sound_button.click()
        expect(dialog.locator("h2")).to_have_text("録音する")
        start = dialog.get_by_role("button", name="スタート")
        expect(start).to_be_focused()
        start.press("Enter")  # the keyboard works as well as a tap
        timer = dialog.locator("[data-capture-timer]")
        expect(timer).to_be_visible()
        expect(timer).to_contain_text("0:02", timeout=15_000)
        page.screenshot(path=str(ARTIFACTS / "05-sound-dialog-recording.png"))
        dialog.get_by_role("button", name="ストップ").click()
        expect(dialog.locator("[data-capture-result] audio")).to_be_visible()
        dialog.get_by_label("題名").fill("朝顔の説明")
        page.screenshot(path=str(ARTIFACTS / "06-sound-dialog-recorded.png"))
        dialog.get_by_role("button", name="これを使う").click()
        page.wait_for_url(re.compile(r"/cards/\d+/$"))
        assert page.url != photo_card_url
        audio = page.locator("audio[controls]")
        expect(audio).to_have_count(1)
        expect(audio).to_have_attribute("aria-label", "朝顔の説明")
        # The browser can read the stored recording (served with byte ranges).
        wait_until(
            lambda: page.evaluate("document.querySelector('audio[controls]').readyState >= 1"),
            15,
            "the browser could not read the stored recording",
        )
        page.screenshot(path=str(ARTIFACTS / "07-sound-card.png"))
        audio_src = audio.get_attribute("src")
        assert audio_src and audio_src.startswith("/files/")

        # What was stored, judged by its bytes.
        photo = page.request.get(f"{server.url}{photo_src}").body()
        assert photo.startswith(b"\xff\xd8\xff") and b"Exif" not in photo[:4096]
        assert validation.identify(io.BytesIO(photo)).content_type == "image/jpeg"
        sound = page.request.get(f"{server.url}{audio_src}")
        assert sound.headers["content-type"] == "audio/webm"
        assert sound.headers["x-content-type-options"] == "nosniff"
        detected = validation.identify(io.BytesIO(sound.body()))
        assert (detected.kind, detected.content_type) == ("audio", "audio/webm")

        # A short video: the same recorder with the camera's picture; the card page has a <video>.
        page.goto(lesson_url)
        video_button.click()
        expect(dialog.locator("h2")).to_have_text("動画を撮る")
        wait_until(
            lambda: page.evaluate("document.querySelector('[data-capture-live]').videoWidth > 0"),
            15,
            "the camera's picture never came",
        )
        dialog.get_by_role("button", name="スタート").click()
        expect(timer).to_contain_text("0:01", timeout=15_000)
        expect(timer).to_contain_text("/ 1:00")  # VIDEO_MAX_SECONDS
        page.screenshot(path=str(ARTIFACTS / "07b-video-dialog-recording.png"))
        dialog.get_by_role("button", name="ストップ").click()
        expect(dialog.locator("[data-capture-result] video")).to_be_visible()
        dialog.get_by_label("題名").fill("朝顔のつる")
        dialog.get_by_role("button", name="これを使う").click()
        page.wait_for_url(re.compile(r"/cards/\d+/$"))
        video = page.locator("video[controls]")
        expect(video).to_have_attribute("aria-label", "朝顔のつる")
        wait_until(
            lambda: page.evaluate("document.querySelector('video[controls]').readyState >= 1"),
            15,
            "the browser could not read the stored video",
        )
        page.screenshot(path=str(ARTIFACTS / "07c-video-card.png"))
        video_src = video.get_attribute("src")
        assert video_src
        clip = validation.identify(io.BytesIO(page.request.get(f"{server.url}{video_src}").body()))
        assert (clip.kind, clip.content_type) == ("video", "video/webm")

        # The cards are in the lesson.
        page.goto(lesson_url)
        tiles = page.locator("[data-inbox] .card-tile")
        expect(tiles.filter(has_text="朝顔の写真")).to_have_count(1)
        expect(tiles.filter(has_text="朝顔の説明")).to_have_count(1)
        expect(tiles.filter(has_text="朝顔のつる")).to_have_count(1)
        page.screenshot(path=str(ARTIFACTS / "08-lesson-with-both-cards.png"))
        assert not errors, errors

        # No camera or no permission: a message, and the form's file input that opens the camera on
        # a tablet (accept="image/*" capture="environment").
        page.add_init_script(
            "navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('no', 'NotAllowedError'));"
        )
        page.goto(lesson_url)
        photo_button.click()
        message = page.locator("[data-capture-fallback-message]")
        expect(message).to_be_visible()
        expect(message).to_contain_text("カメラやマイクが使えません")
        expect(dialog).to_be_hidden()
        upload = page.locator("form[action='/cards/'] input[name=upload]")
        expect(upload).to_be_visible()
        expect(upload).to_be_focused()
        expect(upload).to_have_attribute("accept", "image/*")
        expect(upload).to_have_attribute("capture", "environment")
        page.screenshot(path=str(ARTIFACTS / "09-no-camera-fallback.png"))
        browser.close()
