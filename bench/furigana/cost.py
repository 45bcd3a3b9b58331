"""What furigana cost on a pupil's lesson page (classnote.base.ruby.annotate; issue 14).

    .venv/bin/python -m bench.furigana.cost                 # the captured page and a busy one
    .venv/bin/python -m bench.furigana.cost --repeat 200

``lesson_page.html`` is a grade-1 pupil's lesson page as the browser test
(tests/live/test_browser_furigana.py) captured it, readings removed. The "busy" page repeats its
card tiles and boxes to the size of a lesson with 40 cards and 6 boxes. Times are CPU seconds of
this process (time.process_time), the median of --repeat runs; nothing else runs and nothing is
stored. The middleware adds one indexed query per page (reads_with_furigana), not measured here.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import time
from pathlib import Path

import django

HERE = Path(__file__).resolve().parent


def _busy(page: str) -> str:
    tile = re.search(r'<a class="card-tile.*?</a>', page, re.S)
    box = re.search(r'<section class="panel" id="box-.*?</section>', page, re.S)
    extra = (tile.group(0) if tile else "") * 40 + (box.group(0) if box else "") * 6
    return page.replace("</main>", extra + "</main>", 1)


def _median_ms(function: object, page: str, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.process_time()
        function(page)  # type: ignore[operator]
        times.append(time.process_time() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=100)
    options = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "classnote.settings")
    os.environ.setdefault("CLASSNOTE_HOME", str(HERE.parents[1] / "var"))
    django.setup()
    from classnote.base import ruby

    words = ruby.readings()
    page = (HERE / "lesson_page.html").read_text(encoding="utf-8")
    for name, body in (("lesson page", page), ("busy lesson page", _busy(page))):
        annotated = ruby.annotate(body, words)
        rubies = annotated.count("<ruby>")
        cost = _median_ms(lambda text: ruby.annotate(text, words), body, options.repeat)
        tokenise = _median_ms(lambda text: ruby.annotate(text, {"\u3007": "x"}), body, options.repeat)
        print(
            f"{name}: {len(body.encode()) / 1024:.1f} KiB, {rubies} readings added, "
            f"annotate {cost:.2f} ms (tokeniser pass alone {tokenise:.2f} ms), median of {options.repeat}"
        )


if __name__ == "__main__":
    main()
