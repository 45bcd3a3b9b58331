"""drawing.js in a real browser (Debian's chromium) against the server's own checks: a pupil who draws
until the drawing is full is stopped by the page, never by a refused save (issue 12, finding 1).

No server is needed: the script runs on a blank page and its strokes go to
classnote.cards.actions.validate_strokes directly."""

from __future__ import annotations

import io
import math
from collections.abc import Iterator
from typing import Any

import pytest

from classnote.cards import render
from classnote.cards.actions import validate_strokes
from tests.live.test_browser_lesson import ARGS, CHROMIUM, need_chromium

pytestmark = [pytest.mark.slow, pytest.mark.browser]
SCRIPT = render.__file__.replace("cards/render.py", "core/static/classnote/drawing.js")
APP = render.__file__.replace("cards/render.py", "core/static/classnote/app.js")

# A pen held on the canvas and moved in zig-zags (every point a corner, so none is simplified
# away), as fast as a script can send pointer events, until the page says the drawing is full.
DRAW_UNTIL_FULL = """([width, tool]) => {
  const canvas = document.getElementById("canvas");
  const drawing = ClassnoteDrawing.attach(canvas, { width: width, tool: tool });
  let full = false, saves = 0;
  canvas.addEventListener("classnote:drawing-full", () => { full = true; });
  canvas.addEventListener("classnote:drawing-change", () => { saves += 1; });
  const box = canvas.getBoundingClientRect();
  const at = (x, y) => ({ pointerId: 7, pointerType: "pen", bubbles: true, cancelable: true,
                          clientX: box.left + x * box.width / 1000, clientY: box.top + y * box.height / 750 });
  let seed = 1;
  const random = () => { seed = (seed * 16807) % 2147483647; return seed / 2147483647; };
  for (let stroke = 0; stroke < 5000 && !full; stroke++) {
    canvas.dispatchEvent(new PointerEvent("pointerdown", at(random() * 1000, random() * 750)));
    for (let i = 0; i < 200 && !full; i++) {
      canvas.dispatchEvent(new PointerEvent("pointermove", at(random() * 1000, random() * 750)));
    }
    canvas.dispatchEvent(new PointerEvent("pointerup", at(0, 0)));
  }
  return { full: full, saves: saves, strokes: drawing.getStrokes(), cost: ClassnoteDrawing.cost(drawing.getStrokes()) };
}"""


@pytest.fixture(scope="module")
def page() -> Iterator[Any]:
    need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1024, "height": 768})
        page.set_content('<canvas id="canvas" style="width:800px;height:600px;display:block"></canvas>')
        page.add_script_tag(path=SCRIPT)
        yield page
        browser.close()


@pytest.mark.parametrize(("width", "tool"), [(60, "pen"), (14, "eraser"), (2, "pen")])
def test_drawing_until_full_stops_at_the_budget_and_the_server_accepts_every_stroke(
    page: Any, width: int, tool: str
) -> None:
    result = page.evaluate(DRAW_UNTIL_FULL, [width, tool])
    assert result["full"], "the page never said the drawing is full"
    strokes = result["strokes"]
    # The server takes the drawing as it is (nothing to clamp, repeat or refuse)...
    assert validate_strokes(strokes) == strokes
    cost = render.drawing_cost(strokes)
    assert cost <= render.RENDER_BUDGET
    # ...counts what the page counted, and the page used nearly all of the budget.
    assert math.isclose(cost, result["cost"], rel_tol=1e-9)
    assert cost > 0.9 * render.RENDER_BUDGET


def test_finished_strokes_are_simplified_without_losing_their_shape(page: Any) -> None:
    simplify = "(p) => ClassnoteDrawing.simplify(p)"
    straight = [[x, 300] for x in range(100, 900)]
    assert page.evaluate(simplify, straight) == [[100, 300], [899, 300]]
    # A stroke that turns back on itself keeps the point where it turned.
    there_and_back = [[x, 300] for x in range(100, 600)] + [[x, 300] for x in range(599, 300, -1)]
    assert page.evaluate(simplify, there_and_back) == [[100, 300], [599, 300], [301, 300]]
    # A curve keeps every point more than 0.75 units away from the simplified path.
    curve = [[x, round(375 + 200 * math.sin(x / 80))] for x in range(0, 1000, 2)]
    simple = page.evaluate(simplify, curve)
    assert len(simple) < len(curve) / 3
    for x, y in curve:
        assert min(_segment_distance((x, y), a, b) for a, b in zip(simple, simple[1:], strict=False)) <= 0.75
    assert page.evaluate(simplify, [[5, 5], [5, 5], [6, 5], [5, 5]]) == [[5, 5], [6, 5], [5, 5]]


def _segment_distance(p: tuple[int, int], a: list[int], b: list[int]) -> float:
    dx, dy = b[0] - a[0], b[1] - a[1]
    squared = dx * dx + dy * dy
    t = 0.0 if not squared else max(0.0, min(1.0, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / squared))
    return math.dist(p, (a[0] + t * dx, a[1] + t * dy))


def test_a_placeholder_picture_is_loaded_again_until_the_drawing_is_there(page: Any) -> None:
    """The server answers a picture still being rendered with a 4×3 placeholder (202); app.js asks
    again a moment later, for pictures in the page and pictures added to it later."""
    from PIL import Image

    asked: list[str] = []

    def png(size: tuple[int, int]) -> bytes:
        out = io.BytesIO()
        Image.new("RGB", size, (200, 30, 30)).save(out, "PNG")
        return out.getvalue()

    def serve(route: Any) -> None:
        url = route.request.url
        if url.endswith("/page"):
            route.fulfill(
                body='<img id="a" src="/cards/1/thumbnail/"><script src="/app.js"></script>', content_type="text/html"
            )
        elif url.endswith("/app.js"):
            route.fulfill(path=APP, content_type="text/javascript")
        else:
            asked.append(url)
            ready = len([u for u in asked if u.split("?")[0] == url.split("?")[0]]) > 2
            route.fulfill(
                status=200 if ready else 202, body=png((320, 240) if ready else (4, 3)), content_type="image/png"
            )

    page = page.context.browser.new_page()  # a page of its own: the other tests use the blank one
    page.route("http://classnote.test/**", serve)
    page.goto("http://classnote.test/page")
    page.evaluate("""() => { const img = document.createElement("img"); img.id = "b";
                             img.src = "/cards/2/thumbnail/?w=640"; document.body.append(img); }""")
    page.wait_for_function("document.getElementById('a').naturalWidth === 320", timeout=15_000)
    page.wait_for_function("document.getElementById('b').naturalWidth === 320", timeout=15_000)
    assert [u for u in asked if "/cards/2/" in u][-1].endswith("/cards/2/thumbnail/?w=640&try=2")
    page.close()
