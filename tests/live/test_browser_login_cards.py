"""Issue 14, defect 2: printed QR login cards must scan. A class of 40 pupils; the teacher prints
their cards in Japanese, in Chromium with print media; a QR decoder (zbarimg, Debian's zbar-tools)
reads every code from a screenshot of the page and from the A4 pages Chromium prints (rasterised
by Ghostscript, so a code cut across two pages would not read). Each decoded payload is the card
login URL with a secret, and logs in the pupil whose name is printed next to it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.live.server import ROOT, Browser, Server, running
from tests.live.test_browser_lesson import ARGS, CHROMIUM, need_chromium
from tests.live.test_realtime import run_action, signed_in

pytestmark = [pytest.mark.slow, pytest.mark.browser]
ARTIFACTS = ROOT / "test-artifacts" / "login-cards"
PUPILS = 40
A4 = {"width": 794, "height": 1123}  # CSS pixels of an A4 page at 96 dpi


def need_tool(command: str, package: str) -> str:
    path = shutil.which(command)
    if path:
        return path
    if os.environ.get("CI") == "true":
        pytest.fail(f"{command} is missing, and CI=true requires it (apt-get install {package})")
    pytest.skip(f"{command} is not installed (apt-get install {package})")


def decode(image: Path) -> list[str]:
    """Every QR code zbarimg finds in IMAGE (an empty list when there is none)."""
    done = subprocess.run(
        [need_tool("zbarimg", "zbar-tools"), "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", str(image)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode in (0, 4), done.stderr  # 4: no code found
    return [line for line in done.stdout.splitlines() if line]


def class_of_40(server: Server, teacher: Browser) -> int:
    """The teacher's first class, filled up to 40 pupils with Japanese names (in the server's
    database, through the domain actions, as a roster import would)."""
    class_id = int(re.findall(r'href="/classes/(\d+)/"', teacher.get("/home/").text)[0])
    run_action(
        server,
        "from classnote.accounts.actions import NewStudent, create_students; "
        "from classnote.accounts.models import User; from classnote.tenancy.models import Membership, SchoolClass; "
        f"c = SchoolClass.objects.get(pk={class_id}); "
        "admin = User.objects.filter(role='school_admin', school=c.school).first(); "
        "have = Membership.objects.filter(school_class=c, role='student').count(); "
        "names = ['青木','石井','上田','遠藤','大野','加藤','木村','工藤','小林','斉藤']; "
        f"new = [NewStudent(display_name=f'{{names[i % 10]}} 花子{{i}}', student_number=f'q{{i:03d}}') "
        f"for i in range({PUPILS} - have)]; "
        "Membership.objects.bulk_create([Membership(school_class=c, user=u, role='student') "
        "for u, _ in create_students(admin, c.school, new)])",
    )
    return class_id


def card_logs_in(server: Server, payload: str) -> str:
    """Log in with a decoded card payload as the card login page does (it posts the part after
    '#'); returns the home page."""
    url, _, token = payload.partition("#")
    assert url == f"{server.url}/login/card/", payload
    pupil = Browser(server.url)
    pupil.get("/login/card/")
    response = pupil.post("/login/card/", {"token": token})
    assert response.status_code == 302, response.text[:500]
    return pupil.get("/home/").text


def test_a_printed_class_of_40_login_cards_scans(tmp_path: Path) -> None:
    need_chromium()
    need_tool("zbarimg", "zbar-tools")
    need_tool("gs", "ghostscript")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with running(tmp_path / "home", "--demo") as server, sync_playwright() as playwright:
        class_id = class_of_40(server, signed_in(server, "teacher"))
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        context = browser.new_context(viewport=A4, device_scale_factor=2, locale="ja-JP")
        page = context.new_page()
        login, password = server.login_of("teacher")
        page.goto(f"{server.url}/accounts/login/")
        page.fill("input[name=login]", login)
        page.fill("input[name=password]", password)
        page.click("main button[type=submit]")
        page.wait_for_url(re.compile(r"/home/"))
        page.goto(f"{server.url}/classes/{class_id}/login-cards/")
        page.click("main form button[type=submit]")
        page.wait_for_selector(".login-cards")
        assert page.locator("html").get_attribute("lang") == "ja"
        cards = page.locator(".login-card")
        assert cards.count() == PUPILS

        page.screenshot(path=str(ARTIFACTS / "screen-a4-width-ja.png"))
        page.emulate_media(media="print")
        shot = ARTIFACTS / "print-a4-ja.png"
        page.screenshot(path=str(shot), full_page=True)
        decoded = decode(shot)
        assert len(decoded) == PUPILS, f"{len(decoded)} of {PUPILS} codes read from the screenshot"
        assert len(set(decoded)) == PUPILS

        # Each card alone: its code logs in the pupil named on it.
        names: dict[str, str] = {}
        for index in range(PUPILS):
            card = cards.nth(index)
            card_shot = tmp_path / f"card-{index}.png"
            card.screenshot(path=str(card_shot))
            (payload,) = decode(card_shot)
            names[payload] = card.locator("strong").inner_text()
        assert set(names) == set(decoded)
        for payload, name in names.items():
            assert name in card_logs_in(server, payload)

        # Printed on A4: every code whole on one page, and readable from the printed pages.
        pdf = ARTIFACTS / "print-a4-ja.pdf"
        page.pdf(path=str(pdf), format="A4", print_background=True)
        subprocess.run(
            ["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pnggray", "-r300",
             f"-sOutputFile={tmp_path}/page-%02d.png", str(pdf)],
            check=True,
            timeout=300,
        )  # fmt: skip
        pages = sorted(tmp_path.glob("page-*.png"))
        printed: list[str] = []
        for number, page_image in enumerate(pages, 1):
            shutil.copy(page_image, ARTIFACTS / f"printed-page-{number:02d}.png")
            printed += decode(page_image)
        assert sorted(printed) == sorted(decoded), f"{len(printed)} of {PUPILS} codes read from {len(pages)} pages"
        browser.close()


def y4m_of(picture: Path, video: Path) -> None:
    """A still video (Y4M, what Chromium's fake camera plays) of PICTURE centred on a white
    640×480 frame, as a tablet camera would see a card held in front of it."""
    from PIL import Image

    frame = Image.new("RGB", (640, 480), "white")
    card = Image.open(picture).convert("RGB")
    card.thumbnail((600, 440))
    frame.paste(card, ((640 - card.width) // 2, (480 - card.height) // 2))
    y, cb, cr = frame.convert("YCbCr").split()
    planes = y.tobytes() + cb.resize((320, 240)).tobytes() + cr.resize((320, 240)).tobytes()
    video.write_bytes(b"YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420jpeg\n" + b"FRAME\n" + planes)


def test_a_pupil_logs_in_by_showing_the_card_to_the_tablet_camera(tmp_path: Path) -> None:
    """The card login page decodes the camera's picture itself (jsQR, vendored): the pupil taps
    "scan", holds up the printed card, and is logged in as the pupil named on it."""
    need_chromium()
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with running(tmp_path / "home", "--demo") as server, sync_playwright() as playwright:
        teacher_browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = teacher_browser.new_context(viewport={"width": 1024, "height": 768}, locale="ja-JP").new_page()
        login, password = server.login_of("teacher")
        page.goto(f"{server.url}/accounts/login/")
        page.fill("input[name=login]", login)
        page.fill("input[name=password]", password)
        page.click("main button[type=submit]")
        page.wait_for_url(re.compile(r"/home/"))
        class_id = int(re.findall(r'href="/classes/(\d+)/"', page.content())[0])
        page.goto(f"{server.url}/classes/{class_id}/login-cards/")
        page.click("main form button[type=submit]")
        page.emulate_media(media="print")
        card = page.locator(".login-card").nth(1)
        name = card.locator("strong").inner_text()
        card.screenshot(path=str(tmp_path / "card.png"))
        teacher_browser.close()

        video = tmp_path / "card.y4m"
        y4m_of(tmp_path / "card.png", video)
        camera = [
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ]
        tablet = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=[*ARGS, *camera])
        context = tablet.new_context(viewport={"width": 1024, "height": 768}, locale="ja-JP")
        context.grant_permissions(["camera"], origin=server.url)
        pupil = context.new_page()
        errors: list[str] = []
        pupil.on("pageerror", lambda error: errors.append(str(error)))
        pupil.goto(f"{server.url}/login/card/")
        pupil.screenshot(path=str(ARTIFACTS / "card-login-ja.png"))
        pupil.click("[data-scan-start]")
        pupil.wait_for_url(re.compile(r"/home/"), timeout=30_000)
        expect(pupil.locator("body")).to_contain_text(name)
        pupil.screenshot(path=str(ARTIFACTS / "scanned-home-ja.png"))
        assert not errors
        tablet.close()
