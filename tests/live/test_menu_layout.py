"""The menu keeps to one line at 1024 px (issue 14, defect 7) for the administrators and the
operator's people, whose menus are the longest, in Japanese and Traditional Chinese — with the demo's
display names and with a long one; no item ever overlaps another (the operator's menu, one link
longer since the status pages, ran its items into each other). The page is rendered by Django and
laid out by Chromium with the app's own stylesheet."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

from classnote.accounts.models import User
from classnote.base.roles import Role
from tests.conftest import Tenant, login_as
from tests.live.test_browser_lesson import ARGS, ARTIFACTS, CHROMIUM, need_chromium

CSS = Path(__file__).resolve().parents[2] / "src" / "classnote" / "core" / "static" / "classnote" / "app.css"
NAMES = {
    "school_admin": ["港小学校 事務室", "Minato Elementary School office"],
    "municipal_admin": ["横浜市教育委員会 管理者", "Yokohama City Board of Education admin"],
    Role.OPERATOR: ["classnote 運用担当", "Operator support desk"],
    Role.PRIVACY_OFFICER: ["個人情報保護管理者", "Privacy officer of the operator"],
}
PAGES = {Role.OPERATOR: "/operator/status/", Role.PRIVACY_OFFICER: "/operator/status/"}


def standalone(page: str) -> str:
    """The page with the stylesheet inlined and no scripts: laid out as served, without a server."""
    style = f"<style>{CSS.read_text(encoding='utf-8')}</style>"
    page = re.sub(r'<link rel="stylesheet" href="[^"]*">', lambda _match: style, page)
    return re.sub(r"<script[^>]*></script>", "", page)


@pytest.mark.parametrize("language", ["ja", "zh-hant"])
def test_the_admin_menu_fits_on_one_line_at_1024_px(tenant_a: Tenant, language: str) -> None:
    need_chromium()
    from playwright.sync_api import sync_playwright

    pages = []
    for role, names in NAMES.items():
        person = (
            getattr(tenant_a, role)
            if role not in PAGES
            else User.objects.create_user(f"menu-{role}-{language}", "x" * 16, display_name="menu", role=role)
        )
        for name in names:
            person.display_name, person.language = name, language
            person.save(update_fields=["display_name", "language"])
            response = login_as(Client(), person).get(PAGES.get(role, "/audit/"))
            assert response.status_code == 200
            pages.append((f"{role}-{language}-{len(name)}", standalone(response.content.decode())))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            view = browser.new_page(viewport={"width": 1024, "height": 400})
            for label, html in pages:
                view.set_content(html)
                boxes = view.evaluate(
                    "Array.from(document.querySelectorAll('.topbar nav > *, .topbar .language'))"
                    ".map(e => { const r = e.getBoundingClientRect();"
                    " return [(r.top + r.bottom) / 2, r.left, r.right]; })"
                )
                view.screenshot(
                    path=str(ARTIFACTS / f"menu-{label}.png"), clip={"x": 0, "y": 0, "width": 1024, "height": 80}
                )
                middles = [middle for middle, _left, _right in boxes]
                assert max(middles) - min(middles) <= 2, f"{label}: the menu wraps"
                assert all(
                    right <= left_next + 1
                    for (_t, _l, right), (_t2, left_next, _r2) in zip(boxes, boxes[1:], strict=False)
                ), f"{label}: menu items overlap"
                assert max(right for _middle, _left, right in boxes) <= 1024, f"{label}: the menu overflows"
                # A box squeezed narrower than its words lets them run into the next item's.
                squeezed = view.evaluate(
                    "Array.from(document.querySelectorAll('.topbar nav > a, .topbar nav button, .brand'))"
                    ".filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.textContent.trim())"
                )
                assert not squeezed, f"{label}: labels wider than their place {squeezed}"
        finally:
            browser.close()
