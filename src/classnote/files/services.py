"""Storing and deleting uploaded files.

``store_upload`` checks the upload (size against the uploader's tenant limit, type by content),
re-encodes images without metadata, and writes the bytes through Django's default storage (local
disk or S3-compatible, see settings) under a random key ``files/<school id>/<random>`` — the
user's file name is never part of a storage key. The name is kept, cleaned, for display only.

The row is made only once its bytes (and an image's thumbnail) are stored, and the bytes go again
if the row cannot be made: no row ever names an object that is not there. While the storage is
down, busy or out of space, its ``outages.Unavailable`` (classnote.files.guard) goes up to the front
door, which answers 503 (507 for a full disk) with Retry-After and a message saying so.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from typing import IO, Any

from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from classnote.accounts.models import User
from classnote.base import outages
from classnote.base.errors import ActionError
from classnote.files import validation
from classnote.files.access import get_own_file
from classnote.files.images import process_image
from classnote.files.models import StoredFile

logger = logging.getLogger(__name__)
CHUNK = 64 * 1024


class StorageUnavailable(ActionError):
    status = 503


def _hash_and_size(file: IO[bytes]) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    file.seek(0)
    for chunk in iter(lambda: file.read(CHUNK), b""):
        digest.update(chunk)
        size += len(chunk)
    file.seek(0)
    return digest.hexdigest(), size


def _save(key: str, content: File[Any]) -> str:
    try:
        name = default_storage.save(key, content)
    except outages.Unavailable as error:  # storage down or busy, a full disk: 503 or 507 (guard)
        logger.warning("storing an upload failed: %s", outages.describe(error))
        raise
    except Exception as error:  # anything else the storage did not expect
        logger.exception("storing an upload failed")
        raise StorageUnavailable(_("The file could not be stored. Please try again in a moment.")) from error
    if name != key:  # storages may rename on a clash; our keys are random and must not change
        _delete_quietly(name)
        raise StorageUnavailable(_("The file could not be stored. Please try again in a moment."))
    return name


def _delete_quietly(*keys: str) -> None:
    for key in keys:
        if not key:
            continue
        try:
            default_storage.delete(key)
        except outages.Unavailable as error:  # the storage is down: the object stays, without a row
            logger.warning(
                "a stored object could not be deleted and stays behind (%s): %s", key, outages.describe(error)
            )
        except Exception:
            logger.exception("deleting a stored file failed")


def store_upload(actor: User, uploaded_file: Any) -> StoredFile:
    """Check, process and store an upload of ACTOR; ActionError (FileRefused...) if it is refused."""
    if actor.school_id is None:
        raise ActionError(_("Only members of a school can upload files."))
    validation.check_size(actor, getattr(uploaded_file, "size", None))
    file: IO[bytes] = uploaded_file
    detected = validation.identify(file)

    key = f"files/{actor.school_id}/{uuid.uuid4().hex}"
    thumbnail_key = ""
    width = height = None
    source: validation.Detected | None = None
    if detected.kind == StoredFile.Kind.IMAGE:
        image = process_image(file)
        content: File[Any] = ContentFile(image.content)
        content_type = image.content_type
        source, detected = detected, validation.IMAGE_OUTPUTS[image.content_type]
        width, height = image.width, image.height
        sha256 = hashlib.sha256(image.content).hexdigest()
        size = len(image.content)
    else:
        file.seek(0)
        content = File(file)
        content_type = detected.content_type
        sha256, size = _hash_and_size(file)
        # Checked again on the bytes read: callers may pass any file object, not only an upload.
        validation.check_size(actor, size)
        validation.check_media_size(actor, detected, size)  # recordings: AUDIO_MAX_MB, VIDEO_MAX_MB

    used = StoredFile.objects.filter(owner=actor).aggregate(total=Sum("size"))["total"] or 0
    validation.check_quota(actor, used, size)
    name = validation.clean_name(getattr(uploaded_file, "name", ""), detected, source)
    key = _save(key, content)
    try:
        if detected.kind == StoredFile.Kind.IMAGE:
            thumbnail_key = _save(f"{key}.thumb", ContentFile(image.thumbnail))
        with transaction.atomic():
            return StoredFile.objects.create(
                school_id=actor.school_id,
                owner=actor,
                kind=detected.kind,
                name=name,
                content_type=content_type,
                size=size,
                sha256=sha256,
                storage_key=key,
                thumbnail_key=thumbnail_key,
                width=width,
                height=height,
            )
    except BaseException:
        _delete_quietly(key, thumbnail_key)
        raise


def delete_upload(actor: User, file_id: object) -> None:
    """Delete a file of ACTOR's own (NotFound for anybody else's), row and bytes. A file a card shows
    is kept (the card needs it)."""
    stored = get_own_file(actor, file_id)
    if stored.cards.exists():
        raise ActionError(_("This file is used on a card and cannot be deleted."))
    stored.delete()  # the bytes follow once the transaction commits (delete_bytes_after_commit)


def discard(stored: StoredFile) -> None:
    """Remove an upload stored for a card that was refused after all: its row, and its bytes once
    that deletion is committed (delete_bytes_after_commit). If the row cannot be deleted (the
    database failed), both stay: an upload of its owner's, never a row without its bytes."""
    try:
        with transaction.atomic():
            StoredFile.objects.filter(pk=stored.pk).delete()
    except Exception:
        logger.exception("removing the upload of a refused card failed")


def delete_bytes_after_commit(sender: Any, instance: StoredFile, **kwargs: Any) -> None:
    """post_delete of StoredFile: remove its objects from storage once the deletion is committed."""
    keys = (instance.storage_key, instance.thumbnail_key)
    transaction.on_commit(lambda: _delete_quietly(*keys))


def open_stored(key: str) -> File[Any]:
    """The stored file, read from storage now: FileNotFoundError if it is really missing,
    outages.Unavailable while the storage is down (never the one for the other)."""
    return default_storage.open(key, "rb")
