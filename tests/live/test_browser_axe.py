"""Accessibility as a checked property: axe-core (vendored in tests/live/vendor/axe-core, never served
to users) runs in Debian's chromium at 1024×768 on the main pages as every role (anonymous, pupil,
teacher, school administrator, municipal administrator) in English, Japanese and Traditional
Chinese, and no serious or critical violation may remain (nor one of the held rules: a level-one
heading, one main landmark); every control of a page (links that are not a word in running text,
buttons, menus, fields, disclosure summaries; a tick box or radio button counts with its label) is
a touch target of at least 44×44 px; in the Japanese pass, Tab from the top of each page reaches
every control and each shows its focus, and nothing that looks clickable is out of the keyboard's
reach. Besides the main pages the tour covers the compare view, a card's presentation, the settings
and an error page. Administrators enrol a second factor first, and that page is audited too. The
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

pytestmark = [pytest.mark.slow, pytest.mark.browser]
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts" / "axe"
LANGUAGES = ("en", "ja", "zh-hant")
BLOCKING = ("serious", "critical")
# Rules of lesser impact held all the same: every page has a level-one heading and one main landmark.
HELD = ("page-has-heading-one", "landmark-one-main")
GONE = "/no-such-page/"  # the error page (404)
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
# Every control must be a touch target of at least 44×44 px (WCAG 2.5.8 asks 24; the issue, 44). A tick
# box or radio button inside a label counts as its label, which is what a finger hits; a link that is
# a word of running text (display: inline, not styled as a button) is exempt, as WCAG 2.5.8 exempts it.
SMALL_TARGETS = """() => Array.from(document.querySelectorAll(
    'a[href], button, select, textarea, summary, input:not([type=hidden]), [tabindex]:not([tabindex="-1"])'))
  .filter(e => e.checkVisibility({checkVisibilityCSS: true}) && !e.closest('.visually-hidden'))
  .filter(e => !(e.tagName === 'A' && !e.matches('.button') && getComputedStyle(e).display === 'inline'))
  .map(e => {
    const target = (e.type === 'checkbox' || e.type === 'radio') && e.closest('label') ? e.closest('label') : e;
    const r = target.getBoundingClientRect();
    const name = (e.textContent || '').trim().slice(0, 30) || e.getAttribute('aria-label') || e.name || '';
    return [e.tagName.toLowerCase() + (e.type ? `[${e.type}]` : '') + ' ' + name, r.width, r.height];
  })
  .filter(([, w, h]) => w < 44 || h < 44)"""

# The page's controls, in document order, each marked with data-kb (its index) so that the Tab walk
# can tell which it reached. Radio buttons of one group are one stop (arrow keys move within it).
CONTROLS = """() => {
  const all = Array.from(document.querySelectorAll(
      'a[href], button, select, textarea, summary, input:not([type=hidden]), [tabindex]:not([tabindex="-1"])'))
    .filter(e => e.checkVisibility({checkVisibilityCSS: true}) && !e.disabled && !e.closest('[inert]'));
  const groups = new Set();
  return all.filter(e => {
    if (e.type !== 'radio') return true;
    const key = (e.form ? e.form.id || 'f' : '') + ':' + e.name;
    if (groups.has(key)) return false;
    groups.add(key);
    return true;
  }).map((e, i) => {
    e.dataset.kb = String(i);
    if (e.type === 'radio')
      document.querySelectorAll(`input[type=radio][name="${e.name}"]`).forEach(r => r.dataset.kb = String(i));
    return e.tagName.toLowerCase() + (e.type ? `[${e.type}]` : '') + ' ' +
      ((e.textContent || '').trim().slice(0, 30) || e.getAttribute('aria-label') || e.name || '');
  });
}"""
# Where the focus is after a Tab, and whether it shows (an outline or a ring drawn by box-shadow).
FOCUSED = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const cs = getComputedStyle(e);
  const ring = (cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0) || cs.boxShadow !== 'none';
  return [e.dataset.kb ?? '', ring];
}"""
# Things that look clickable (a pointer cursor) but that no key reaches: neither a control, nor inside
# one, nor a label of one.
MOUSE_ONLY = """() => Array.from(document.querySelectorAll('body *'))
  .filter(e => e.checkVisibility({checkVisibilityCSS: true}) && getComputedStyle(e).cursor === 'pointer')
  .filter(e => !e.closest('a[href], button, select, textarea, summary, input, label, [tabindex]:not([tabindex="-1"])'))
  .map(e => e.tagName.toLowerCase() + '.' + e.className + ' ' + (e.textContent || '').trim().slice(0, 30))"""


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
    unreachable: list[str] = []  # controls that Tab does not reach (Japanese pass)
    no_ring: list[str] = []  # controls that take the focus without showing it
    mouse_only: list[str] = []  # clickable-looking things no key reaches

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
        for text, width, height in page.evaluate(SMALL_TARGETS):
            small_targets.append(f"{who} {language} {path}: {text!r} {width:.0f}×{height:.0f}")
        if shot:
            name = re.sub(r"[^\w-]+", "-", path.strip("/")) or "index"
            page.screenshot(path=str(ARTIFACTS / f"{who}-{language}-{name}.png"))
        if language == "ja":
            keyboard(page, f"{who} {language} {path}")

    def keyboard(page: Page, where: str) -> None:
        """Walk the page with Tab from its top: every control is reached, and shows its focus."""
        controls: list[str] = page.evaluate(CONTROLS)
        reached: set[str] = set()
        last = None
        for _ in range(2 * len(controls) + 40):
            page.keyboard.press("Tab")
            state = page.evaluate(FOCUSED)
            if state is None:  # past the last control, into the browser's own
                break
            index, ring = state
            if index == last:  # a field with stops of its own (a date's year, month, day...)
                continue
            if index in reached:  # round again
                break
            last = index
            if index:
                reached.add(index)
                if not ring:
                    no_ring.append(f"{where}: {controls[int(index)]!r}")
        unreachable.extend(f"{where}: {text!r}" for i, text in enumerate(controls) if str(i) not in reached)
        mouse_only.extend(f"{where}: {text!r}" for text in page.evaluate(MOUSE_ONLY))

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
            # Wait for the form's answer: a goto while it is on its way would abort it (seen under load).
            with page.expect_navigation():
                page.click("main button[type=submit]")
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

        def pupil_submits(index: int, answer: str) -> tuple[Page, str]:
            """A pupil signs in, opens the sent card, writes an answer and submits it."""
            page = new_page()
            login, password = server.login_of("student", index=index)
            code, number = login.split(" / ")
            page.goto(f"{server.url}/login/student/")
            page.fill("input[name=school_code]", code)
            page.fill("input[name=student_number]", number)
            page.fill("input[name=password]", password)
            page.click("main button[type=submit]")
            page.goto(f"{server.url}{lesson_path}")
            expect(page.locator("[data-inbox] .card-tile")).to_have_count(1)
            page.click("[data-inbox] .card-tile")
            page.wait_for_selector("form[data-card-editor][data-ready]")
            card_path = local(page.url)
            page.fill("#card-text", answer)
            page.click("form[data-flush-before-submit] button[type=submit]")
            expect(page.locator(".history")).to_contain_text("#1")  # the teacher's box now has a submission
            return page, card_path

        pupil, pupil_card_path = pupil_submits(0, "1/2 = 2/4, so 2/4 + 1/4 = 3/4")
        pupil_submits(1, "3/4")[0].context.close()
        # The compare view of the two submissions, as the teacher's "compare" form asks for it.
        teacher.goto(f"{server.url}{lesson_path}")
        expect(teacher.locator("[data-submission]")).to_have_count(2)
        box_id = teacher.locator("[data-box]").first.get_attribute("data-box")
        chosen = "&".join(
            f"s={i}"
            for i in teacher.locator("[data-submission]").evaluate_all("tiles => tiles.map(t => t.dataset.submission)")
        )
        compare_path = f"/boxes/{box_id}/compare/?{chosen}"

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
            (
                "anonymous",
                anonymous,
                ["/", "/login/student/", "/accounts/login/", "/login/card/", "/privacy/", "/status/", GONE],
            ),
            ("pupil", pupil, ["/home/", class_path, lesson_path, pupil_card_path, "/portfolio/", "/settings/", GONE]),
            (
                "teacher",
                teacher,
                [
                    "/home/",
                    class_path,
                    lesson_path,
                    teacher_card_path,
                    f"{teacher_card_path}present/",
                    compare_path,
                    f"{class_path}login-cards/",
                    "/materials/",
                    "/settings/",
                    projector_path,  # the grid
                    f"{projector_path}?names=0#1",  # one submission, names left out
                    f"/boxes/{box_id}/compare/projector/?{chosen}",
                ],
            ),
            ("school-admin", school_admin, ["/home/", school_path, f"{school_path}roster/", "/audit/", "/settings/"]),
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
    assert not small_targets, "touch targets under 44 px:\n" + "\n".join(small_targets)
    assert not unreachable, "controls that Tab does not reach:\n" + "\n".join(unreachable)
    assert not no_ring, "controls whose focus does not show:\n" + "\n".join(no_ring)
    assert not mouse_only, "clickable-looking elements that no key reaches:\n" + "\n".join(mouse_only)
