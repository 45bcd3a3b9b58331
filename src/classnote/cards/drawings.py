"""A drawing is rendered once per card version, off the request threads, and kept in storage.

The three pictures of a drawing card — full size (1000×750) and thumbnails 320 and 640 wide — come
from one render (classnote.cards.render) on the ``drawing-render`` pool (classnote.core.workpool:
``RENDER_WORKERS`` threads, each handing the drawing — its stored JSON text — to one of as many
render processes, so that Pillow's drawing never holds the serving process's GIL) and are stored
through Django's default storage, like uploads (local disk under ``CLASSNOTE_HOME/media`` or the S3
bucket), under

    renders/<school id>/<card id>/<version>-<updated µs>-r<RENDER_VERSION>.<full|320|640>.png

The pictures show the card's text boxes and stickies (``Card.items``) over the drawing, and its
image items' pictures under it: their bytes are read through the storage API on the render pool
(``_read_pictures``, each bounded by ``render.MAX_IMAGE_BYTES``) and drawn in the render process, so
whoever may see the card's picture sees them without any access to the files themselves.

Every write of a card's strokes or background goes through classnote.cards.actions, which raises its
version and ``updated_at``, so an edited card names new keys: the old pictures are never shown
again, and are deleted once the new ones are stored. A newer renderer (``RENDER_VERSION``) names new
keys too. The pictures are deleted with the card (``delete_after_commit``, whichever way the card
goes: by its owner, or with a deleted account). They hold nothing but the drawing's pixels and its items' text,
which the data inventory declares as ``cards.Card.strokes`` and ``cards.Card.items``.

While the storage is down (classnote.files.guard refuses at once), a picture is drawn again from
the card's strokes and served without being stored: drawings stay visible in the lesson.

A request finds the stored picture, or starts the render and waits for it up to ``RENDER_WAIT_MS`` —
only one request thread at a time waits, so renders never hold the threads other pages need. If the
picture is not ready by then (or the pool is full) the caller answers with a placeholder, and the
page's script loads the picture again a moment later (static/classnote/app.js).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import threading
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import TextField
from django.db.models.functions import Cast
from PIL import Image

from classnote.base import outages
from classnote.cards import access as card_access
from classnote.cards import render
from classnote.cards.models import Card
from classnote.core.workpool import PoolBusy, Processes, WorkPool
from classnote.files.models import StoredFile

logger = logging.getLogger(__name__)

VARIANTS = ("full", "320", "640")
# Renders that may wait for a render thread; more are turned away (the page tries again later).
QUEUE = 32
# How long a request that needs the picture itself (the portfolio export) may wait for it.
EXPORT_WAIT_SECONDS = 120

render_pool = WorkPool("drawing-render", lambda: settings.RENDER_WORKERS, lambda: QUEUE)
render_processes = Processes("drawing-render", lambda: settings.RENDER_WORKERS)
# At most this many request threads wait for a render at the same time; the others get the placeholder.
_waiting = threading.BoundedSemaphore(1)


def _placeholder() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 3), (245, 245, 240)).save(out, "PNG")
    return out.getvalue()


# What a picture that is still being rendered shows: 4×3 pixels, so the page's script can tell it
# from a drawing (no render is smaller than 320×240).
PLACEHOLDER = _placeholder()
PLACEHOLDER_SIZE = (4, 3)


def has_drawing(card: Card) -> bool:
    """A drawing card, or a text card someone drew on."""
    return card.kind == Card.Kind.DRAWING or (card.kind == Card.Kind.TEXT and bool(card.strokes))


def folder(school_id: int, card_id: int) -> str:
    return f"renders/{school_id}/{card_id}/"


def stamp(card: Card) -> str:
    """Names the card's content version: changes with every edit, and with the renderer's version."""
    return f"{card.version}-{int(card.updated_at.timestamp() * 1_000_000)}-r{render.RENDER_VERSION}"


def key(card: Card, variant: str) -> str:
    return f"{folder(card.school_id, card.pk)}{stamp(card)}.{variant}.png"


def _job(card: Card) -> tuple[str, str]:
    return (folder(card.school_id, card.pk), stamp(card))


def _read(name: str) -> bytes | None:
    try:
        with default_storage.open(name, "rb") as handle:
            return bytes(handle.read())
    except FileNotFoundError:
        return None
    except outages.Unavailable:  # the storage is down or busy: drawn again from the strokes
        return None
    except Exception as error:  # an S3-compatible storage: botocore's ClientError for a missing key
        code = str(getattr(error, "response", {}).get("Error", {}).get("Code", ""))
        if code not in ("404", "NoSuchKey"):
            logger.warning("reading a stored drawing render failed: %s", type(error).__name__)
        return None


def _render_pictures(
    strokes_json: str, background: str, items_json: str, images: dict[str, bytes] | None = None
) -> dict[str, bytes]:
    """The three pictures, drawn in a render process (Pillow's drawing holds the GIL)."""
    return render_processes.run(render.pictures_of_json, strokes_json, background, items_json, images)


def _picture_keys(card: Card, items_json: str) -> dict[str, str]:
    """The storage keys of the pictures of CARD's image items (file id → key), read on the request
    thread; their bytes are read on the render pool."""
    if '"image"' not in items_json:
        return {}
    ids = card_access.surface_image_ids(render._parse(items_json))
    if not ids:
        return {}
    rows = StoredFile.objects.filter(pk__in=ids, kind=StoredFile.Kind.IMAGE, size__lte=render.MAX_IMAGE_BYTES)
    return {str(pk): key for pk, key in rows.values_list("pk", "storage_key")}


def _read_pictures(keys: dict[str, str] | None) -> dict[str, bytes]:
    """The bytes of the pictures named by KEYS, through the storage API; one that cannot be read
    (missing, storage down, larger than render.MAX_IMAGE_BYTES) is left out."""
    pictures: dict[str, bytes] = {}
    for file_id, name in (keys or {}).items():
        try:
            with default_storage.open(name, "rb") as handle:
                data = handle.read(render.MAX_IMAGE_BYTES + 1)
        except Exception as error:  # missing, the storage down or busy: drawn without it
            logger.warning("reading a picture for a drawing render failed: %s", type(error).__name__)
            continue
        if len(data) <= render.MAX_IMAGE_BYTES:
            pictures[file_id] = bytes(data)
    return pictures


def _render_and_store(
    where: str,
    version: str,
    strokes_json: str,
    background: str,
    items_json: str = "[]",
    picture_keys: dict[str, str] | None = None,
) -> dict[str, bytes]:
    """On the render pool: the three pictures, stored; the card's older pictures deleted."""
    images = _read_pictures(picture_keys)
    pictures = _render_pictures(strokes_json, background, items_json, images or None)
    try:
        for variant, data in pictures.items():
            name = f"{where}{version}.{variant}.png"
            saved = default_storage.save(name, ContentFile(data))
            if saved != name:  # another process stored the same picture first: keep one
                default_storage.delete(saved)
        _delete_older(where, version)
    except outages.Unavailable as error:  # a full disk, a storage that is down: rendered again next time
        logger.warning("storing a drawing render failed: %s", outages.describe(error))
    except Exception:  # served this time, rendered again next time
        logger.exception("storing a drawing render failed")
    return pictures


def _version_of(name: str) -> int:
    head = name.split("-", 1)[0]
    return int(head) if head.isdigit() else 0


def _delete_older(where: str, version: str) -> None:
    """Pictures of earlier versions of the card (a render of an older version that finishes late
    leaves a newer one alone)."""
    mine = _version_of(version)
    _directories, files = default_storage.listdir(where)
    for name in files:
        theirs = _version_of(name)
        if theirs < mine or (theirs == mine and not name.startswith(f"{version}.")):
            default_storage.delete(f"{where}{name}")


def _drawing_text(card: Card) -> tuple[str, str]:
    """The card's strokes and items as the database holds them (JSON text): the render process reads
    them, so the serving process never builds (nor pickles) the Python objects of a large drawing."""
    row = Card.objects.filter(pk=card.pk).values_list(Cast("strokes", TextField()), Cast("items", TextField())).first()
    strokes, items = row if row is not None else (None, None)
    return strokes or "[]", items or "[]"


def _start(card: Card) -> Any:
    where, version = _job(card)
    strokes, items = _drawing_text(card)
    keys = _picture_keys(card, items)
    return render_pool.submit(
        (where, version), _render_and_store, where, version, strokes, card.background, items, keys
    )


def picture(card: Card, variant: str, *, wait: float | None = None) -> bytes | None:
    """The PNG of CARD's drawing (VARIANT: "full", "320" or "640"): stored, or rendered now if it
    can be within WAIT seconds (RENDER_WAIT_MS); None if not (show the placeholder and try again)."""
    if variant not in VARIANTS:
        raise ValueError(variant)
    future = render_pool.pending(_job(card))
    if future is None:  # (a picture being written is not read half-way)
        stored = _read(key(card, variant))
        if stored is not None:
            return stored
        future = _start(card)  # only now are the strokes read
        if future is None:
            return None
    wait = settings.RENDER_WAIT_MS / 1000 if wait is None else wait
    if wait <= 0 or not _waiting.acquire(blocking=False):
        return None
    try:
        pictures: dict[str, bytes] = future.result(timeout=wait)
    except FutureTimeout:
        return None
    finally:
        _waiting.release()
    return pictures[variant]


def picture_now(card: Card) -> bytes:
    """The full-size PNG for an export: stored, or rendered (on the pool) and waited for."""
    stored = None if render_pool.pending(_job(card)) else _read(key(card, "full"))
    if stored is not None:
        return stored
    future = _start(card)
    if future is None:  # the pool is full: wait for a place like an upload does
        where, version = _job(card)
        strokes, items = _drawing_text(card)
        keys = _picture_keys(card, items)
        return render_pool.run(
            _render_and_store, where, version, strokes, card.background, items, keys, timeout=EXPORT_WAIT_SECONDS
        )["full"]
    try:
        return bytes(future.result(timeout=EXPORT_WAIT_SECONDS)["full"])
    except FutureTimeout:
        raise PoolBusy from None


def _delete_folder(where: str) -> None:
    try:
        _directories, files = default_storage.listdir(where)
        for name in files:
            default_storage.delete(f"{where}{name}")
    except FileNotFoundError:
        return
    except outages.Unavailable as error:
        logger.warning("deleting the renders of a deleted card failed (%s): %s", where, outages.describe(error))
        return
    except Exception:
        logger.exception("deleting the renders of a deleted card failed")
        return
    with contextlib.suppress(NotImplementedError, OSError):  # local disk: the empty folder too
        os.rmdir(default_storage.path(where))


def delete_after_commit(sender: Any, instance: Card, **kwargs: Any) -> None:
    """post_delete of Card: its stored pictures go once the deletion is committed."""
    strokes = instance.__dict__.get("strokes")  # None when the row was loaded without them
    if instance.kind == Card.Kind.DRAWING or (instance.kind == Card.Kind.TEXT and strokes != []):
        where = folder(instance.school_id, instance.pk)
        transaction.on_commit(lambda: _delete_folder(where))
