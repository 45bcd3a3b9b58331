"""Furigana on a grade-1 pupil's pages in a real browser (Playwright driving Debian's chromium at
1024×768, in Japanese): readings over the interface's kanji, not over what the teacher wrote, and
the buttons keep their size and the page its width. The pupil submits, the teacher returns the work
with a mark (the tile's Return form), the pupil sees the mark on the lesson page and in the
portfolio. Screenshots go to test-artifacts/furigana/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.live.server import ROOT, running, server_env, wait_until
from tests.live.test_browser_lesson import ARGS, CHROMIUM, need_chromium

pytestmark = [pytest.mark.slow, pytest.mark.browser]
ARTIFACTS = ROOT / "test-artifacts" / "furigana"

# Run inside the server's CLASSNOTE_HOME: furigana up to grade 2 at the pupil's school, their class
# in grade 1, and a lesson with a card from the teacher and a submission box.
SETUP = """
import sys
from classnote.accounts.models import User
from classnote.cards.actions import create_card
from classnote.lessons import actions
from classnote.tenancy.models import Membership
code, number = sys.argv[1:3]
pupil = User.objects.get(username=f"{code}/{number}".lower())
membership = Membership.objects.filter(user=pupil, role="student").select_related("school_class__school").first()
school_class = membership.school_class
school_class.grade = 1
school_class.save()
school_class.school.furigana_up_to_grade = 2
school_class.school.save()
teacher = Membership.objects.filter(school_class=school_class, role="teacher").first().user
lesson = actions.open_lesson(teacher, school_class.pk, "こくご 提出の練習")
card = create_card(teacher, kind="text", lesson_id=lesson.pk, title="先生のカード", text="先生に提出しましょう")
actions.send_cards(teacher, lesson.pk, [card.pk])
actions.create_box(teacher, lesson.pk, "きょうの提出")
print(lesson.pk, school_class.pk)
"""


def test_a_grade_one_pupil_reads_with_furigana(tmp_path: Path) -> None:
    need_chromium()
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with running(tmp_path / "home", "--demo") as server, sync_playwright() as playwright:
        login, password = server.login_of("student")
        code, number = login.split(" / ")
        made = subprocess.run(
            [sys.executable, "-m", "classnote", "shell", "-c", SETUP.replace("sys.argv[1:3]", f"{[code, number]!r}")],
            env=server_env(server.home),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        lesson_id, class_id = (int(part) for part in made.stdout.strip().splitlines()[-1].split())

        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_context(viewport={"width": 1024, "height": 768}, locale="ja-JP").new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{server.url}/login/student/")
        page.fill("input[name=school_code]", code)
        page.fill("input[name=student_number]", number)
        page.fill("input[name=password]", password)
        page.click("main button[type=submit]")

        page.goto(f"{server.url}/home/")
        expect(page.locator("main ruby").first).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 1024
        page.screenshot(path=str(ARTIFACTS / "01-home.png"), full_page=True)

        page.goto(f"{server.url}/lessons/{lesson_id}/")
        submit = page.locator("form.submit-form button[type=submit]")
        expect(submit.locator("ruby rt")).to_have_text("ていしゅつ")
        box = submit.bounding_box()
        assert box is not None and box["height"] >= 44, box
        # The teacher's card and the lesson's title are shown as written.
        expect(page.locator(".card-tile .excerpt").first).to_have_text("先生に提出しましょう")
        assert page.locator("h1 ruby").count() == 0
        assert page.locator(".card-tile ruby").count() == 0
        assert page.evaluate("document.documentElement.scrollWidth") <= 1024
        page.screenshot(path=str(ARTIFACTS / "02-lesson.png"), full_page=True)
        (ARTIFACTS / "lesson-page.html").write_text(page.content(), encoding="utf-8")

        # The pupil submits; the teacher returns it with a mark from the tile's Return form.
        submit.click()
        page.wait_for_load_state()
        teacher_login, teacher_password = server.login_of("teacher")
        staff = browser.new_context(viewport={"width": 1024, "height": 768}, locale="ja-JP").new_page()
        staff.goto(f"{server.url}/accounts/login/")
        staff.fill("input[name=login]", teacher_login)
        staff.fill("input[name=password]", teacher_password)
        staff.click("main button[type=submit]")
        staff.goto(f"{server.url}/lessons/{lesson_id}/")
        tile = staff.locator("article.submission-tile[data-submission]").first
        tile.locator("summary").click()
        tile.locator("textarea[name=comment]").fill("ていねいに書けました")
        tile.locator("select[name=mark]").select_option("◎")
        staff.screenshot(path=str(ARTIFACTS / "03-teacher-return-with-mark.png"))
        assert staff.evaluate("document.documentElement.scrollWidth") <= 1024
        tile.locator("button[type=submit]").click()

        def returned() -> bool:
            page.goto(f"{server.url}/lessons/{lesson_id}/")
            return page.locator(".returned .return-mark").count() > 0

        wait_until(returned, 20, "the pupil's lesson page shows the returned mark")
        expect(page.locator(".returned .return-mark")).to_have_text("◎ よくできました")
        page.screenshot(path=str(ARTIFACTS / "04-lesson-returned.png"), full_page=True)
        page.goto(f"{server.url}/portfolio/")
        expect(page.locator(".portfolio-lesson .return-mark")).to_have_text("◎ よくできました")
        expect(page.locator("select[name=year]")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 1024
        page.screenshot(path=str(ARTIFACTS / "05-portfolio.png"), full_page=True)

        # The class teacher's page of the pupils' portfolios (no furigana for staff).
        staff.goto(f"{server.url}/classes/{class_id}/portfolios/")
        expect(staff.locator("a[href*='/portfolios.zip']")).to_be_visible()
        assert staff.locator("ruby").count() == 0
        assert staff.evaluate("document.documentElement.scrollWidth") <= 1024
        staff.screenshot(path=str(ARTIFACTS / "06-teacher-class-portfolios.png"))
        assert not errors, errors
        browser.close()
