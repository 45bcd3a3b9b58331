"""``classnote furigana``: the kanji words of the Japanese interface that have no reading yet.

Reads the compiled Japanese catalogue (django.mo), cuts every run of kanji of its translations
into the words of the reading catalogue (furigana.po, classnote.base.ruby) and lists what is left,
most frequent first. Add a reading to ``locale/ja/LC_MESSAGES/furigana.po`` and run
``make messages`` to compile it."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from classnote.base import ruby


class Command(BaseCommand):
    help = "List the kanji words of the Japanese interface that have no reading in furigana.po."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=0, help="show at most this many words (0: all)")

    def handle(self, *args: Any, **options: Any) -> None:
        catalogue = Path(settings.LOCALE_PATHS[0]) / "ja" / "LC_MESSAGES" / "django.mo"
        messages = ruby.read_mo(catalogue.read_bytes())
        words = ruby.readings()
        missing: Counter[str] = Counter()
        for text in messages.values():
            for run in ruby.KANJI_RUN.findall(text):
                for piece, reading in ruby.segment(run, words):
                    if reading is None:
                        missing[piece] += 1
        shown = missing.most_common(options["limit"] or None)
        for word, count in shown:
            self.stdout.write(f"{word}\t{count}")
        self.stderr.write(f"{len(missing)} kanji words without a reading; {len(words)} readings known")
