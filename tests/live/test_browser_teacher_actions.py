"""Issue 14, defect 1, in a real browser (Playwright driving Debian's chromium, ja-JP, 1024×768): every
teacher action on the lesson page works on tiles that were already there when the page loaded, with a
reload between the steps, and on a tile that arrived live.

The submission tiles hold forms of their own (return with a comment). When the compare form wrapped
them, the browser dropped the first tile's <form> tag: "Compare chosen" did nothing and that tile's
"Return" sent its comment to the compare view ("choose 2–4 submissions"), losing it. Live tiles were
rendered without a return form at all. Screenshots go to test-artifacts/teacher-actions/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.live.server import ROOT, Browser, Server, first, running
from tests.live.test_browser_lesson import ARGS, CHROMIUM, need_chromium
from tests.live.test_realtime import open_lesson, send_text_card, signed_in

pytestmark = [pytest.mark.slow, pytest.mark.browser]
ARTIFACTS = ROOT / "test-artifacts" / "teacher-actions"
TILES = "[data-submission-grid] article.submission-tile"


@contextmanager
def running_lesson(tmp_path: Path) -> Iterator[tuple[Server, int, int]]:
    """A demo server with a lesson, a text card sent to the class and a submission box."""
    with running(tmp_path / "home", "--demo") as server:
        teacher = signed_in(server, "teacher")
        _class_id, lesson_id = open_lesson(teacher, "分数のたし算")
        send_text_card(teacher, lesson_id, "1/2 + 1/4 は？")
        assert teacher.post(f"/lessons/{lesson_id}/boxes/", {"title": "答え"}).status_code == 302
        box_id = int(first(r'data-box="(\d+)"', teacher.get(f"/lessons/{lesson_id}/").text))
        yield server, lesson_id, box_id


def pupil_answers(server: Server, index: int, lesson_id: int, box_id: int) -> Browser:
    """A pupil types an answer on the card the teacher sent and submits it (over HTTP)."""
    pupil = signed_in(server, "student", index=index)
    card_id = int(first(r'data-card-id="(\d+)"', pupil.get(f"/lessons/{lesson_id}/").text))
    version = int(first(r'data-version="(\d+)"', pupil.get(f"/cards/{card_id}/").text))
    saved = pupil.post_json(f"/cards/{card_id}/autosave/", {"version": version, "fields": {"text": f"answer {index}"}})
    assert saved.status_code == 200, saved.text[:300]
    submitted = pupil.post(f"/boxes/{box_id}/submit/", {"card": str(card_id)})
    assert submitted.status_code == 302, submitted.text[:300]
    return pupil


def test_every_teacher_action_works_on_a_freshly_loaded_lesson_page(tmp_path: Path) -> None:
    need_chromium()
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = iter(range(1, 100))

    def snap(page: object, name: str) -> None:
        page.screenshot(path=str(ARTIFACTS / f"{next(shot):02d}-{name}.png"), full_page=True)  # type: ignore[attr-defined]

    with running_lesson(tmp_path) as (server, lesson_id, box_id), sync_playwright() as playwright:
        pupils = [pupil_answers(server, index, lesson_id, box_id) for index in range(2)]
        lesson_path = f"/lessons/{lesson_id}/"

        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="ja-JP")
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
        tiles = box.locator(TILES)
        expect(tiles).to_have_count(2)
        snap(teacher, "fresh-page")

        def tile(index: int) -> object:
            return tiles.filter(has_text=f"answer {index}")

        def fresh() -> None:
            teacher.goto(server.url + lesson_path)
            teacher.reload()
            expect(tiles).to_have_count(len(pupils))

        def return_with(index: int, comment: str, keyboard: bool = False) -> None:
            one = tile(index)
            if keyboard:  # open the tile's return form, type and send it with the keyboard alone
                one.get_by_text("コメントを付けて返却").focus()
                teacher.keyboard.press("Enter")
                teacher.keyboard.press("Tab")
                expect(one.get_by_label("コメント")).to_be_focused()
                teacher.keyboard.type(comment)
                teacher.keyboard.press("Tab")  # the optional mark (◎ ○ △), left at "no mark"
                expect(one.get_by_label("評価")).to_be_focused()
                teacher.keyboard.press("Tab")
                expect(one.get_by_role("button", name="返却", exact=True)).to_be_focused()
                teacher.keyboard.press("Enter")
            else:
                one.get_by_text("コメントを付けて返却").click()
                one.get_by_label("コメント").fill(comment)
                one.get_by_role("button", name="返却", exact=True).click()
            expect(teacher.locator(".messages")).to_contain_text("提出物を返却しました。")
            assert teacher.url.endswith(lesson_path), teacher.url
            expect(tile(index)).to_contain_text("返却済み")
            # The comment is what the teacher wrote: shown as written (translate="no", no furigana).
            expected = f'先生から返されました: “<span translate="no" data-user-content>{comment}</span>”'
            assert expected in pupils[index].get(lesson_path).text

        # Compare: tick both tiles of the freshly loaded page, then "Compare chosen".
        tiles.nth(0).get_by_role("checkbox").check()
        tiles.nth(1).get_by_role("checkbox").check()
        box.get_by_role("button", name="選んだ提出物を比較（2～4件）").click()
        expect(teacher).to_have_url(re.compile(rf"/boxes/{box_id}/compare/\?s=\d+&s=\d+$"))
        compared = teacher.locator(".compare article")
        expect(compared).to_have_count(2)
        expect(teacher.locator(".compare")).to_contain_text("answer 0")
        expect(teacher.locator(".compare")).to_contain_text("answer 1")
        snap(teacher, "compare")

        # Return the first tile (the one whose form the browser dropped), then the second, each on a
        # freshly loaded page.
        fresh()
        first_index = 0 if "answer 0" in tiles.nth(0).inner_text() else 1
        return_with(first_index, "よくできました、3行目を見直そう")
        snap(teacher, "returned-first")
        fresh()
        return_with(1 - first_index, "図がわかりやすい", keyboard=True)

        # Share answers anonymously: the pupils see both; then stop sharing.
        fresh()
        box.get_by_label("匿名で").check()
        box.get_by_role("button", name="回答共有", exact=True).click()
        expect(box.get_by_role("button", name="回答共有をやめる")).to_be_visible()
        shared = pupils[0].get(lesson_path).text
        assert "data-shared-answers" in shared and "answer 1" in shared
        snap(teacher, "sharing")
        fresh()
        box.get_by_role("button", name="回答共有をやめる").click()
        expect(box.get_by_role("button", name="回答共有", exact=True)).to_be_visible()
        assert "answer 1" not in pupils[0].get(lesson_path).text

        # Close the box and open it again.
        fresh()
        box.get_by_role("button", name="提出箱を閉じる").click()
        expect(box.get_by_role("button", name="提出箱を開く")).to_be_visible()
        fresh()
        box.get_by_role("button", name="提出箱を開く").click()
        expect(box.get_by_role("button", name="提出箱を閉じる")).to_be_visible()

        # Let pupils send to each other, and stop it again.
        fresh()
        teacher.get_by_role("button", name="児童生徒どうしのカード送信を許可する").click()
        expect(teacher.get_by_role("button", name="児童生徒どうしのカード送信を止める")).to_be_visible()
        fresh()
        teacher.get_by_role("button", name="児童生徒どうしのカード送信を止める").click()
        expect(teacher.get_by_role("button", name="児童生徒どうしのカード送信を許可する")).to_be_visible()

        # A third pupil's tile arrives live: it can be compared and returned like the others.
        fresh()
        pupils.append(pupil_answers(server, 2, lesson_id, box_id))
        expect(tiles).to_have_count(3)
        tile(2).get_by_role("checkbox").check()
        tile(0).get_by_role("checkbox").check()
        snap(teacher, "live-tile")
        box.get_by_role("button", name="選んだ提出物を比較（2～4件）").click()
        expect(teacher.locator(".compare article")).to_have_count(2)
        expect(teacher.locator(".compare")).to_contain_text("answer 2")
        fresh()
        pupils.append(pupil_answers(server, 3, lesson_id, box_id))
        expect(tiles).to_have_count(4)
        return_with(3, "続きを書こう")
        snap(teacher, "returned-live-tile")
        browser.close()
        assert not [e for e in errors if "favicon" not in e], errors
