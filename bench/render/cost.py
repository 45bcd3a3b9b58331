"""What drawings cost to render: the cost model against measurements, and the dearest drawings the
budget lets through (classnote.cards.render; issue 12, finding 1).

    .venv/bin/python -m bench.render.cost              # both parts, ~3 min on 2 cores
    .venv/bin/python -m bench.render.cost --fit        # the model against a grid of stroke kinds
    .venv/bin/python -m bench.render.cost --worst      # drawings at the budget, rendered N times
    .venv/bin/python -m bench.render.cost --real       # heavy hand-made drawings against the budget

Times are CPU seconds of this process (time.process_time), the fastest of --repeat runs for the
fit (noise on a shared box only ever adds), and the median and the slowest for the drawings at the
budget. Nothing is stored and no server is needed.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

Stroke = dict[str, Any]


def _walk(rng: random.Random, points: int, step: int | str | None) -> list[list[int]]:
    """A path: random points anywhere (None), jumps from edge to edge ("v", "h"), or a walk of STEP."""
    x, y = rng.randint(0, 1000), rng.randint(0, 750)
    path = [[x, y]]
    while len(path) < points:
        if step is None:
            x, y = rng.randint(0, 1000), rng.randint(0, 750)
        elif step == "v":
            x, y = rng.randint(0, 1000), (0 if y > 375 else 750)
        elif step == "h":
            x, y = (0 if x > 500 else 1000), rng.randint(0, 750)
        else:
            assert isinstance(step, int)
            angle = rng.random() * 2 * math.pi
            x = min(1000, max(0, round(x + step * math.cos(angle))))
            y = min(750, max(0, round(y + step * math.sin(angle))))
        if [x, y] != path[-1]:
            path.append([x, y])
    return path


def _strokes(rng: random.Random, count: int, points: int, width: int, step: int | str | None) -> list[Stroke]:
    return [
        {"c": f"#{rng.randint(0, 0xFFFFFF):06x}", "w": width, "e": i % 2 == 1, "p": _walk(rng, points, step)}
        for i in range(count)
    ]


def _cpu(fn: Callable[[], object], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        began = time.process_time()
        fn()
        times.append(time.process_time() - began)
    return times


def fit(repeat: int) -> None:
    from classnote.cards import render

    rng = random.Random(4)
    base = min(_cpu(lambda: render.render_drawing([], ""), 9))
    shapes = [
        ("3000 dots", 3000, 1, None),
        ("1500 long lines", 1500, 2, None),
        ("1500 vertical lines", 1500, 2, "v"),
        ("20 × 1000, step 1", 20, 1000, 1),
        ("20 × 1000, step 5", 20, 1000, 5),
        ("20 × 1000, step 40", 20, 1000, 40),
        ("20 × 1000, step 120", 20, 1000, 120),
        ("20 × 400 random", 20, 400, None),
        ("20 × 300 vertical", 20, 300, "v"),
        ("20 × 300 horizontal", 20, 300, "h"),
    ]
    print("\n## The cost model against measured drawing time\n")
    print("| width | strokes | measured ms | estimated ms | measured / estimated |")
    print("|---:|---|---:|---:|---:|")
    ratios = []
    for width in (1, 2, 3, 6, 14, 26, 40, 60):
        for name, count, points, step in shapes:
            strokes = _strokes(rng, count, points, width, step)
            measured = min(_cpu(lambda s=strokes: render.render_drawing(s, "", budget=math.inf), repeat)) - base
            estimated = render.drawing_cost(strokes) / 1e9
            ratios.append(measured / estimated)
            print(f"| {width} | {name} | {measured * 1e3:.1f} | {estimated * 1e3:.1f} | {measured / estimated:.2f} |")
    print(f"\nmeasured / estimated: median {statistics.median(ratios):.2f}, highest {max(ratios):.2f}")


def _at_budget(make: Callable[[random.Random], Stroke], seed: int) -> list[Stroke]:
    """Strokes from MAKE until the next would pass the budget; then dots of 60 to fill the rest."""
    from classnote.cards import render

    rng = random.Random(seed)
    strokes: list[Stroke] = []
    spent = 0.0
    while True:
        stroke = make(rng)
        cost = render.stroke_cost(stroke["w"], stroke["p"])
        if spent + cost > render.RENDER_BUDGET:
            break
        strokes.append(stroke)
        spent += cost
    while True:
        dot = {"c": f"#{rng.randint(0, 0xFFFFFF):06x}", "w": 60, "e": False, "p": [[rng.randint(0, 1000), 375]]}
        cost = render.stroke_cost(60, dot["p"])
        if spent + cost > render.RENDER_BUDGET:
            return strokes
        strokes.append(dot)
        spent += cost


def _kinds() -> dict[str, Callable[[random.Random], Stroke]]:
    def colour(rng: random.Random) -> str:
        return f"#{rng.randint(0, 0xFFFFFF):06x}"

    def stroke(width: int, points: int, step: int | str | None, eraser: bool = False) -> Callable[..., Stroke]:
        return lambda rng: {
            "c": colour(rng),
            "w": width,
            "e": eraser and rng.random() < 0.5,
            "p": _walk(rng, points, step),
        }

    return {
        "the probe's kind: 400 random points, 60 wide, half erasers": stroke(60, 400, None, eraser=True),
        "long random lines, 2 wide": stroke(2, 400, None),
        "vertical lines edge to edge, 2 wide": stroke(2, 300, "v"),
        "vertical lines edge to edge, 3 wide": stroke(3, 300, "v"),
        "two-point vertical strokes, 2 wide": stroke(2, 2, "v"),
        "dense scribbles (step 2), 60 wide": stroke(60, 1000, 2),
        "scribbles (step 40), 14 wide": stroke(14, 1000, 40),
        "scribbles (step 10), 6 wide, a colour each": stroke(6, 200, 10),
        "dots, 60 wide": stroke(60, 1, None),
        "dots, 1 wide": stroke(1, 1, None),
    }


def worst(repeat: int) -> None:
    from classnote.cards import render

    print(f"\n## Drawings at the budget ({render.RENDER_BUDGET / 1e6:.0f} ms estimated), {repeat} renders each\n")
    print(
        "| drawing | strokes | points | full PNG ms (median / slowest) | all three PNGs ms (median / slowest) | PNG KB |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    render.render_drawing([], "venn")  # the backgrounds are drawn once per process
    slowest = 0.0
    for seed, (name, make) in enumerate(_kinds().items()):
        strokes = _at_budget(make, seed)
        assert render.drawing_cost(strokes) <= render.RENDER_BUDGET
        full = _cpu(lambda s=strokes: render.render_png(s, "venn"), repeat)
        job = _cpu(lambda s=strokes: render.pictures(s, "venn"), repeat)
        size = len(render.render_png(strokes, "venn")) // 1024
        points = sum(len(s["p"]) for s in strokes)
        slowest = max(slowest, max(full))
        print(
            f"| {name} | {len(strokes)} | {points} | {statistics.median(full) * 1e3:.0f} / {max(full) * 1e3:.0f} "
            f"| {statistics.median(job) * 1e3:.0f} / {max(job) * 1e3:.0f} | {size} |"
        )
    print(f"\nslowest full-size render of a drawing at the budget: {slowest * 1e3:.0f} ms of CPU")


def simplify(points: list[list[int]], tolerance: float = 0.75) -> list[list[int]]:
    """drawing.js's simplify (Ramer–Douglas–Peucker, distance to the segment), for the estimate below."""
    if len(points) > 2:
        keep = [False] * len(points)
        keep[0] = keep[-1] = True
        stack = [(0, len(points) - 1)]
        while stack:
            a, b = stack.pop()
            (ax, ay), (bx, by) = points[a], points[b]
            dx, dy = bx - ax, by - ay
            squared = dx * dx + dy * dy
            far, farthest = -1, tolerance
            for i in range(a + 1, b):
                px, py = points[i]
                t = 0.0 if not squared else min(1.0, max(0.0, ((px - ax) * dx + (py - ay) * dy) / squared))
                d = math.dist((px, py), (ax + t * dx, ay + t * dy))
                if d > farthest:
                    far, farthest = i, d
            if far >= 0:
                keep[far] = True
                stack += [(a, far), (far, b)]
        points = [p for p, k in zip(points, keep, strict=True) if k]
    return [p for i, p in enumerate(points) if i == 0 or p != points[i - 1]]


def _pen(rng: random.Random, length: float, speed: float = 1.25) -> list[list[int]]:
    """A hand-drawn curve: LENGTH units at SPEED units per pointer event (a pen at 240 Hz)."""
    x, y = rng.uniform(100, 900), rng.uniform(100, 650)
    heading, turn = rng.uniform(0, 2 * math.pi), 0.0
    path: list[list[int]] = []
    for _ in range(int(length / speed)):
        turn = 0.9 * turn + rng.gauss(0, 0.02)
        heading += turn
        x = min(1000.0, max(0.0, x + speed * math.cos(heading)))
        y = min(750.0, max(0.0, y + speed * math.sin(heading)))
        point = [round(x), round(y)]
        if not path or point != path[-1]:
            path.append(point)
    return path


def _hatch(rng: random.Random, size: int, gap: int, speed: float = 1.25) -> list[list[int]]:
    """Colouring in: a zig-zag over a SIZE square, GAP apart, sampled like a pen."""
    x0, y0 = rng.randint(0, 1000 - size), rng.randint(0, 750 - size)
    corners = [(x0 + (size if i % 2 else 0), y0 + i * gap / 2) for i in range(2 * size // gap)]
    path: list[list[int]] = []
    for (ax, ay), (bx, by) in zip(corners, corners[1:], strict=False):
        steps = max(1, int(math.dist((ax, ay), (bx, by)) / speed))
        for k in range(steps):
            point = [round(ax + (bx - ax) * k / steps), round(ay + (by - ay) * k / steps)]
            if not path or point != path[-1]:
                path.append(point)
    return path


def real() -> None:
    """Heavy drawings a pupil could make by hand, as drawing.js stores them, against the budget."""
    from classnote.cards import render

    rng = random.Random(7)
    pages = {
        "a page of handwriting: 400 strokes of 300 units, pen 6": [
            {"c": "#1d2433", "w": 6, "e": False, "p": _pen(rng, 300)} for _ in range(400)
        ],
        "a drawing coloured in: 60 strokes of pen 14 hatching 250 × 250, 10 apart": [
            {"c": "#d32f2f", "w": 14, "e": False, "p": _hatch(rng, 250, 10)} for _ in range(60)
        ],
        "the same, half of it rubbed out with the widest eraser (50)": [
            {"c": "#d32f2f", "w": 14, "e": False, "p": _hatch(rng, 250, 10)} for _ in range(60)
        ]
        + [{"c": "#ffffff", "w": 50, "e": True, "p": _hatch(rng, 250, 40)} for _ in range(30)],
    }
    print(f"\n## Drawings made by hand (a pen at 240 Hz), against the budget ({render.RENDER_BUDGET / 1e6:.0f} ms)\n")
    print("| drawing | points sent by the pen | points stored | share of the budget |")
    print("|---|---:|---:|---:|")
    for name, strokes in pages.items():
        raw = sum(len(s["p"]) for s in strokes)
        stored = [{**s, "p": simplify(s["p"])} for s in strokes]
        share = render.drawing_cost(stored) / render.RENDER_BUDGET
        print(f"| {name} | {raw} | {sum(len(s['p']) for s in stored)} | {share:.0%} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fit", action="store_true")
    parser.add_argument("--worst", action="store_true")
    parser.add_argument("--real", action="store_true")
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    both = not options.fit and not options.worst and not options.real
    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, Python {sys.version.split()[0]}, load average {os.getloadavg()[0]:.1f}"
    )
    if options.fit or both:
        fit(options.repeat)
    if options.real or both:
        real()
    if options.worst or both:
        worst(max(options.repeat, 10))


if __name__ == "__main__":
    main()
