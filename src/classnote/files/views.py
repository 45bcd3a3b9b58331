"""Upload and download of files. Downloads always pass through here (never a storage URL), so every
byte is access-checked by classnote.tenancy.access, and is served so that a browser never runs it:
as an attachment, without sniffing, in a sandbox without any permission."""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import quote

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFilesSent
from django.http import FileResponse, Http404, HttpResponse, JsonResponse, StreamingHttpResponse
from django.http.multipartparser import MultiPartParserError
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from classnote.audit.reads import record_work_read
from classnote.base import outages
from classnote.base.errors import ActionError
from classnote.base.requests import AuthedRequest
from classnote.cards import access as card_access
from classnote.core import unavailable
from classnote.files import services
from classnote.files.models import StoredFile
from classnote.files.validation import ascii_name, too_large
from classnote.tenancy.access import AUTHENTICATED, audience

logger = logging.getLogger(__name__)

# What may be shown inline: only the formats images are re-encoded to (never SVG or HTML), and the
# recordings the card page plays (<audio>, <video>; their containers are checked, see files.media).
INLINE_TYPES = {"image/jpeg", "image/png"}
INLINE_MEDIA_KINDS = {StoredFile.Kind.AUDIO, StoredFile.Kind.VIDEO}
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
SANDBOX_CSP = "sandbox; default-src 'none'; frame-ancestors 'none'"


def _detail(message: str, status: int) -> JsonResponse:
    return JsonResponse({"detail": message}, status=status)


def _thumbnail_url(stored: StoredFile) -> str | None:
    return reverse("file_thumbnail", args=[stored.pk]) if stored.thumbnail_key else None


@audience(AUTHENTICATED)
@require_POST
def file_upload(request: AuthedRequest) -> HttpResponse:
    """POST a multipart form with the field "file"; JSON describes the stored file (201) or why not."""
    try:
        uploaded = request.FILES.get("file")
    except (MultiPartParserError, RequestDataTooBig, TooManyFilesSent, SuspiciousOperation, OSError) as error:
        outage = outages.classify(error)  # no room for the temporary file: 507, not "unreadable"
        if outage is not None:
            return unavailable.response(outage, request.LANGUAGE_CODE, as_json=True)
        return _detail(_("The upload could not be read. Please try again."), 400)
    if getattr(request, "classnote_upload_too_large", False):
        return _detail(str(too_large(request.user)), 413)
    if uploaded is None:
        return _detail(_("Choose a file to upload."), 400)
    try:
        stored = services.store_upload(request.user, uploaded)
    except outages.Unavailable as error:  # the storage is down or busy, the disk full: 503 / 507
        return unavailable.response(error.outage, request.LANGUAGE_CODE, as_json=True)
    except ActionError as error:
        response = _detail(str(error), getattr(error, "status", 400))
        if error.retry_after:  # busy (the image pool is full): when to try again
            response["Retry-After"] = str(error.retry_after)
        return response
    return JsonResponse(
        {
            "id": str(stored.pk),
            "kind": stored.kind,
            "name": stored.name,
            "size": stored.size,
            "thumbnail": _thumbnail_url(stored),
        },
        status=201,
    )


def content_disposition(disposition: str, name: str) -> str:
    """RFC 6266 with an RFC 5987 ``filename*`` for the real (Unicode) name and an ASCII fallback."""
    fallback = ascii_name(name).replace("\\", "_").replace('"', "_")
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _sandboxed(response: HttpResponse | FileResponse) -> Any:
    """Headers that keep a browser from running or guessing at a file, and caches from keeping it."""
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = SANDBOX_CSP
    response["Cache-Control"] = "private, no-store"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The one range ``bytes=first-last`` of HEADER as (first, last) within SIZE; None to send the
    whole file (no header, several ranges, or one that is not understood, as RFC 9110 allows).
    ValueError for a range that starts past the end (416)."""
    match = _RANGE.fullmatch((header or "").strip())
    if match is None or size <= 0:
        return None
    first_text, last_text = match.groups()
    if not first_text:
        if not last_text:
            return None
        length = int(last_text)  # the last N bytes
        if length == 0:
            raise ValueError
        return max(0, size - length), size - 1
    first = int(first_text)
    last = min(int(last_text), size - 1) if last_text else size - 1
    if first >= size:
        raise ValueError
    if last < first:
        return None
    return first, last


def _stream(file: Any, first: int, last: int) -> Any:
    try:
        file.seek(first)
        left = last - first + 1
        while left > 0:
            chunk = file.read(min(services.CHUNK, left))
            if not chunk:
                break
            left -= len(chunk)
            yield chunk
    finally:
        file.close()


def _serve(
    key: str, content_type: str, size: int | None, disposition: str, name: str, range_header: str | None = None
) -> Any:
    """The stored bytes; with a Range header (what Safari sends before it plays a video) the one
    range asked for, 206 Partial Content."""
    try:
        wanted = byte_range(range_header, size) if size is not None else None
    except ValueError:
        response: Any = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return _sandboxed(response)
    try:
        # The storage reads the file when it opens it (classnote.files.s3), not mid-stream.
        opened = services.open_stored(key)
    except FileNotFoundError:  # really missing (the storage said so): 404
        logger.warning("a stored file is missing from storage")
        raise Http404 from None
    # Anything else is no "not found": outages.Unavailable (the storage is down or busy) becomes a
    # 503 with Retry-After (core.views.server_error), never a 404 that would say the file is gone.
    if wanted is not None and size is not None:
        first, last = wanted
        response = StreamingHttpResponse(_stream(opened, first, last), status=206, content_type=content_type)
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
        response["Content-Length"] = str(last - first + 1)
    else:
        response = FileResponse(opened, content_type=content_type)
        response.block_size = services.CHUNK
        if size is not None:
            response["Content-Length"] = str(size)
    if size is not None:
        response["Accept-Ranges"] = "bytes"
    response["Content-Disposition"] = content_disposition(disposition, name)
    return _sandboxed(response)


@audience(AUTHENTICATED)
@require_safe
def file_download(request: AuthedRequest, file_id: Any) -> Any:
    """The file, if the user may read it (404 otherwise). Images may be shown inline (?inline=1), and
    recordings played (?inline=1, with byte ranges)."""
    stored = card_access.get_file_for(request.user, file_id)
    inline = request.GET.get("inline") == "1" and (
        (stored.kind == StoredFile.Kind.IMAGE and stored.content_type in INLINE_TYPES)
        or stored.kind in INLINE_MEDIA_KINDS
    )
    if not inline and stored.owner_id != request.user.pk:
        # A download takes a copy away: recorded. Inline images belong to a page whose opening is
        # recorded (one entry per card opened, see classnote.audit.reads).
        record_work_read(request.user, "file.downloaded", target=stored, owner=stored.owner)
    return _serve(
        stored.storage_key,
        stored.content_type,
        stored.size,
        "inline" if inline else "attachment",
        stored.name,
        request.headers.get("Range"),
    )


@audience(AUTHENTICATED)
@require_safe
def card_item_image(request: AuthedRequest, card_id: int, file_id: Any) -> Any:
    """The picture of an image item on a card (classnote.cards.surface), inline, for whoever may
    read the card (404 otherwise, and for a file the card does not show): a teacher looking at a
    pupil's card sees its pictures without any right to the pupil's files themselves."""
    stored = card_access.get_item_image_for(request.user, card_id, file_id)
    if stored.content_type not in INLINE_TYPES:
        raise Http404
    return _serve(stored.storage_key, stored.content_type, stored.size, "inline", stored.name)


@audience(AUTHENTICATED)
@require_safe
def file_thumbnail(request: AuthedRequest, file_id: Any) -> Any:
    stored = card_access.get_file_for(request.user, file_id)
    if not stored.thumbnail_key:
        raise Http404
    stem = stored.name.rsplit(".", 1)[0] if "." in stored.name else stored.name
    return _serve(stored.thumbnail_key, "image/webp", None, "inline", f"{stem}.webp")
