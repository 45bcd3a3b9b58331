"""Accessibility as a checked property: axe-core (vendored in tests/live/vendor/axe-core, never served
to users) runs in Debian's chromium at 1024×768 on the main pages as every role (anonymous, pupil,
teacher, school administrator, municipal administrator) in English, Japanese and Traditional
Chinese, and no serious or critical violation may remain (nor one of the held rules: a level-one
heading, one main landmark); the top bar's links, buttons and language menu are touch targets of at
least 44×44 px. Administrators enrol a second factor first, and that page is audited too. The
app's Content-Security-Policy forbids injected scripts, so these browser contexts bypass it (the
pages' own behaviour is tested elsewhere with the policy on). Screenshots of a few pages go to test-artifacts/axe/."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import struct
import time
from pathlib import Path
from typing import Any

import pytest

from tests.live.server import ROOT, running
from tests.live.test_browser_lesson import ARGS, CHROMIUM, need_chromium
from tests.live.test_browser_teacher_actions import pupil_answers

pytestmark = [pytest.mark.slow, pytest.mark.browser]
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts" / "axe"
LANGUAGES = ("en", "ja", "zh-hant")
BLOCKING = ("serious", "critical")
# Rules of lesser impact held all the same: every page has a level-one heading and one main landmark.
HELD = ("page-has-heading-one", "landmark-one-main")
VIEWPORT = {"width": 1024, "height": 768}
# The violations of one page, as short lines: rule, impact, what it says, and up to three elements.
RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ' :: ' + (n.failureSummary || '').replace(/\\s+/g, ' ')),
    count: v.nodes.length,
  }));
}"""
# Links, buttons and the language menu of the top bar must be touch targets of at least 44×44 px.
NAV_TARGETS = """() => Array.from(document.querySelectorAll('.topbar a, .topbar button, .topbar select'))
  .filter(e => e.offsetParent !== null)
  .map(e => { const r = e.getBoundingClientRect(); return [e.textContent.trim() || e.tagName, r.width, r.height]; })
  .filter(([, w, h]) => w < 44 || h < 44)"""


def totp_code(secret: str) -> str:
    """The current six-digit code of an authenticator app (RFC 6238, 30 s steps, SHA-1), computed here
    rather than with allauth's helpers, which read the test process's settings and clock."""
    digest = hmac.new(base64.b32decode(secret), struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


def test_no_serious_or_critical_axe_violation_on_the_main_pages(tmp_path: Path) -> None:
    need_chromium()
    from playwright.sync_api import Page, expect, sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    found: list[str] = []
    small_targets: list[str] = []
    audited: list[str] = []
    every: list[str] = []  # all violations, whatever their impact: test-artifacts/axe/violations.txt

    def audit(page: Page, who: str, language: str, path: str, shot: bool = False) -> None:
        page.goto(f"{server.url}{path}")
        page.wait_for_load_state("load")
        assert page.locator("html").get_attribute("lang") == language, (who, path, language)
        page.add_script_tag(path=str(AXE))
        violations: list[dict[str, Any]] = page.evaluate(RUN_AXE)
        audited.append(f"{who} {language} {path}")
        for violation in violations:
            every.append(f"{who} {language} {path}: {violation['id']} ({violation['impact']}, {violation['count']}×)")
            if violation["impact"] in BLOCKING or violation["id"] in HELD:
                nodes = "\n      ".join(violation["nodes"])
                found.append(
                    f"{who} {language} {path}: {violation['id']} ({violation['impact']}, {violation['count']}×) "
                    f"{violation['help']}\n      {nodes}"
                )
        for text, width, height in page.evaluate(NAV_TARGETS):
            small_targets.append(f"{who} {language} {path}: {text!r} {width:.0f}×{height:.0f}")
        if shot:
            name = path.strip("/").replace("/", "-") or "index"
            page.screenshot(path=str(ARTIFACTS / f"{who}-{language}-{name}.png"))

    def choose_language(page: Page, language: str) -> None:
        if page.locator("html").get_attribute("lang") == language:
            return
        with page.expect_navigation():
            page.select_option("#language-select", language)
        assert page.locator("html").get_attribute("lang") == language

    def local(url: str) -> str:
        return re.sub(r"^https?://[^/]+", "", url)

    with running(tmp_path / "home", "--demo") as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)

        def new_page() -> Page:
            return browser.new_context(viewport=VIEWPORT, locale="en-US", bypass_csp=True).new_page()

        def staff(role: str, where: str) -> Page:
            page = new_page()
            login, password = server.login_of(role, where)
            page.goto(f"{server.url}/accounts/login/")
            page.fill("input[name=login]", login)
            page.fill("input[name=password]", password)
            page.click("main button[type=submit]")
            page.wait_for_load_state("load")
            return page

        def enrol_second_factor(page: Page, who: str) -> None:
            """Administrators enrol an authenticator right after their first login (the page is audited too)."""
            assert "/accounts/2fa/totp/activate" in page.url, page.url
            audit(page, who, page.locator("html").get_attribute("lang") or "", local(page.url))
            secret = page.input_value("#authenticator_secret")
            page.fill("input[name=code]", totp_code(secret))
            page.click("main button[type=submit]")
            page.wait_for_load_state("load")
            page.goto(f"{server.url}/home/")
            assert local(page.url) == "/home/", page.url

        # The teacher sets up a lesson with a card and a submission box and sends the card.
        teacher = staff("teacher", "港小学校")
        teacher.click(".tiles a >> nth=0")
        class_path = local(teacher.url)
        teacher.fill("#lesson-title", "Fractions")
        teacher.click("form[action$='/lessons/'] button[type=submit]")
        lesson_path = local(teacher.url)
        teacher.click(".new-card > summary")
        teacher.fill(".new-card input[name=title]", "What is 1/2 + 1/4?")
        teacher.click(".new-card button[type=submit]")
        teacher.wait_for_selector("form[data-card-editor][data-ready]")
        teacher_card_path = local(teacher.url)
        teacher.goto(f"{server.url}{lesson_path}")
        teacher.fill("form.box-new input[name=title]", "Answers")
        teacher.click("form.box-new button[type=submit]")
        teacher.check("[data-send-form] input[name=cards] >> nth=0")
        teacher.click("[data-send-button]")

        pupil = new_page()
        login, password = server.login_of("student")
        code, number = login.split(" / ")
        pupil.goto(f"{server.url}/login/student/")
        pupil.fill("input[name=school_code]", code)
        pupil.fill("input[name=student_number]", number)
        pupil.fill("input[name=password]", password)
        pupil.click("main button[type=submit]")
        pupil.goto(f"{server.url}{lesson_path}")
        expect(pupil.locator("[data-inbox] .card-tile")).to_have_count(1)
        pupil.click("[data-inbox] .card-tile")
        pupil.wait_for_selector("form[data-card-editor][data-ready]")
        pupil_card_path = local(pupil.url)
        pupil.fill("#card-text", "1/2 = 2/4, so 2/4 + 1/4 = 3/4")
        pupil.click("form[data-flush-before-submit] button[type=submit]")
        expect(pupil.locator(".history")).to_contain_text("#1")  # the teacher's box now has a submission

        # A second pupil's answer (over HTTP), so that two can be compared on the projector.
        lesson_id = int(lesson_path.strip("/").split("/")[-1])
        teacher.goto(f"{server.url}{lesson_path}")
        box_id = int(teacher.locator("[data-box]").first.get_attribute("data-box") or 0)
        pupil_answers(server, 1, lesson_id, box_id)
        teacher.goto(f"{server.url}{lesson_path}")
        expect(teacher.locator("[data-submission-grid] [data-submission]")).to_have_count(2)
        chosen = "&".join(
            f"s={tile.get_attribute('data-submission')}"
            for tile in teacher.locator("[data-submission-grid] [data-submission]").all()
        )
        projector_path = f"/boxes/{box_id}/projector/"

        school_admin = staff("school admin", "港小学校")
        enrol_second_factor(school_admin, "school-admin")
        school_path = school_admin.locator("main a[href^='/schools/'] >> nth=0").get_attribute("href")
        municipal_admin = staff("municipal admin", "横浜市教育委員会")
        enrol_second_factor(municipal_admin, "municipal-admin")
        municipality_path = municipal_admin.locator("main a[href^='/municipalities/'] >> nth=0").get_attribute("href")
        assert school_path and municipality_path

        anonymous = new_page()
        anonymous.goto(f"{server.url}/")
        tours: list[tuple[str, Page, list[str]]] = [
            ("anonymous", anonymous, ["/", "/login/student/", "/accounts/login/", "/login/card/", "/privacy/"]),
            ("pupil", pupil, ["/home/", class_path, lesson_path, pupil_card_path, "/portfolio/"]),
            (
                "teacher",
                teacher,
                [
                    "/home/",
                    class_path,
                    lesson_path,
                    teacher_card_path,
                    f"{class_path}login-cards/",
                    "/materials/",
                    projector_path,  # the grid
                    f"{projector_path}?names=0#1",  # one submission, names left out
                    f"/boxes/{box_id}/compare/projector/?{chosen}",
                ],
            ),
            ("school-admin", school_admin, ["/home/", school_path, f"{school_path}roster/", "/audit/"]),
            ("municipal-admin", municipal_admin, ["/home/", municipality_path, "/audit/"]),
        ]
        for language in LANGUAGES:
            for who, page, paths in tours:
                page.goto(f"{server.url}{paths[0]}")
                choose_language(page, language)
                for path in paths:
                    audit(page, who, language, path, shot=language == "ja" and who != "anonymous")
        browser.close()

    (ARTIFACTS / "violations.txt").write_text("".join(f"{line}\n" for line in every), encoding="utf-8")
    assert len(audited) == 2 + 3 * sum(len(paths) for _, _, paths in tours)
    assert not found, f"{len(found)} axe violations (serious, critical, or of a held rule):\n" + "\n".join(found)
    assert not small_targets, "main navigation targets under 44 px:\n" + "\n".join(small_targets)
