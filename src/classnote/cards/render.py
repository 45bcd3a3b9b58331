"""Server-side rendering of drawing cards (PNG export, thumbnails, printing).

Strokes are the format checked by `classnote.cards.actions.validate_strokes`:
``[{"c": "#rrggbb", "w": 1..60, "e": eraser?, "p": [[x, y], ...]}]`` on a 1000×750 logical canvas.
They are drawn in order as polylines with round joins and caps onto a transparent ink layer; an eraser
stroke clears the ink it covers (back to transparent), so the background template shows through again.
The ink layer is then composited over the template. This matches drawing.js, which does the same with
``globalCompositeOperation = "destination-out"`` on its own ink canvas.

Rendering never raises on odd stroke data (it is stored JSON): malformed strokes or points are skipped,
coordinates are clamped to the canvas and an unknown background is plain white.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from PIL import Image, ImageDraw

from classnote.cards.templates_bg import HEIGHT, TEMPLATES, WIDTH, background_image

INK_CLEAR = (0, 0, 0, 0)
DEFAULT_COLOUR = (0, 0, 0, 255)
THUMBNAIL_WIDTH = 320


@lru_cache(maxsize=32)
def _background(key: str, size: tuple[int, int]) -> Image.Image:
    """The template as RGBA at `size` (cached; shared, so never drawn on)."""
    image = background_image(key)
    if image.size != size:
        image = image.resize(size, Image.Resampling.LANCZOS)
    return image.convert("RGBA")


def _colour(value: Any) -> tuple[int, int, int, int]:
    if isinstance(value, str) and len(value) == 7 and value[0] == "#":
        try:
            rgb = int(value[1:], 16)
        except ValueError:
            return DEFAULT_COLOUR
        return (rgb >> 16, (rgb >> 8) & 0xFF, rgb & 0xFF, 255)
    return DEFAULT_COLOUR


def _points(raw: Any, sx: float, sy: float) -> list[tuple[float, float]]:
    if not isinstance(raw, list) or not raw:
        return []
    try:
        # Fast path for stored (validated) data: numbers, all on the canvas.
        xs, ys = zip(*raw, strict=True)
        if (
            math.isfinite(sum(xs) + sum(ys))
            and min(xs) >= 0
            and min(ys) >= 0
            and max(xs) <= WIDTH
            and max(ys) <= HEIGHT
        ):
            if sx == 1 and sy == 1:
                return list(zip(xs, ys, strict=True))
            return [(x * sx, y * sy) for x, y in zip(xs, ys, strict=True)]
    except (TypeError, ValueError, OverflowError):  # OverflowError: an int beyond any float
        pass
    points: list[tuple[float, float]] = []
    for point in raw:
        try:
            x, y = point
            x = min(WIDTH, max(0, int(x)))
            y = min(HEIGHT, max(0, int(y)))
        except (TypeError, ValueError, OverflowError):
            continue
        points.append((x * sx, y * sy))
    return points


def _draw_strokes(draw: ImageDraw.ImageDraw, strokes: Iterable[Any], sx: float, sy: float) -> None:
    scale = (sx + sy) / 2
    for stroke in strokes:
        if not isinstance(stroke, dict):
            continue
        points = _points(stroke.get("p"), sx, sy)
        if not points:
            continue
        fill = INK_CLEAR if stroke.get("e") else _colour(stroke.get("c"))
        try:
            width = max(1, min(60, int(stroke.get("w", 4))))
        except (TypeError, ValueError, OverflowError):  # OverflowError: int(inf)
            width = 4
        line_width = max(1, round(width * scale))
        if len(points) > 1:
            draw.line(points, fill=fill, width=line_width)
        if line_width >= 3 or len(points) == 1:
            # Round joins and caps: a disc on every vertex, the same size and position as the line's
            # cross-section. (Same shape as Pillow's joint="curve" plus caps, at a quarter of the cost.)
            r = (line_width - 1) / 2
            off = 0.5 if line_width % 2 == 0 else 0.0
            for x, y in points:
                draw.ellipse((x - r + off, y - r + off, x + r + off, y + r + off), fill=fill)


def _background_key(background: Any) -> str:
    return background if isinstance(background, str) and background in TEMPLATES else ""


def render_drawing(strokes: Any, background: str, size: tuple[int, int] = (WIDTH, HEIGHT)) -> Image.Image:
    """The drawing as an RGB image of `size` (the 1000×750 logical canvas scaled to it)."""
    width, height = max(1, int(size[0])), max(1, int(size[1]))
    ink = Image.new("RGBA", (width, height), INK_CLEAR)
    if isinstance(strokes, list) and strokes:
        _draw_strokes(ImageDraw.Draw(ink), strokes, width / WIDTH, height / HEIGHT)
    return Image.alpha_composite(_background(_background_key(background), (width, height)), ink).convert("RGB")


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=6)
    return out.getvalue()


def render_png(strokes: Any, background: str, max_size: int | tuple[int, int] | None = None) -> bytes:
    """PNG bytes of the drawing at 1000×750, or scaled down (never up) to fit in `max_size`
    (an int is a square box, so 500 gives 500×375)."""
    image = render_drawing(strokes, background)
    if max_size is not None:
        box = (max_size, max_size) if isinstance(max_size, int) else max_size
        factor = min(1.0, box[0] / WIDTH, box[1] / HEIGHT)
        if factor < 1.0:
            size = (max(1, round(WIDTH * factor)), max(1, round(HEIGHT * factor)))
            image = image.resize(size, Image.Resampling.LANCZOS)
    return _png(image)


def thumbnail_png(strokes: Any, background: str, width: int = THUMBNAIL_WIDTH) -> bytes:
    """A `width`-pixel-wide PNG (4:3). Drawn at full size and scaled down, so thin lines stay smooth."""
    width = max(1, min(WIDTH, int(width)))
    image = render_drawing(strokes, background)
    return _png(image.resize((width, max(1, round(width * HEIGHT / WIDTH))), Image.Resampling.LANCZOS))
