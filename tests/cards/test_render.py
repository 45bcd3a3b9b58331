"""Server-side rendering of drawing cards: templates, strokes, eraser, thumbnails."""

from __future__ import annotations

import io
import json
import random
import re
from pathlib import Path

import pytest
from django.test import Client
from PIL import Image, ImageDraw

from classnote.cards import actions, render
from classnote.cards.actions import validate_strokes
from classnote.cards.models import Background, Card
from classnote.cards.render import render_drawing, render_png, thumbnail_png
from classnote.cards.templates_bg import PAPER, TEMPLATES, background_image, background_png
from tests.api.conftest import english, in_language, send, session
from tests.conftest import Tenant, login_as

TOO_DETAILED = "This drawing is too detailed to be saved. Remove some strokes, or continue on a new card."

RED = (255, 0, 0)


def png(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    return image.convert("RGB")


def red_line(y: int = 600, width: int = 14) -> dict:
    return {"c": "#ff0000", "w": width, "e": False, "p": [[100, y], [300, y], [500, y]]}


def test_every_background_value_has_a_template():
    assert set(TEMPLATES) == {value for value in Background.values if value}


@pytest.mark.parametrize("key", sorted(TEMPLATES))
def test_template_renders_to_a_non_blank_png(key):
    image = png(background_png(key))
    assert image.size == (1000, 750)
    colours = image.getcolors(maxcolors=1_000_000)
    assert colours is not None
    assert max(colours)[1] == PAPER, "mostly white paper"
    drawn = sum(count for count, colour in colours if colour != PAPER)
    assert drawn > 5000, f"{key}: only {drawn} pixels drawn"
    assert all(abs(c[0] - c[1]) < 30 and abs(c[1] - c[2]) < 30 for _, c in colours), "grey lines only"


def test_background_png_is_cached_and_refuses_unknown_keys():
    assert background_png("venn") is background_png("venn")
    with pytest.raises(KeyError):
        background_png("../../etc/passwd")


def test_red_stroke_shows_red_pixels_where_drawn():
    image = render_drawing([red_line()], "kwl")
    assert image.size == (1000, 750)
    assert image.getpixel((200, 600)) == RED
    assert image.getpixel((200, 600 - 6)) == image.getpixel((200, 600 + 6)) == RED, "the stroke is 14 wide"
    assert image.getpixel((95, 600)) == RED, "round cap beyond the first point"
    assert image.getpixel((200, 630)) == PAPER, "nothing drawn away from the stroke"


def test_eraser_restores_the_background_not_white():
    # The KWL header band is shaded, so erasing must bring back the band's colour, not paint white.
    background = background_image("kwl")
    at_band, at_line = (400, 90), (347, 400)
    assert background.getpixel(at_band) != PAPER
    strokes = [
        {"c": "#ff0000", "w": 30, "e": False, "p": [[300, 90], [500, 90]]},
        {"c": "#ff0000", "w": 30, "e": False, "p": [[347, 300], [347, 500]]},
    ]
    drawn = render_drawing(strokes, "kwl")
    assert drawn.getpixel(at_band) == RED
    assert drawn.getpixel(at_line) == RED
    erased = render_drawing(
        [
            *strokes,
            {"c": "#ffffff", "w": 60, "e": True, "p": [[300, 90], [500, 90]]},
            {"c": "#000000", "w": 60, "e": True, "p": [[347, 300], [347, 500]]},
        ],
        "kwl",
    )
    assert erased.getpixel(at_band) == background.getpixel(at_band)
    assert erased.getpixel(at_line) == background.getpixel(at_line)
    # Ink drawn after the eraser shows again.
    redrawn = render_drawing(
        [*strokes, {"c": "#ff0000", "w": 60, "e": True, "p": [[300, 90], [500, 90]]}, red_line(y=90)], "kwl"
    )
    assert redrawn.getpixel(at_band) == RED


def test_single_tap_draws_a_dot():
    image = render_drawing([{"c": "#ff0000", "w": 20, "e": False, "p": [[500, 375]]}], "")
    assert image.getpixel((500, 375)) == RED
    assert image.getpixel((506, 375)) == RED


def test_render_png_full_size_and_scaled_down():
    assert png(render_png([red_line()], "venn")).size == (1000, 750)
    assert png(render_png([red_line()], "venn", max_size=500)).size == (500, 375)
    assert png(render_png([red_line()], "venn", max_size=(400, 400))).size == (400, 300)
    assert png(render_png([red_line()], "venn", max_size=4000)).size == (1000, 750), "never scaled up"


def test_render_at_another_size_scales_coordinates():
    image = render_drawing([red_line()], "", size=(500, 375))
    assert image.size == (500, 375)
    assert image.getpixel((100, 300)) == RED


@pytest.mark.parametrize("key", ["pmi", ""])
def test_thumbnail_is_320_wide(key):
    thumb = png(thumbnail_png([red_line()], key))
    assert thumb.size == (320, 240)
    r, g, b = thumb.getpixel((64, 192))
    assert r > 200 and g < 80 and b < 80
    assert png(thumbnail_png([], key, width=160)).size == (160, 120)


@pytest.mark.parametrize("key", ["", "nonsense", None, "VENN"])
def test_unknown_background_is_plain_white(key):
    image = render_drawing([], key)  # type: ignore[arg-type]
    assert image.size == (1000, 750)
    assert image.getcolors() == [(1000 * 750, PAPER)]


def test_malformed_strokes_are_skipped_not_fatal():
    strokes = [
        "nonsense",
        {"p": "nonsense"},
        {"c": "red", "w": "wide", "p": [[10, 10], [20, "x"], [None, 1], [30, 30, 30], [40, 40]]},
        {"c": "#00ff00", "w": 10, "p": [[-50, 375], [2000, 375]]},  # clamped onto the canvas
        red_line(),
    ]
    image = render_drawing(strokes, "venn")
    assert image.getpixel((200, 600)) == RED
    assert image.getpixel((999, 375)) == (0, 255, 0)
    assert image.getpixel((25, 25)) == (0, 0, 0), "a bad colour is drawn black"
    assert render_drawing("nonsense", "venn").size == (1000, 750)


def test_rendering_is_deterministic():
    strokes = [
        red_line(),
        {"c": "#1f6feb", "w": 6, "e": False, "p": [[x, 300 + (x * 7) % 90] for x in range(100, 900, 5)]},
        {"c": "#ffffff", "w": 40, "e": True, "p": [[400, 250], [420, 420]]},
    ]
    for key in ("diamond", ""):
        assert render_png(strokes, key) == render_png(strokes, key)
        assert thumbnail_png(strokes, key) == thumbnail_png(strokes, key)


# --- What a drawing may cost to render (issue 12, finding 1) -------------------------------------


def probe_card() -> list[dict]:
    """The hostile probe's drawing: 500 strokes × 400 random points, 60 wide, every second one an
    eraser (~1.9 MB of JSON; 5–6.5 s of CPU per render before the budget)."""
    rng = random.Random(12)
    return [
        {
            "c": "#123456",
            "w": 60,
            "e": index % 2 == 1,
            "p": [[rng.randint(0, 1000), rng.randint(0, 750)] for _ in range(400)],
        }
        for index in range(500)
    ]


def compact(data: object) -> str:
    """JSON as a client sends it (no spaces): the probe's card just fits Django's 2 MB body limit."""
    text = json.dumps(data, separators=(",", ":"))
    assert len(text) < 2 * 1024 * 1024
    return text


def scribble(points: int, width: int, seed: int = 1, step: int = 40) -> dict:
    """A pen stroke wandering over the canvas, STEP units per point."""
    rng = random.Random(seed)
    x, y, path = 500, 375, []
    for _ in range(points):
        x = min(1000, max(0, x + rng.randint(-step, step)))
        y = min(750, max(0, y + rng.randint(-step, step)))
        if not path or path[-1] != [x, y]:
            path.append([x, y])
    return {"c": "#1d2433", "w": width, "e": False, "p": path}


def at_the_budget() -> tuple[list[dict], dict]:
    """Strokes costing just under the budget, and one more stroke that takes them over it."""
    strokes: list[dict] = []
    seed = 0
    while True:
        seed += 1
        stroke = scribble(300, 26, seed)
        if render.drawing_cost([*strokes, stroke]) > render.RENDER_BUDGET:
            break
        strokes.append(stroke)
    filler = {"c": "#ff0000", "w": 1, "e": False, "p": [[0, 0]]}
    while render.drawing_cost([*strokes, filler]) <= render.RENDER_BUDGET:
        strokes.append(filler)
    return strokes, stroke


def test_the_probes_drawing_is_refused_with_a_translated_message(tenant_a: Tenant) -> None:
    strokes = probe_card()
    english(tenant_a.student)
    client = session(tenant_a.student)
    created = send(client, "POST", "/api/cards", compact({"kind": "drawing", "strokes": strokes}))
    assert created.status_code == 400, created.content[:200]
    assert created.json()["detail"] == TOO_DETAILED
    assert in_language("ja", TOO_DETAILED) != TOO_DETAILED != in_language("zh-hant", TOO_DETAILED)
    assert not Card.objects.filter(owner=tenant_a.student, kind="drawing").exists()
    # The editor's autosave and the API's: the same action, the same refusal; nothing is saved.
    card = Card.objects.filter(owner=tenant_a.student, frozen=False).first()
    assert card is not None
    page = login_as(Client(raise_request_exception=False), tenant_a.student)
    body = compact({"version": card.version, "fields": {"strokes": strokes}})
    saved = page.post(f"/cards/{card.pk}/autosave/", body, content_type="application/json")
    assert saved.status_code == 400 and saved.json()["detail"] == TOO_DETAILED
    patched = send(client, "PATCH", f"/api/cards/{card.pk}", body)
    assert patched.status_code == 400 and patched.json()["detail"] == TOO_DETAILED
    card.refresh_from_db()
    assert card.strokes == []


def test_a_drawing_at_the_budget_is_accepted_and_one_more_stroke_is_not(tenant_a: Tenant) -> None:
    strokes, one_more = at_the_budget()
    assert render.drawing_cost(strokes) <= render.RENDER_BUDGET
    assert validate_strokes(strokes) == strokes
    client = session(tenant_a.student)
    created = send(client, "POST", "/api/cards", {"kind": "drawing", "strokes": strokes})
    assert created.status_code == 201, created.content[:200]
    refused = send(client, "POST", "/api/cards", {"kind": "drawing", "strokes": [*strokes, one_more]})
    assert refused.status_code == 400


def test_points_that_repeat_the_one_before_are_dropped() -> None:
    stroke = {
        "c": "#000000",
        "w": 6,
        "e": False,
        "p": [[1, 1], [1, 1], [2, 2], [2, 2], [2, 2], [1, 1], [-5, 0], [0, 0]],
    }
    assert validate_strokes([stroke])[0]["p"] == [[1, 1], [2, 2], [1, 1], [0, 0]]


def test_a_drawing_stored_over_the_budget_still_renders_up_to_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # A card saved before the budget existed: the renderer draws what the budget allows and leaves
    # the rest out, instead of spending seconds on it.
    rng = random.Random(3)
    band = [  # the probe's kind of strokes, kept between y=300 and y=450
        {"c": "#123456", "w": 60, "e": False, "p": [[rng.randint(0, 1000), rng.randint(300, 450)] for _ in range(400)]}
        for _ in range(100)
    ]
    first, late = red_line(y=100), {"c": "#0000ff", "w": 10, "e": False, "p": [[500, 700]]}
    discs = 0
    real_ellipse = ImageDraw.ImageDraw.ellipse

    def counting(self: ImageDraw.ImageDraw, *args: object, **kwargs: object) -> None:
        nonlocal discs
        discs += 1
        real_ellipse(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ImageDraw.ImageDraw, "ellipse", counting)
    image = render_drawing([first, *band, late], "")
    assert image.getpixel((200, 100)) == RED, "what fits in the budget is drawn"
    assert image.getpixel((500, 700)) != (0, 0, 255), "strokes past the budget are not"
    # Every vertex of a 60-wide stroke costs at least a point and a disc of the budget.
    assert discs <= render.RENDER_BUDGET / (render.COST_POINT + render.COST_DISC + 60 * render.COST_DISC_WIDTH)
    assert render_drawing([first, late], "").getpixel((500, 700)) == (0, 0, 255)


def test_drawing_js_counts_the_cost_as_the_server_does() -> None:
    script = (Path(render.__file__).parents[1] / "core/static/classnote/drawing.js").read_text(encoding="utf-8")
    for name in (
        "COST_STROKE",
        "COST_POINT",
        "COST_DISC",
        "COST_DISC_WIDTH",
        "COST_LENGTH",
        "COST_LENGTH_WIDTH",
        "RENDER_BUDGET",
        "MAX_STROKES",
        "MAX_POINTS",
    ):
        match = re.search(rf"const {name} = ([0-9_.]+);", script)
        assert match, f"drawing.js has no {name}"
        value = getattr(render, name, None) if name.startswith(("COST", "RENDER")) else getattr(actions, name)
        assert float(match.group(1).replace("_", "")) == value, name
