"""Issue 14, tool 10: the projector, in a real browser (Playwright driving Debian's chromium, ja-JP,
1024×768). The teacher opens a box's projector from the lesson page (a fresh window) with three
submissions, opens one, moves with the arrow keys, Home/End and a swipe, goes back to the grid with
Escape, hides the names (the page then holds none), sees a fourth pupil's submission arrive live, and
shows two chosen submissions side by side from the comparison. Screenshots go to
test-artifacts/projector/."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pytest

from tests.live.server import ROOT, Browser, Server, first
from tests.live.test_browser_lesson import ARGS, CHROMIUM, need_chromium
from tests.live.test_browser_teacher_actions import running_lesson
from tests.live.test_realtime import signed_in

pytestmark = [pytest.mark.slow, pytest.mark.browser]
ARTIFACTS = ROOT / "test-artifacts" / "projector"
TILES = "[data-projector-grid] .projector-tile"
PICTURES_READY = """() => [...document.images].filter((img) => img.offsetParent !== null)
  .every((img) => img.complete && img.naturalWidth > 4)"""
ANSWERS = [
    "1/2 は 2/4 と同じです。だから 2/4 + 1/4 = 3/4 になります。",
    "図をかきました。まるを4つに分けて、3つぬりました。答えは 3/4 です。",
    "分母をそろえてから、分子をたします。",
    "答え 3/4（あとから出しました）",
]


def a_drawing(index: int) -> list[dict[str, Any]]:
    """A few thick strokes: a different simple picture for each pupil."""
    y = 150 + 120 * index
    return [
        {"c": "#1a66dc", "w": 14, "p": [[120, y], [880, y]]},
        {"c": "#c62828", "w": 18, "p": [[300, 120], [300, 630], [700, 630], [700, 120], [300, 120]]},
    ]


def pupil_answers(server: Server, index: int, lesson_id: int, box_id: int) -> tuple[Browser, str]:
    """A pupil writes (and, for some, draws) an answer on the card the teacher sent and submits it;
    returns the pupil and the pupil's display name."""
    pupil = signed_in(server, "student", index=index)
    name = html.unescape(first(r'class="who" title="([^"]+)"', pupil.get("/home/").text))
    card_id = int(first(r'data-card-id="(\d+)"', pupil.get(f"/lessons/{lesson_id}/").text))
    version = int(first(r'data-version="(\d+)"', pupil.get(f"/cards/{card_id}/").text))
    fields: dict[str, Any] = {"text": ANSWERS[index]}
    if index in (0, 1):
        fields["strokes"] = a_drawing(index)
    saved = pupil.post_json(f"/cards/{card_id}/autosave/", {"version": version, "fields": fields})
    assert saved.status_code == 200, saved.text[:300]
    submitted = pupil.post(f"/boxes/{box_id}/submit/", {"card": str(card_id)})
    assert submitted.status_code == 302, submitted.text[:300]
    return pupil, name


def test_the_teacher_shows_a_box_and_a_comparison_on_the_projector(tmp_path: Path) -> None:
    need_chromium()
    from playwright.sync_api import Page, expect, sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def snap(page: Page, name: str) -> None:
        # Drawings are rendered off the request threads: wait for the pictures, not the placeholders.
        page.wait_for_function(PICTURES_READY)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"))

    with running_lesson(tmp_path) as (server, lesson_id, box_id), sync_playwright() as playwright:
        names = [pupil_answers(server, index, lesson_id, box_id)[1] for index in range(3)]
        assert len(set(names)) == 3, names

        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="ja-JP")
        errors: list[str] = []

        def watch(page: Page) -> Page:
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            return page

        teacher = watch(context.new_page())
        login, password = server.login_of("teacher")
        teacher.goto(f"{server.url}/accounts/login/")
        teacher.fill("input[name=login]", login)
        teacher.fill("input[name=password]", password)
        teacher.click("main button[type=submit]")
        teacher.goto(f"{server.url}/lessons/{lesson_id}/")
        box = teacher.locator(f"#box-{box_id}")
        box.scroll_into_view_if_needed()
        box.screenshot(path=str(ARTIFACTS / "00-lesson-box.png"))

        # "Show on the projector" in the box's header opens the projector in a window of its own.
        with context.expect_page() as opened:
            box.get_by_role("link", name="プロジェクターに映す").click()
        projector = watch(opened.value)
        projector.wait_for_load_state("load")
        assert projector.url.endswith(f"/boxes/{box_id}/projector/")
        tiles = projector.locator(TILES)
        expect(tiles).to_have_count(3)
        for number, name in enumerate(names, start=1):  # in the order they submitted, with names
            expect(tiles.nth(number - 1)).to_contain_text(f"{number} {name}")
        expect(projector.locator("h1")).to_contain_text("3件の提出")
        expect(projector.get_by_role("button", name="全画面で表示")).to_be_visible()
        expect(projector.locator(".topbar")).to_have_count(0)  # none of the app's menus
        snap(projector, "01-grid-names")

        # One submission at a time: open the first, step with the arrow keys, Home and End.
        single = projector.locator("[data-projector-single]")
        counter = projector.locator("[data-counter]")
        shown = projector.locator("[data-slide]:visible")
        tiles.nth(0).click()
        expect(single).to_be_visible()
        expect(projector.locator("[data-projector-grid]")).to_be_hidden()
        expect(counter).to_have_text("1 / 3")
        expect(shown).to_contain_text(ANSWERS[0])
        expect(shown.locator("img")).to_be_visible()
        snap(projector, "02-single")
        projector.keyboard.press("ArrowRight")
        expect(counter).to_have_text("2 / 3")
        expect(shown).to_contain_text(ANSWERS[1])
        expect(shown).to_contain_text(names[1])
        projector.keyboard.press("ArrowRight")
        expect(counter).to_have_text("3 / 3")
        expect(shown).to_contain_text(ANSWERS[2])
        projector.keyboard.press("ArrowRight")  # the last stays the last
        expect(counter).to_have_text("3 / 3")
        projector.keyboard.press("ArrowLeft")
        expect(counter).to_have_text("2 / 3")
        projector.keyboard.press("Home")
        expect(counter).to_have_text("1 / 3")
        projector.keyboard.press("End")
        expect(counter).to_have_text("3 / 3")
        # On-screen buttons, 44 px or more, and a swipe to the left (a mouse drag: pointer events).
        previous = projector.get_by_role("button", name="前へ")
        following = projector.get_by_role("button", name="次へ")
        for button in (previous, following, projector.get_by_role("button", name="一覧にもどる")):
            size = button.bounding_box()
            assert size and size["width"] >= 44 and size["height"] >= 44, size
        previous.click()
        expect(counter).to_have_text("2 / 3")
        projector.mouse.move(700, 400)
        projector.mouse.down()
        projector.mouse.move(400, 410, steps=5)
        projector.mouse.move(250, 410, steps=5)
        projector.mouse.up()
        expect(counter).to_have_text("3 / 3")
        # Escape: back to the grid, the focus on the tile of the submission that was shown.
        projector.keyboard.press("Escape")
        expect(projector.locator("[data-projector-grid]")).to_be_visible()
        expect(single).to_be_hidden()
        expect(tiles.nth(2)).to_be_focused()

        # Hide names: the page comes again without them (not in the page at all, not merely hidden).
        projector.get_by_role("link", name="名前をかくす").click()
        projector.wait_for_load_state("load")
        assert "names=0" in projector.url
        expect(tiles).to_have_count(3)
        expect(projector.get_by_role("link", name="名前を表示")).to_be_visible()
        labels = [text.split()[0] for text in tiles.locator(".projector-label").all_inner_texts()]
        assert labels == ["1", "2", "3"], labels
        content = projector.content()
        for name in names:
            assert name not in content, name
        snap(projector, "03-grid-no-names")

        # A fourth pupil submits: the tile arrives live, numbered, without a name; the submission
        # shown stays shown while the count grows.
        tiles.nth(1).click()
        expect(counter).to_have_text("2 / 3")
        _, late_name = pupil_answers(server, 3, lesson_id, box_id)
        expect(counter).to_have_text("2 / 4")
        expect(shown).to_contain_text(ANSWERS[1])
        expect(projector.locator("h1")).to_contain_text("4件の提出")
        projector.keyboard.press("End")
        expect(shown).to_contain_text(ANSWERS[3])
        projector.keyboard.press("Escape")
        expect(tiles).to_have_count(4)
        expect(tiles.nth(3)).to_have_class("projector-tile is-new")
        expect(tiles.nth(3).locator(".projector-label")).to_have_text("4")
        content = projector.content()
        for name in [*names, late_name]:
            assert name not in content, name
        snap(projector, "04-grid-live")

        # The comparison: tick two tiles on the lesson page, compare, then show them on the projector.
        teacher.goto(f"{server.url}/lessons/{lesson_id}/")
        lesson_tiles = box.locator("[data-submission-grid] article.submission-tile")
        expect(lesson_tiles).to_have_count(4)
        lesson_tiles.filter(has_text=names[0]).get_by_role("checkbox").check()
        lesson_tiles.filter(has_text=names[1]).get_by_role("checkbox").check()
        box.get_by_role("button", name="選んだ提出物を比較（2～4件）").click()
        expect(teacher.locator(".compare article")).to_have_count(2)
        with context.expect_page() as opened:
            teacher.get_by_role("link", name="プロジェクターに映す").click()
        compared = watch(opened.value)
        compared.wait_for_load_state("load")
        works = compared.locator(".projector-compare .projector-slide")
        expect(works).to_have_count(2)
        expect(works.nth(0)).to_contain_text(f"1 {names[0]}")
        expect(works.nth(1)).to_contain_text(f"2 {names[1]}")
        expect(works.locator("img")).to_have_count(2)
        snap(compared, "05-compare-names")
        compared.get_by_role("link", name="名前をかくす").click()
        compared.wait_for_load_state("load")
        expect(works).to_have_count(2)
        content = compared.content()
        for name in names:
            assert name not in content, name
        expect(works.nth(0)).to_contain_text(ANSWERS[0])
        snap(compared, "06-compare-no-names")
        browser.close()
        assert not [e for e in errors if "favicon" not in e], errors
