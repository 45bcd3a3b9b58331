"""Items on a card's surface: text boxes and stickies placed on the 1000×750 logical card, over its
thinking-tool background and under nothing (the drawing is composited below them, as in the editor).

Stored in ``Card.items`` as a list, in stacking order (the last on top)::

    [{"k": "text" | "sticky", "x": 0.., "y": 0.., "w": 40..1000, "h": 30..750, "t": "…", "c": "#rrggbb"},
     {"k": "image", "f": "<stored file id>", "x": …, "y": …, "w": …, "h": …}]

The box lies wholly on the card (x + w ≤ 1000, y + h ≤ 750). ``c`` is the text colour of a text box
(one of the pen colours) or the paper colour of a sticky, each from a short list. Like strokes, items
are data the server renders itself (classnote.cards.render), so they are checked strictly here and an
item that is not exactly this shape refuses the whole save with a translated message (the editor
never sends one: static/classnote/card.js clamps and rounds before saving).

An image item shows one of the card owner's pictures (an upload, through the file pipeline:
content-checked, metadata stripped). Its shape is checked here; that the file exists, is an image and
is one the owner may read is checked by the actions (``classnote.cards.access.usable_images``), with
one message for a file that is missing, foreign or no picture (so nothing tells whether another's
file exists). Pictures lie under the drawing (the pen draws over them), text boxes and stickies over
it. At most ``MAX_IMAGES`` pictures on a card.

On a drawing card the card's ``text`` is the text of its items, in reading order (top to bottom,
then left to right): excerpts, search, the portfolio export and the shared-answer lists read
``text`` as before.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.utils.translation import gettext as _

from classnote.base.errors import ActionError

WIDTH, HEIGHT = 1000, 750
KINDS = ("text", "sticky", "image")
TEXT_KINDS = ("text", "sticky")
# The pen colours of the editor's toolbar (card.html): a text box's text.
INK = ("#1d2433", "#d32f2f", "#1f6feb", "#2e7d32", "#ef6c00")
# A sticky's paper: yellow, pink, blue, green.
PAPER = ("#fff59d", "#f8bbd0", "#b3e5fc", "#c8e6c9")
DEFAULT_COLOUR = {"text": INK[0], "sticky": PAPER[0]}
COLOURS = {"text": INK, "sticky": PAPER}
MAX_ITEMS = 50
MAX_IMAGES = 10
MAX_ITEM_TEXT = 2000
MAX_TEXT = 20000  # all items together: what Card.text holds
MIN_W, MIN_H = 40, 30
KEYS = frozenset(("k", "x", "y", "w", "h", "t", "c", "f"))
# The logical font size of each kind (the editor and the renderer use the same).
FONT_SIZE = {"text": 28, "sticky": 24}
PADDING = 8


def _invalid() -> ActionError:
    return ActionError(_("A text box or sticky on the card is not valid."))


def image_refused() -> ActionError:
    """One message for a picture whose file is missing, another's or no picture."""
    return ActionError(_("A picture on the card cannot be used. Add it again from your device."))


def image_ids(items: Any) -> list[str]:
    """The file ids of the image items among (validated) ITEMS, in order, each once."""
    ids: list[str] = []
    for item in items if isinstance(items, list) else []:
        wanted = isinstance(item, dict) and item.get("k") == "image" and isinstance(item.get("f"), str)
        if wanted and item["f"] not in ids:
            ids.append(item["f"])
    return ids


def _file_id(value: Any) -> str:
    if not isinstance(value, str) or len(value) > 40:
        raise image_refused()
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise image_refused() from None


def _whole(value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _invalid()
    return value


def validate_items(items: Any) -> list[dict[str, Any]]:
    """ITEMS checked and returned in the stored shape; ActionError (translated) if anything is off."""
    if not isinstance(items, list):
        raise _invalid()
    if len(items) > MAX_ITEMS:
        raise ActionError(_("A card can hold at most %(count)s text boxes and stickies.") % {"count": MAX_ITEMS})
    clean: list[dict[str, Any]] = []
    total = 0
    pictures = 0
    for item in items:
        if not isinstance(item, dict) or not set(item) <= KEYS or item.get("k") not in KINDS:
            raise _invalid()
        kind = item["k"]
        w = _whole(item.get("w"), MIN_W, WIDTH)
        h = _whole(item.get("h"), MIN_H, HEIGHT)
        x = _whole(item.get("x"), 0, WIDTH - w)
        y = _whole(item.get("y"), 0, HEIGHT - h)
        if kind == "image":
            if item.get("t") or item.get("c"):
                raise _invalid()
            pictures += 1
            if pictures > MAX_IMAGES:
                raise ActionError(_("A card can hold at most %(count)s pictures.") % {"count": MAX_IMAGES})
            clean.append({"k": kind, "f": _file_id(item.get("f")), "x": x, "y": y, "w": w, "h": h})
            continue
        if item.get("f") is not None:
            raise _invalid()
        text = item.get("t", "")
        if not isinstance(text, str) or "\x00" in text:
            raise _invalid()
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: no database stores it
            raise _invalid() from None
        if len(text) > MAX_ITEM_TEXT:
            raise ActionError(_("The text in a box is too long."))
        total += len(text)
        if total > MAX_TEXT:
            raise ActionError(_("The text is too long."))
        colour = str(item.get("c") or DEFAULT_COLOUR[kind]).lower()
        if colour not in COLOURS[kind]:
            raise _invalid()
        clean.append({"k": kind, "x": x, "y": y, "w": w, "h": h, "t": text, "c": colour})
    return clean


def items_text(items: list[dict[str, Any]]) -> str:
    """The text of validated ITEMS in reading order, one item a paragraph (empty ones left out)."""
    ordered = sorted(items, key=lambda item: (item["y"], item["x"]))
    texts = (str(item.get("t", "")).strip() for item in ordered)
    return "\n".join(text for text in texts if text)[:MAX_TEXT]


def items_from_text(text: str) -> list[dict[str, Any]]:
    """Text boxes holding TEXT (a drawing card's text from before items existed, or one given
    without items): one box of up to MAX_ITEM_TEXT characters each, stacked from the top left."""
    text = text.strip()[:MAX_TEXT]
    chunks = [text[i : i + MAX_ITEM_TEXT] for i in range(0, len(text), MAX_ITEM_TEXT)]
    boxes = []
    for index, chunk in enumerate(chunks):
        offset = min(index * 20, 200)
        boxes.append({"k": "text", "x": 20 + offset, "y": 20 + offset, "w": 600, "h": 160, "t": chunk, "c": INK[0]})
    return boxes
