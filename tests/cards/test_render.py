"""Server-side rendering of drawing cards: templates, strokes, eraser, thumbnails."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from classnote.cards.models import Background
from classnote.cards.render import render_drawing, render_png, thumbnail_png
from classnote.cards.templates_bg import PAPER, TEMPLATES, background_image, background_png

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
