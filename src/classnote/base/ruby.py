"""Furigana: readings (<ruby>) over the kanji words of a page's text, from the reading catalogue.

The readings live in the Japanese catalogue's second domain, ``locale/ja/LC_MESSAGES/furigana.po``
(msgid: a word in kanji, msgstr: its reading in hiragana), compiled with the other catalogues by
``make messages`` and read here from the ``.mo`` file. ``classnote furigana`` lists the kanji words
of the Japanese UI catalogue that have no reading yet.

:func:`annotate` walks the page with the standard library's HTML tokeniser and rewrites text nodes
only: never attributes, never the text inside ``<script>``, ``<style>``, ``<textarea>``,
``<title>``, ``<option>``, an existing ``<ruby>``, nor any element marked ``translate="no"`` or
``data-user-content`` (what a person wrote: card text, names, titles). Who gets it is decided
elsewhere (classnote.tenancy.furigana)."""

from __future__ import annotations

import html
import re
import struct
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path

from django.conf import settings

# Kanji (CJK unified ideographs, extension A, compatibility) and the iteration mark 々.
KANJI_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々]+")

# Elements whose text is never annotated: not text at all, not shown as text, or shown where
# <ruby> cannot render (a <select>'s options, the window title).
SKIPPED = frozenset(
    {"script", "style", "textarea", "title", "option", "select", "ruby", "rt", "rp", "code", "pre", "svg", "math"}
)
VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"}
)


def catalogue_path() -> Path:
    return Path(settings.LOCALE_PATHS[0]) / "ja" / "LC_MESSAGES" / "furigana.mo"


def read_mo(data: bytes) -> dict[str, str]:
    """The messages of a compiled gettext catalogue (GNU .mo), without the header entry."""
    magic = struct.unpack("<I", data[:4])[0]
    order = "<" if magic == 0x950412DE else ">"
    _revision, count, ids_at, strings_at = struct.unpack(order + "4I", data[4:20])
    found: dict[str, str] = {}
    for index in range(count):
        id_length, id_offset = struct.unpack(order + "2I", data[ids_at + 8 * index : ids_at + 8 * index + 8])
        str_length, str_offset = struct.unpack(order + "2I", data[strings_at + 8 * index : strings_at + 8 * index + 8])
        msgid = data[id_offset : id_offset + id_length].decode()
        msgstr = data[str_offset : str_offset + str_length].decode()
        if msgid and msgstr:
            found[msgid] = msgstr
    return found


@lru_cache(maxsize=1)
def readings() -> dict[str, str]:
    """Kanji word -> reading, from the compiled reading catalogue (empty without one)."""
    try:
        return read_mo(catalogue_path().read_bytes())
    except FileNotFoundError:
        return {}


def segment(run: str, words: dict[str, str], longest: int = 8) -> list[tuple[str, str | None]]:
    """A run of kanji cut into the longest known words first (up to LONGEST characters);
    (text, reading or None). A one-kanji word (送 for 送る) is read only where it stands alone:
    inside a longer run it is most likely part of a word the catalogue does not know yet (加 of
    参加 is not くわ)."""
    pieces: list[tuple[str, str | None]] = []
    position = 0
    shortest = 1 if len(run) == 1 else 2
    while position < len(run):
        for size in range(min(longest, len(run) - position), shortest - 1, -1):
            word = run[position : position + size]
            if word in words:
                pieces.append((word, words[word]))
                position += size
                break
        else:
            if pieces and pieces[-1][1] is None:
                pieces[-1] = (pieces[-1][0] + run[position], None)
            else:
                pieces.append((run[position], None))
            position += 1
    return pieces


def ruby_text(text: str, words: dict[str, str]) -> str:
    """TEXT (HTML text, already escaped) with its known kanji words wrapped in <ruby>."""

    def wrap(match: re.Match[str]) -> str:
        return "".join(
            f"<ruby>{word}<rp>(</rp><rt>{html.escape(reading)}</rt><rp>)</rp></ruby>" if reading else word
            for word, reading in segment(match.group(0), words)
        )

    return KANJI_RUN.sub(wrap, text)


def _skips(tag: str, attrs: list[tuple[str, str | None]]) -> bool:
    if tag in SKIPPED:
        return True
    for name, value in attrs:
        if name == "data-user-content" or name == "contenteditable":
            return True
        if name == "translate" and (value or "").strip().lower() == "no":
            return True
    return False


class _Annotator(HTMLParser):
    """Copies the page token by token, rewriting only the text outside skipped elements."""

    def __init__(self, words: dict[str, str]) -> None:
        super().__init__(convert_charrefs=False)
        self.words = words
        self.out: list[str] = []
        self.open: list[tuple[str, bool]] = []  # (tag, skipping) of the elements still open

    @property
    def skipping(self) -> bool:
        return bool(self.open) and self.open[-1][1]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.out.append(self.get_starttag_text() or "")
        if tag not in VOID:
            self.open.append((tag, self.skipping or _skips(tag, attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.out.append(self.get_starttag_text() or "")

    def handle_endtag(self, tag: str) -> None:
        self.out.append(f"</{tag}>")
        # Close up to the matching element; an end tag that matches none open changes nothing.
        for depth in range(len(self.open) - 1, -1, -1):
            if self.open[depth][0] == tag:
                del self.open[depth:]
                break

    def handle_data(self, data: str) -> None:
        self.out.append(data if self.skipping else ruby_text(data, self.words))

    def handle_entityref(self, name: str) -> None:
        self.out.append(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self.out.append(f"&#{name};")

    def handle_comment(self, data: str) -> None:
        self.out.append(f"<!--{data}-->")

    def handle_decl(self, decl: str) -> None:
        self.out.append(f"<!{decl}>")

    def handle_pi(self, data: str) -> None:
        self.out.append(f"<?{data}>")

    def unknown_decl(self, data: str) -> None:
        self.out.append(f"<![{data}]>")


def annotate(page: str, words: dict[str, str] | None = None) -> str:
    """The page with readings over the known kanji words of its text nodes."""
    words = readings() if words is None else words
    if not words or not KANJI_RUN.search(page):
        return page
    annotator = _Annotator(words)
    annotator.feed(page)
    annotator.close()
    return "".join(annotator.out)
