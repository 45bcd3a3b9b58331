"""Issue 14, defect 6, in a real browser (Playwright driving Debian's chromium, ja-JP, 1024×768): a
first-grader logs in with a picture password.

The school's default gives grade 1 picture passwords. A teacher prints the QR login cards of a
grade-1 class with new passwords: each card shows the pupil's four pictures with their names. The
pupil taps those pictures on the student login page (with the mouse, and with the keyboard alone:
Tab and Enter) and is in; a wrong sequence gets the translated error on the page, not a 500.
Screenshots go to test-artifacts/picture-login/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.live.server import ROOT, running
from tests.live.test_browser_lesson import ARGS, CHROMIUM, need_chromium
from tests.live.test_realtime import run_action

pytestmark = [pytest.mark.slow, pytest.mark.browser]
ARTIFACTS = ROOT / "test-artifacts" / "picture-login"
VIEWPORT = {"width": 1024, "height": 768}
PICTURES = ("apple", "sun", "moon", "star", "fish", "cat", "tree", "car", "flower", "house", "umbrella", "boat")
NOT_RIGHT_JA = "学校コード、児童生徒ID、パスワードのいずれかが正しくありません。"


def test_a_first_grader_logs_in_by_tapping_the_pictures_on_their_card(tmp_path: Path) -> None:
    need_chromium()
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with running(tmp_path / "home", "--demo") as server, sync_playwright() as playwright:
        login, password = server.login_of("teacher")
        run_action(
            server,
            "from classnote.accounts.actions import create_student; from classnote.accounts.models import User; "
            "from classnote.tenancy.models import Membership, SchoolClass; "
            f"t = User.objects.get(username={login!r}); "
            "c = SchoolClass.objects.create(school=t.school, name='1年1組', school_year=2026, grade=1); "
            "Membership.objects.create(school_class=c, user=t, role='teacher'); "
            "admin = User.objects.filter(role='school_admin', school=t.school).first(); "
            "[Membership.objects.create(school_class=c, user=create_student(admin, t.school, "
            "display_name=f'一年 はなこ{i}', student_number=f'p00{i}', grade=1)[0], role='student') "
            "for i in (1, 2, 3)]",
        )
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        errors: list[str] = []

        def new_page(refused: bool = False) -> object:
            page = browser.new_context(viewport=VIEWPORT, locale="ja-JP").new_page()
            page.on("pageerror", lambda error: errors.append(str(error)))
            # A refused login answers 400 by design; the browser reports that on its console.
            page.on(
                "console",
                lambda m: errors.append(m.text) if m.type == "error" and not (refused and "400" in m.text) else None,
            )
            return page

        # The teacher prints the class's cards with new passwords.
        teacher = new_page()
        teacher.goto(f"{server.url}/accounts/login/")  # type: ignore[attr-defined]
        teacher.fill("input[name=login]", login)  # type: ignore[attr-defined]
        teacher.fill("input[name=password]", password)  # type: ignore[attr-defined]
        teacher.click("main button[type=submit]")  # type: ignore[attr-defined]
        teacher.wait_for_url(re.compile(r"/home/"))  # type: ignore[attr-defined]
        href = teacher.locator("a[href^='/classes/']", has_text="1年1組").first.get_attribute("href")  # type: ignore[attr-defined]
        class_id = re.findall(r"/classes/(\d+)/", href or "")[0]
        teacher.goto(f"{server.url}/classes/{class_id}/login-cards/")  # type: ignore[attr-defined]
        teacher.check("input[name=new_passwords]")  # type: ignore[attr-defined]
        teacher.screenshot(path=str(ARTIFACTS / "01-cards-confirm-ja.png"), full_page=True)  # type: ignore[attr-defined]
        teacher.click("main form button[type=submit]")  # type: ignore[attr-defined]
        teacher.wait_for_selector(".login-cards")  # type: ignore[attr-defined]
        assert teacher.locator("html").get_attribute("lang") == "ja"  # type: ignore[attr-defined]
        teacher.screenshot(path=str(ARTIFACTS / "02-cards-ja.png"), full_page=True)  # type: ignore[attr-defined]
        teacher.emulate_media(media="print")  # type: ignore[attr-defined]
        teacher.screenshot(path=str(ARTIFACTS / "03-cards-print-ja.png"), full_page=True)  # type: ignore[attr-defined]
        cards = teacher.locator(".login-card")  # type: ignore[attr-defined]
        assert cards.count() == 3
        printed: dict[str, list[str]] = {}
        for index in range(3):
            card = cards.nth(index)
            number = card.locator("p code").nth(1).inner_text()
            sources = card.locator(".picture-password-item img").evaluate_all("els => els.map(e => e.src)")
            keys = [re.search(r"/pictures/(\w+)\.svg", src).group(1) for src in sources]  # type: ignore[union-attr]
            assert len(keys) == 4 and set(keys) <= set(PICTURES), keys
            names = card.locator(".picture-password-item small").all_inner_texts()
            assert not set(names) & set(PICTURES), names  # the names printed in Japanese
            printed[number] = keys
            # Every picture is drawn (an image that failed to load has no natural width).
            assert card.locator(".picture-password-item img").evaluate_all(
                "els => els.every(e => e.complete && e.naturalWidth > 0)"
            )
        school_code = cards.nth(0).locator("p code").nth(0).inner_text()

        # Pupil 1 taps the four pictures with the mouse (touch).
        pupil = new_page()
        pupil.goto(f"{server.url}/login/student/")  # type: ignore[attr-defined]
        assert pupil.locator("html").get_attribute("lang") == "ja"  # type: ignore[attr-defined]
        pad = pupil.locator("[data-picture-pad]")  # type: ignore[attr-defined]
        expect(pad).to_be_visible()
        assert pad.locator("[data-picture]").count() == 12
        for box in pad.locator("[data-picture]").evaluate_all(
            "els => els.map(e => { const r = e.getBoundingClientRect(); return [r.width, r.height, r.bottom]; })"
        ):
            assert box[0] >= 44 and box[1] >= 44, box  # touch targets
            assert box[2] <= VIEWPORT["height"], box  # the pad fits the iPad screen without scrolling
        pupil.screenshot(path=str(ARTIFACTS / "04-login-ja.png"))  # type: ignore[attr-defined]
        pupil.fill("input[name=school_code]", school_code)  # type: ignore[attr-defined]
        pupil.fill("input[name=student_number]", "p001")  # type: ignore[attr-defined]
        for key in printed["p001"]:
            pad.locator(f"[data-picture={key}]").click()
        expect(pupil.locator("[data-picture-count]")).to_contain_text("4")  # type: ignore[attr-defined]
        pupil.screenshot(path=str(ARTIFACTS / "05-login-tapped-ja.png"))  # type: ignore[attr-defined]
        pupil.click("main button[type=submit]")  # type: ignore[attr-defined]
        pupil.wait_for_url(re.compile(r"/home/"))  # type: ignore[attr-defined]
        expect(pupil.locator("body")).to_contain_text("一年 はなこ1")  # type: ignore[attr-defined]

        # Pupil 2 uses the keyboard alone: Tab to the pictures, Enter on each.
        keyboard_pupil = new_page()
        keyboard_pupil.goto(f"{server.url}/login/student/")  # type: ignore[attr-defined]
        keyboard_pupil.fill("input[name=school_code]", school_code)  # type: ignore[attr-defined]
        keyboard_pupil.fill("input[name=student_number]", "p002")  # type: ignore[attr-defined]
        keyboard_pupil.focus("input[name=student_number]")  # type: ignore[attr-defined]
        keys = keyboard_pupil.keyboard  # type: ignore[attr-defined]
        focused = "document.activeElement.dataset.picture || document.activeElement.name || ''"
        while keyboard_pupil.evaluate(focused) != PICTURES[0]:  # type: ignore[attr-defined]
            keys.press("Tab")
        at = 0
        for key in printed["p002"]:
            target = PICTURES.index(key)
            while at != target:
                keys.press("Tab" if target > at else "Shift+Tab")
                at += 1 if target > at else -1
            assert keyboard_pupil.evaluate(focused) == key  # type: ignore[attr-defined]
            keys.press("Enter")
        while keyboard_pupil.evaluate(focused) != "password":  # type: ignore[attr-defined]
            keys.press("Shift+Tab")
        keys.press("Enter")  # submits the form
        keyboard_pupil.wait_for_url(re.compile(r"/home/"))  # type: ignore[attr-defined]

        # Pupil 3 taps a wrong sequence: the translated error, on the login page.
        wrong = [key for key in PICTURES if key not in printed["p003"]][:1] * 4
        mistaken = new_page(refused=True)
        mistaken.goto(f"{server.url}/login/student/")  # type: ignore[attr-defined]
        mistaken.fill("input[name=school_code]", school_code)  # type: ignore[attr-defined]
        mistaken.fill("input[name=student_number]", "p003")  # type: ignore[attr-defined]
        for key in wrong:
            mistaken.locator(f"[data-picture={key}]").click()  # type: ignore[attr-defined]
        mistaken.click("main button[type=submit]")  # type: ignore[attr-defined]
        expect(mistaken.locator(".errors[role=alert]")).to_contain_text(NOT_RIGHT_JA)  # type: ignore[attr-defined]
        assert "/login/student/" in mistaken.url  # type: ignore[attr-defined]
        expect(mistaken.locator("[data-picture-pad]")).to_be_visible()  # type: ignore[attr-defined]
        mistaken.screenshot(path=str(ARTIFACTS / "06-login-wrong-ja.png"))  # type: ignore[attr-defined]
        # "Start again" empties the password.
        mistaken.locator("[data-picture=sun]").click()  # type: ignore[attr-defined]
        mistaken.locator("[data-picture-clear]").click()  # type: ignore[attr-defined]
        assert mistaken.input_value("input[name=password]") == ""  # type: ignore[attr-defined]

        assert errors == [], errors
        browser.close()
