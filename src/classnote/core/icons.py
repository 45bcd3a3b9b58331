"""Draws the app icons of the offline shell (manifest.webmanifest, apple-touch-icon) with Pillow.

Run once after changing the design, and commit the PNGs:
    .venv/bin/python -m classnote.core.icons
The design is favicon.svg's: a blue tile with a white note card and three lines. The plain icons
have rounded corners on a transparent ground; the maskable one and Apple's fill the whole square
(the system cuts its own shape), with the card inside the central safe zone (80 % circle).
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

ICONS = Path(__file__).resolve().parent / "static" / "classnote" / "icons"
BLUE = (26, 102, 220, 255)  # --accent of app.css
WHITE = (255, 255, 255, 255)
SCALE = 4  # drawn large, then reduced: smooth edges without an SVG renderer


def draw(size: int, *, full_bleed: bool, content: float) -> Image.Image:
    """One icon of size x size pixels; content: the share of the side the 32-unit design covers."""
    big = size * SCALE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    if full_bleed:
        pen.rectangle((0, 0, big, big), fill=BLUE)
    side = big * content
    offset = (big - side) / 2
    unit = side / 32  # favicon.svg's viewBox is 32 x 32

    def at(x: float, y: float) -> tuple[float, float]:
        return (offset + x * unit, offset + y * unit)

    if not full_bleed:
        pen.rounded_rectangle((*at(0, 0), *at(32, 32)), radius=7 * unit, fill=BLUE)
    pen.rounded_rectangle((*at(7, 8), *at(25, 24)), radius=2 * unit, fill=WHITE)
    for x_end, y in ((22, 13), (22, 17), (17, 21)):
        pen.rectangle((*at(10, y - 1), *at(x_end, y + 1)), fill=BLUE)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    ICONS.mkdir(parents=True, exist_ok=True)
    for size in (192, 512):
        draw(size, full_bleed=False, content=1.0).save(ICONS / f"icon-{size}.png", optimize=True)
        # Maskable: the card (7..25 of 32 units) stays inside the 80 % safe circle.
        draw(size, full_bleed=True, content=0.8).save(ICONS / f"maskable-{size}.png", optimize=True)
    apple = draw(180, full_bleed=True, content=0.9).convert("RGB")
    apple.save(ICONS / "apple-touch-icon.png", optimize=True)


if __name__ == "__main__":
    main()
