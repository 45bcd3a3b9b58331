"""Thinking-tool backgrounds for drawing cards, drawn with Pillow on the 1000×750 logical canvas.

White paper, light grey lines and no text (so no fonts, and nothing to translate): the pupil writes the
labels. Each template is drawn at SUPERSAMPLE× and scaled down, which gives smooth (anti-aliased) lines;
the results are cached, so that cost is paid once per process.

The "xyw" background is the **Y chart** (three regions meeting in the middle: looks like / sounds like /
feels like). It is the one of the three that fits a 4:3 card best and is the most used in primary
classes; an X chart (four triangles) is kept here as `x_chart` for a later background value.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import lru_cache

from PIL import Image, ImageDraw

WIDTH, HEIGHT = 1000, 750
PAPER = (255, 255, 255)
LINE = (185, 190, 200)
BAND = (240, 242, 246)
LINE_WIDTH = 4
MARGIN = 40
SUPERSAMPLE = 3

Point = tuple[float, float]


class _Pen:
    """Draws in logical (1000×750) coordinates on a supersampled image."""

    def __init__(self) -> None:
        self.image = Image.new("RGB", (WIDTH * SUPERSAMPLE, HEIGHT * SUPERSAMPLE), PAPER)
        self.draw = ImageDraw.Draw(self.image)
        self.width = LINE_WIDTH * SUPERSAMPLE

    @staticmethod
    def _xy(points: list[Point]) -> list[tuple[float, float]]:
        return [(x * SUPERSAMPLE, y * SUPERSAMPLE) for x, y in points]

    def line(self, *points: Point, caps: bool = True) -> None:
        """A polyline with round joins; round caps too, unless it ends on another line (`caps=False`)."""
        self.draw.line(self._xy(list(points)), fill=LINE, width=self.width, joint="curve")
        if not caps:
            return
        r = self.width / 2
        for x, y in self._xy([points[0], points[-1]]):
            self.draw.ellipse((x - r, y - r, x + r, y + r), fill=LINE)

    def polygon(self, *points: Point, fill: tuple[int, int, int] | None = None) -> None:
        self.draw.polygon(self._xy(list(points)), fill=fill, outline=LINE, width=self.width)

    def rect(self, x0: float, y0: float, x1: float, y1: float, fill: tuple[int, int, int] | None = None) -> None:
        s = SUPERSAMPLE
        self.draw.rounded_rectangle(
            (x0 * s, y0 * s, x1 * s, y1 * s), radius=12 * s, fill=fill, outline=LINE, width=self.width
        )

    def circle(self, cx: float, cy: float, r: float, fill: tuple[int, int, int] | None = None) -> None:
        s = SUPERSAMPLE
        self.draw.ellipse(
            ((cx - r) * s, (cy - r) * s, (cx + r) * s, (cy + r) * s),
            fill=fill,
            outline=LINE if fill is None else None,
            width=self.width,
        )

    def done(self) -> Image.Image:
        return self.image.resize((WIDTH, HEIGHT), Image.Resampling.LANCZOS)


def blank() -> Image.Image:
    """Plain paper: the fallback for no background or an unknown one."""
    return Image.new("RGB", (WIDTH, HEIGHT), PAPER)


def venn() -> Image.Image:
    """Two overlapping circles."""
    pen = _Pen()
    r = 270
    pen.circle(WIDTH / 2 - 170, HEIGHT / 2, r)
    pen.circle(WIDTH / 2 + 170, HEIGHT / 2, r)
    return pen.done()


def y_chart() -> Image.Image:
    """A frame split by a Y into three regions of equal area (top, left, right)."""
    pen = _Pen()
    x0, y0, x1, y1 = MARGIN, MARGIN, WIDTH - MARGIN, HEIGHT - MARGIN
    pen.rect(x0, y0, x1, y1)
    # The top triangle (base w, height h) equals each side region (w/2 · H − w·h/4): h = 2H/3.
    cx, cy = WIDTH / 2, y0 + 2 * (y1 - y0) / 3
    pen.line((x0 + 4, y0 + 4), (cx, cy), (x1 - 4, y0 + 4), caps=False)
    pen.line((cx, cy), (cx, y1), caps=False)
    return pen.done()


def x_chart() -> Image.Image:
    """A frame split by both diagonals into four triangles (not yet a background value)."""
    pen = _Pen()
    x0, y0, x1, y1 = MARGIN, MARGIN, WIDTH - MARGIN, HEIGHT - MARGIN
    pen.rect(x0, y0, x1, y1)
    pen.line((x0 + 4, y0 + 4), (x1 - 4, y1 - 4), caps=False)
    pen.line((x1 - 4, y0 + 4), (x0 + 4, y1 - 4), caps=False)
    return pen.done()


def fishbone() -> Image.Image:
    """A spine ending in a head (the effect) on the right, with three bones (causes) on each side."""
    pen = _Pen()
    spine_y = HEIGHT / 2
    head_x = 790
    pen.line((60, spine_y), (head_x, spine_y))
    pen.polygon((head_x, spine_y - 120), (WIDTH - MARGIN, spine_y), (head_x, spine_y + 120))
    # Tail fin.
    pen.line((95, spine_y - 70), (60, spine_y), (95, spine_y + 70))
    for x in (330, 520, 710):
        pen.line((x, spine_y), (x - 170, MARGIN + 40))
        pen.line((x, spine_y), (x - 170, HEIGHT - MARGIN - 40))
    return pen.done()


def pyramid() -> Image.Image:
    """A triangle in three horizontal layers of equal height."""
    pen = _Pen()
    top, base = (WIDTH / 2, MARGIN), HEIGHT - MARGIN
    half_base = 440
    pen.polygon(top, (WIDTH / 2 - half_base, base), (WIDTH / 2 + half_base, base))
    for k in (1, 2):
        y = top[1] + k * (base - top[1]) / 3
        half = half_base * (y - top[1]) / (base - top[1])
        pen.line((WIDTH / 2 - half, y), (WIDTH / 2 + half, y), caps=False)
    return pen.done()


def _columns(pen: _Pen, header: float) -> list[float]:
    """Three equal columns under a shaded header band; returns the column centres."""
    x0, y0, x1, y1 = MARGIN, MARGIN, WIDTH - MARGIN, HEIGHT - MARGIN
    s = SUPERSAMPLE
    pen.draw.rounded_rectangle((x0 * s, y0 * s, x1 * s, (y0 + header + 40) * s), radius=12 * s, fill=BAND)
    pen.draw.rectangle((x0 * s, (y0 + header) * s, x1 * s, y1 * s), fill=PAPER)
    pen.rect(x0, y0, x1, y1)
    pen.line((x0, y0 + header), (x1, y0 + header), caps=False)
    step = (x1 - x0) / 3
    for k in (1, 2):
        pen.line((x0 + k * step, y0), (x0 + k * step, y1), caps=False)
    return [x0 + step * (k + 0.5) for k in range(3)]


def kwl() -> Image.Image:
    """Three columns (Know / Want to know / Learned) with a header band for the pupil's headings."""
    pen = _Pen()
    _columns(pen, header=100)
    return pen.done()


def pmi() -> Image.Image:
    """Three columns (Plus / Minus / Interesting), marked +, − and ! in the header: symbols, not text."""
    pen = _Pen()
    centres = _columns(pen, header=100)
    cy, arm = MARGIN + 50, 24
    plus, minus, bang = centres
    pen.line((plus - arm, cy), (plus + arm, cy))
    pen.line((plus, cy - arm), (plus, cy + arm))
    pen.line((minus - arm, cy), (minus + arm, cy))
    pen.line((bang, cy - arm - 4), (bang, cy + arm - 18))
    pen.circle(bang, cy + arm, 4, fill=LINE)
    return pen.done()


def diamond() -> Image.Image:
    """Diamond ranking: nine diamonds in rows of 1-2-3-2-1 (a 3×3 grid turned by 45°)."""
    pen = _Pen()
    h = (HEIGHT - 2 * 30) / 6  # half-diagonal of one cell: five rows span six half-diagonals
    gap = 9
    for row, count in enumerate((1, 2, 3, 2, 1)):
        cy = 30 + h + row * h
        for i in range(count):
            cx = WIDTH / 2 + (i - (count - 1) / 2) * 2 * h
            d = h - gap
            pen.polygon((cx, cy - d), (cx + d, cy), (cx, cy + d), (cx - d, cy))
    return pen.done()


TEMPLATES: dict[str, Callable[[], Image.Image]] = {
    "venn": venn,
    "xyw": y_chart,
    "fishbone": fishbone,
    "pyramid": pyramid,
    "kwl": kwl,
    "pmi": pmi,
    "diamond": diamond,
}


@lru_cache(maxsize=len(TEMPLATES) + 1)
def background_image(key: str) -> Image.Image:
    """The background for `key` (plain paper for "" or an unknown key). Shared: never draw on it."""
    make = TEMPLATES.get(key, blank)
    image = make()
    image.load()
    return image


@lru_cache(maxsize=len(TEMPLATES))
def background_png(key: str) -> bytes:
    """PNG bytes of a template, e.g. for /cards/backgrounds/<key>.png. Raises KeyError for an unknown key
    (only known keys are cached, so a request for any name cannot grow the cache)."""
    if key not in TEMPLATES:
        raise KeyError(key)
    out = io.BytesIO()
    background_image(key).save(out, format="PNG", optimize=True)
    return out.getvalue()
