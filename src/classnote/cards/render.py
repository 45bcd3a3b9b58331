"""Server-side rendering of drawing cards (PNG export, thumbnails, printing).

Strokes are the format checked by `classnote.cards.actions.validate_strokes`:
``[{"c": "#rrggbb", "w": 1..60, "e": eraser?, "p": [[x, y], ...]}]`` on a 1000×750 logical canvas.
They are drawn in order as polylines with round joins and caps onto a transparent ink layer; an eraser
stroke clears the ink it covers (back to transparent), so the background template shows through again.
The ink layer is then composited over the template. This matches drawing.js, which does the same with
``globalCompositeOperation = "destination-out"`` on its own ink canvas.

Rendering never raises on odd stroke data (it is stored JSON): malformed strokes or points are skipped,
coordinates are clamped to the canvas and an unknown background is plain white.

**What a drawing costs.** Pillow's time grows with the number of strokes and points, with the discs of
the round joins (one per vertex of a stroke 3 or more wide) and with the length stroked (thin lines cost
per scan row, wide ones per pixel filled). `drawing_cost` estimates it, in nanoseconds of CPU on the
2-core reference machine of docs/performance.md: an upper bound fitted to measurements of every kind of
stroke (bench/render/). `classnote.cards.actions.validate_strokes` refuses a drawing above
`RENDER_BUDGET`, drawing.js counts the same way and stops input before it, and `render_drawing` stops
drawing at it, so a card stored before the budget existed (or edited in the database) costs no more.
Long strokes are drawn in pieces of `CHUNK_POINTS` points: each Pillow call holds the GIL, and the
request threads of the process need it too.

**Items.** Text boxes and stickies (classnote.cards.surface) are drawn over the ink, in their order,
as the editor shows them: a sticky's paper with a thin shadow, then the text wrapped to the box and
cut where the box ends. The font is the first of `FONTS` found on the machine (Debian's
fonts-noto-cjk: Japanese, both Chinese scripts and Latin in one face); without any, Pillow's own
font, which has no CJK glyphs (a warning is logged once). What the text costs is bounded by the box:
only the lines that fit are drawn, at most `MAX_ITEMS` boxes.

**Pictures.** Image items are drawn under the ink (the pen draws over a picture, the eraser shows it
again), each scaled to its box, from the bytes the caller read from storage (IMAGES: file id →
bytes, at most `MAX_IMAGE_BYTES` each; classnote.cards.drawings reads them). A picture that is
missing, too large or not decodable is left out, never an error.
"""

from __future__ import annotations

import io
import json
import logging
import math
from collections.abc import Iterable, Sequence
from functools import lru_cache
from itertools import islice
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from classnote.cards import surface
from classnote.cards.templates_bg import HEIGHT, TEMPLATES, WIDTH, background_image

logger = logging.getLogger(__name__)

INK_CLEAR = (0, 0, 0, 0)
DEFAULT_COLOUR = (0, 0, 0, 255)
THUMBNAIL_WIDTH = 320
# Bumped whenever the same strokes would render differently: stored renders of older versions are
# then rendered again (classnote.cards.drawings).
RENDER_VERSION = 3  # 2: text boxes and stickies; 3: pictures

# The cost model (see the module docstring; fitted in bench/render/fit.py). drawing.js has the same
# numbers: tests/cards/test_render.py checks that they agree.
COST_STROKE = 5500
COST_POINT = 600
COST_DISC = 800
COST_DISC_WIDTH = 35
COST_LENGTH = 30
COST_LENGTH_WIDTH = 0.85
# 50 ms of estimated drawing: the dearest drawing the budget lets through renders, PNG included, in
# well under 200 ms of CPU (docs/performance.md); a pupil's real drawings stay far below it.
RENDER_BUDGET = 50_000_000
CHUNK_POINTS = 64
# zlib's fastest level: on a busy drawing (many thin lines in many colours) level 6 took three times
# as long for a file 1 % smaller; on a plain one, files are about a third larger (bench/render).
PNG_LEVEL = 1
# A stored picture is re-encoded on upload (classnote.files.images), so far below this; a larger
# object (edited storage) is not drawn. Nor one of more pixels than MAX_IMAGE_PIXELS.
MAX_IMAGE_BYTES = 25 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000


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


def stroke_cost(width: int, points: Sequence[Sequence[float]]) -> float:
    """The estimated cost of one stroke of WIDTH (1..60) through POINTS, on the 1000×750 canvas."""
    count = len(points)
    if not count:
        return 0.0
    cost = float(COST_STROKE + count * COST_POINT)
    if width >= 3 or count == 1:  # a disc on every vertex (round joins and caps), or the one dot
        cost += count * (COST_DISC + COST_DISC_WIDTH * width)
    if count > 1:
        length = sum(map(math.dist, points, islice(points, 1, None)))
        cost += length * (COST_LENGTH + COST_LENGTH_WIDTH * width)
    return cost


def drawing_cost(strokes: Iterable[dict[str, Any]]) -> float:
    """The estimated cost of drawing STROKES, in the stored (validated) shape."""
    return sum(stroke_cost(stroke["w"], stroke["p"]) for stroke in strokes)


def _affordable(width: int, points: list[tuple[float, float]], budget: float) -> int:
    """How many of POINTS (from the first) a stroke may draw within BUDGET."""
    low, high = 0, len(points)
    while low < high:  # the cost grows with every point: the longest prefix within the budget
        middle = (low + high + 1) // 2
        if stroke_cost(width, points[:middle]) <= budget:
            low = middle
        else:
            high = middle - 1
    return low


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


def _draw_strokes(draw: ImageDraw.ImageDraw, strokes: Iterable[Any], sx: float, sy: float, budget: float) -> bool:
    """Draw STROKES until BUDGET is spent; False when some were left out (or cut short) for it."""
    scale = (sx + sy) / 2
    spent = 0.0
    for stroke in strokes:
        if not isinstance(stroke, dict):
            continue
        canvas_points = _points(stroke.get("p"), 1, 1)
        if not canvas_points:
            continue
        fill = INK_CLEAR if stroke.get("e") else _colour(stroke.get("c"))
        try:
            width = max(1, min(60, int(stroke.get("w", 4))))
        except (TypeError, ValueError, OverflowError):  # OverflowError: int(inf)
            width = 4
        cost = stroke_cost(width, canvas_points)
        complete = spent + cost <= budget
        if not complete:
            canvas_points = canvas_points[: _affordable(width, canvas_points, budget - spent)]
            if not canvas_points:
                return False
            cost = stroke_cost(width, canvas_points)
        spent += cost
        points = canvas_points if sx == 1 and sy == 1 else [(x * sx, y * sy) for x, y in canvas_points]
        line_width = max(1, round(width * scale))
        # In pieces that share their end points: the same pixels as one call (a line has no joins
        # of its own, the discs below make them), but no single call holds the GIL for long.
        for start in range(0, len(points) - 1, CHUNK_POINTS):
            draw.line(points[start : start + CHUNK_POINTS + 1], fill=fill, width=line_width)
        if line_width >= 3 or len(points) == 1:
            # Round joins and caps: a disc on every vertex, the same size and position as the line's
            # cross-section. (Same shape as Pillow's joint="curve" plus caps, at a quarter of the cost.)
            r = (line_width - 1) / 2
            off = 0.5 if line_width % 2 == 0 else 0.0
            for x, y in points:
                draw.ellipse((x - r + off, y - r + off, x + r + off, y + r + off), fill=fill)
        if not complete:
            return False
    return True


# CJK-capable fonts, the first found is used: Debian/Ubuntu's fonts-noto-cjk, then IPA and others.
FONTS = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 0),
    ("/usr/share/fonts/opentype/noto-cjk/NotoSansCJK-Regular.ttc", 0),
    ("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc", 0),
    ("/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc", 0),
    ("/usr/share/fonts/opentype/ipafont-gothic/ipagp.ttf", 0),
    ("/usr/share/fonts/truetype/fonts-japanese-gothic.ttf", 0),
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", 0),
    ("/System/Library/Fonts/ヒラギノ角ゴシック W3.ttc", 0),
)
TEXT_COLOUR = (29, 36, 51, 255)
SHADOW = (205, 208, 214, 255)  # the shadow under a sticky, as drawing.css shows it
LINE_HEIGHT = 1.4


@lru_cache(maxsize=16)
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """The text font at SIZE pixels (see FONTS)."""
    for path, index in FONTS:
        try:
            return ImageFont.truetype(path, size, index=index)
        except OSError:
            continue
    logger.warning("no CJK font found for drawing text on cards; install fonts-noto-cjk")
    return ImageFont.load_default(size)


def wrap(text: str, face: Any, width: float) -> list[str]:
    """TEXT broken into lines no wider than WIDTH: at any character (Japanese and Chinese have no
    spaces), after the last space of the line where there is one (so Latin words stay whole)."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for char in paragraph:
            if not line or face.getlength(line + char) <= width:
                line += char
                continue
            cut = line.rfind(" ")
            if char != " " and cut > 0:
                lines.append(line[:cut])
                line = line[cut + 1 :] + char
            else:
                lines.append(line)
                line = "" if char == " " else char
        lines.append(line)
    return lines


def _draw_items(image: Image.Image, clean: list[dict[str, Any]]) -> None:
    """Text boxes and stickies of (validated) CLEAN onto IMAGE (RGBA, any size: scaled from the 1000×750 card)."""
    if not clean:
        return
    sx, sy = image.width / WIDTH, image.height / HEIGHT
    draw = ImageDraw.Draw(image)
    for item in clean:
        if item["k"] not in surface.TEXT_KINDS:
            continue
        x0, y0 = item["x"] * sx, item["y"] * sy
        x1, y1 = (item["x"] + item["w"]) * sx, (item["y"] + item["h"]) * sy
        ink = TEXT_COLOUR
        if item["k"] == "sticky":
            draw.rectangle((x0 + 3 * sx, y0 + 4 * sy, x1 + 3 * sx, y1 + 4 * sy), fill=SHADOW)
            draw.rectangle((x0, y0, x1, y1), fill=_colour(item["c"]))
        else:
            ink = _colour(item["c"])
        size = max(1, round(surface.FONT_SIZE[item["k"]] * sy))
        face = font(size)
        pad = surface.PADDING * sx
        step = size * LINE_HEIGHT
        y = y0 + pad
        for line in wrap(item["t"], face, x1 - x0 - 2 * pad):
            if y + size > y1 + 1:
                break
            if line:
                draw.text((x0 + pad, y + (step - size) / 2), line, fill=ink, font=face)
            y += step


def _clean_items(items: Any) -> list[dict[str, Any]]:
    if not isinstance(items, list) or not items:
        return []
    try:
        return surface.validate_items(items[: surface.MAX_ITEMS])
    except Exception:  # stored data edited by hand: draw nothing rather than fail the picture
        logger.warning("items of a card are not valid; drawn without them")
        return []


def _picture(data: bytes, size: tuple[int, int]) -> Image.Image | None:
    """DATA decoded and scaled to SIZE (RGBA), or None if it is no picture we draw."""
    if not isinstance(data, bytes | bytearray) or len(data) > MAX_IMAGE_BYTES:
        return None
    try:
        with Image.open(io.BytesIO(data)) as source:
            if source.width * source.height > MAX_IMAGE_PIXELS:
                return None
            source.draft("RGB", size)  # JPEG: decoded at a reduced scale when that is enough
            return source.convert("RGBA").resize(size, Image.Resampling.LANCZOS)
    except Exception:  # not decodable (or a decompression bomb): left out
        logger.warning("a picture on a card could not be drawn")
        return None


def _draw_pictures(image: Image.Image, items: list[dict[str, Any]], images: Any) -> None:
    """The image items of ITEMS onto IMAGE (RGBA, any size), from IMAGES (file id → bytes)."""
    if not isinstance(images, dict):
        return
    sx, sy = image.width / WIDTH, image.height / HEIGHT
    for item in items:
        if item["k"] != "image" or item["f"] not in images:
            continue
        x0, y0 = round(item["x"] * sx), round(item["y"] * sy)
        size = (max(1, round((item["x"] + item["w"]) * sx) - x0), max(1, round((item["y"] + item["h"]) * sy) - y0))
        picture = _picture(images[item["f"]], size)
        if picture is not None:
            image.alpha_composite(picture, (x0, y0))


def _background_key(background: Any) -> str:
    return background if isinstance(background, str) and background in TEMPLATES else ""


def render_drawing(
    strokes: Any,
    background: str,
    size: tuple[int, int] = (WIDTH, HEIGHT),
    budget: float = RENDER_BUDGET,
    items: Any = None,
    images: Any = None,
) -> Image.Image:
    """The drawing as an RGB image of `size` (the 1000×750 logical canvas scaled to it), with its
    ITEMS' pictures (from IMAGES) under it and their text over it. Strokes past BUDGET (only in
    drawings stored before it was enforced) are left out."""
    width, height = max(1, int(size[0])), max(1, int(size[1]))
    ink = Image.new("RGBA", (width, height), INK_CLEAR)
    drawn = not (isinstance(strokes, list) and strokes) or _draw_strokes(
        ImageDraw.Draw(ink), strokes, width / WIDTH, height / HEIGHT, budget
    )
    if not drawn:
        logger.warning("a drawing over the render budget was drawn only up to the budget")
    clean = _clean_items(items)
    image = _background(_background_key(background), (width, height)).copy()
    _draw_pictures(image, clean, images)
    image.alpha_composite(ink)
    _draw_items(image, clean)
    return image.convert("RGB")


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=PNG_LEVEL)
    return out.getvalue()


def encode(image: Image.Image, width: int | None = None) -> bytes:
    """IMAGE as PNG, scaled down to WIDTH (4:3) if given."""
    if width is not None:
        image = image.resize((width, max(1, round(width * HEIGHT / WIDTH))), Image.Resampling.LANCZOS)
    return _png(image)


def pictures(strokes: Any, background: str, items: Any = None, images: Any = None) -> dict[str, bytes]:
    """The three pictures of a drawing from one render: "full" (1000×750), "320" and "640" wide.
    Run in a render process (classnote.cards.drawings): it needs nothing but Pillow."""
    image = render_drawing(strokes, background, items=items, images=images)
    return {"full": encode(image), "320": encode(image, 320), "640": encode(image, 640)}


def _parse(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return []


def pictures_of_json(
    strokes_json: str, background: str, items_json: str = "[]", images: Any = None
) -> dict[str, bytes]:
    """`pictures` of strokes and items given as JSON text (as stored): parsed here, in the render process."""
    return pictures(_parse(strokes_json), background, _parse(items_json), images)


def render_png(
    strokes: Any,
    background: str,
    max_size: int | tuple[int, int] | None = None,
    items: Any = None,
    images: Any = None,
) -> bytes:
    """PNG bytes of the drawing at 1000×750, or scaled down (never up) to fit in `max_size`
    (an int is a square box, so 500 gives 500×375)."""
    image = render_drawing(strokes, background, items=items, images=images)
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
