"""What may be uploaded: decided by the bytes of a file, never by its name or the content type the
browser sent.

The allow-list is short on purpose: images (re-encoded afterwards, see classnote.files.images; HEIC
photos of iPads too), PDF, Office Open XML and OpenDocument files, and common audio and video
formats. The signature is read with the ``filetype`` package; container formats get a structural
check of our own (a ZIP must really be an office document, a PDF must start with its header and
end with its trailer; WebM, MP4/M4A/MOV and Ogg recordings are read as far as their tracks, see
classnote.files.media). Everything else is refused — SVG and HTML included, since a browser would
run their scripts.

Recordings have limits of their own (AUDIO_MAX_MB, VIDEO_MAX_MB), under the tenant's limit.
"""

from __future__ import annotations

import re
import struct
import unicodedata
import zipfile
from dataclasses import dataclass
from typing import IO

import filetype
from django.conf import settings
from django.utils.translation import gettext as _

from classnote.base.errors import ActionError
from classnote.files import media
from classnote.files.models import StoredFile
from classnote.tenancy.models import Municipality

HEAD_BYTES = 8192  # what filetype reads; enough for every signature below
NAME_MAX_LENGTH = 200
# A ZIP that claims to be an office document: refuse absurd archives before reading their parts.
ZIP_MAX_MEMBERS = 20_000
ZIP_MAX_MANIFEST_BYTES = 1024 * 1024


class FileRefused(ActionError):
    """The upload is not accepted; the message tells the user what is allowed."""

    status = 400


class FileTooLarge(FileRefused):
    status = 413


@dataclass(frozen=True)
class Detected:
    kind: str  # StoredFile.Kind
    content_type: str
    extension: str  # without the dot, what the stored name ends in
    aliases: tuple[str, ...] = ()  # other extensions a name of this type may keep (jpeg for jpg)

    def extensions(self) -> tuple[str, ...]:
        return (self.extension, *self.aliases)


K = StoredFile.Kind
# filetype's MIME type -> what we store. Images are re-encoded, so their final type is decided later.
_SIMPLE: dict[str, Detected] = {
    "image/jpeg": Detected(K.IMAGE, "image/jpeg", "jpg", ("jpeg", "jpe")),
    "image/png": Detected(K.IMAGE, "image/png", "png"),
    "image/apng": Detected(K.IMAGE, "image/png", "png", ("apng",)),
    "image/gif": Detected(K.IMAGE, "image/gif", "gif"),
    "image/webp": Detected(K.IMAGE, "image/webp", "webp"),
    "image/heic": Detected(K.IMAGE, "image/heic", "heic", ("heif",)),
    "audio/mpeg": Detected(K.AUDIO, "audio/mpeg", "mp3"),
    "audio/mp4": Detected(K.AUDIO, "audio/mp4", "m4a"),
    "audio/aac": Detected(K.AUDIO, "audio/aac", "aac"),
    "audio/ogg": Detected(K.AUDIO, "audio/ogg", "ogg", ("oga", "opus")),
    "audio/x-wav": Detected(K.AUDIO, "audio/wav", "wav"),
    "video/mp4": Detected(K.VIDEO, "video/mp4", "mp4", ("m4v",)),
    "video/webm": Detected(K.VIDEO, "video/webm", "webm"),
    "video/quicktime": Detected(K.VIDEO, "video/quicktime", "mov", ("qt",)),
}
# Accepted on filetype's signature alone; every other entry above needs its container check.
_SIGNATURE_ONLY = frozenset(
    {"image/jpeg", "image/png", "image/apng", "image/gif", "image/webp", "audio/mpeg", "audio/aac", "audio/x-wav"}
)
# What the structural checks of recordings (classnote.files.media) decide.
_MEDIA = {
    ("webm", media.AUDIO): Detected(K.AUDIO, "audio/webm", "webm", ("weba",)),
    ("webm", media.VIDEO): _SIMPLE["video/webm"],
    ("iso", media.AUDIO): _SIMPLE["audio/mp4"],
    ("iso", media.VIDEO): _SIMPLE["video/mp4"],
    ("iso", media.QUICKTIME): _SIMPLE["video/quicktime"],
    ("iso", media.HEIC): _SIMPLE["image/heic"],
    ("ogg", media.AUDIO): _SIMPLE["audio/ogg"],
}
PDF = Detected(K.PDF, "application/pdf", "pdf")
# What re-encoded images are stored as (classnote.files.images).
IMAGE_OUTPUTS = {"image/jpeg": _SIMPLE["image/jpeg"], "image/png": Detected(K.IMAGE, "image/png", "png")}
# Office Open XML: the folder of the main part and the content type [Content_Types].xml declares for it.
_OOXML = (
    (
        "word/",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
        Detected(K.OFFICE, "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
    ),
    (
        "xl/",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        Detected(K.OFFICE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    ),
    (
        "ppt/",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
        Detected(K.OFFICE, "application/vnd.openxmlformats-officedocument.presentationml.presentation", "pptx"),
    ),
)
_ODF = {
    "application/vnd.oasis.opendocument.text": "odt",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "application/vnd.oasis.opendocument.presentation": "odp",
}


def not_allowed() -> FileRefused:
    return FileRefused(
        _(
            "This kind of file cannot be uploaded. Allowed are images (JPEG, PNG, GIF, WebP), PDF, "
            "Word, Excel and PowerPoint files (.docx, .xlsx, .pptx), OpenDocument files "
            "(.odt, .ods, .odp), audio (MP3, M4A, AAC, Ogg, WAV) and video (MP4, WebM, MOV)."
        )
    )


def max_upload_bytes(user: object) -> int:
    """The largest file USER may upload: their tenant's setting (the model default without one)."""
    municipality = getattr(user, "municipality", None)
    megabytes = getattr(municipality, "max_upload_mb", None)
    if not megabytes:
        megabytes = Municipality._meta.get_field("max_upload_mb").default
    return int(megabytes) * 1024 * 1024


def max_upload_megabytes(user: object) -> int:
    return max_upload_bytes(user) // (1024 * 1024)


def too_large(user: object) -> FileTooLarge:
    return FileTooLarge(
        _("This file is larger than %(limit)s MB, the largest file your school allows.")
        % {"limit": max_upload_megabytes(user)}
    )


def quota_bytes(user: object) -> int:
    """How much one person may keep in uploaded files (FILE_QUOTA_MB_STUDENT / FILE_QUOTA_MB_STAFF)."""
    pupil = getattr(user, "role", "") == "student"
    megabytes = settings.FILE_QUOTA_MB_STUDENT if pupil else settings.FILE_QUOTA_MB_STAFF
    return int(megabytes) * 1024 * 1024


def check_quota(user: object, used: int, size: int) -> None:
    """Refuse an upload that would take the person's files past their quota (413)."""
    if used + size > quota_bytes(user):
        raise FileTooLarge(
            _(
                "Your files would take more than %(limit)s MB, the most one person may keep. "
                "Delete files you no longer need first."
            )
            % {"limit": quota_bytes(user) // (1024 * 1024)}
        )


def media_limit_bytes(user: object, kind: str) -> int | None:
    """The largest recording of KIND (audio, video) USER may upload: AUDIO_MAX_MB / VIDEO_MAX_MB,
    never more than their tenant's limit; None for other kinds."""
    if kind not in (K.AUDIO, K.VIDEO):
        return None
    megabytes = settings.AUDIO_MAX_MB if kind == K.AUDIO else settings.VIDEO_MAX_MB
    return min(int(megabytes) * 1024 * 1024, max_upload_bytes(user))


def check_media_size(user: object, detected: Detected, size: int) -> None:
    """Refuse a recording over its kind's limit (413); the tenant's limit was checked before."""
    limit = media_limit_bytes(user, detected.kind)
    if limit is not None and size > limit:
        message = (
            _("This sound recording is larger than %(limit)s MB, the most a recording may have.")
            if detected.kind == K.AUDIO
            else _("This video is larger than %(limit)s MB, the most a video may have. Record a shorter one.")
        )
        raise FileTooLarge(message % {"limit": limit // (1024 * 1024)})


def check_size(user: object, size: int | None) -> None:
    if size is not None and size > max_upload_bytes(user):
        raise too_large(user)
    if size == 0:
        raise FileRefused(_("The file is empty."))


def _read_head(file: IO[bytes]) -> bytes:
    file.seek(0)
    head = file.read(HEAD_BYTES)
    file.seek(0)
    return bytes(head)


def _size(file: IO[bytes]) -> int:
    position = file.tell()
    end = file.seek(0, 2)
    file.seek(position)
    return end


def _check_pdf(file: IO[bytes], head: bytes) -> Detected:
    # The header at the very start (not "somewhere in the first KB", as readers allow: that is how
    # polyglot files hide), and the end-of-file marker in the tail (after incremental updates too).
    if not re.match(rb"%PDF-[12]\.\d", head):
        raise not_allowed()
    size = _size(file)
    file.seek(max(0, size - 2048))
    tail = file.read()
    file.seek(0)
    if b"%%EOF" not in tail:
        raise not_allowed()
    return PDF


def _check_zip(file: IO[bytes]) -> Detected:
    """A ZIP is accepted only as an office document; we read its directory, never decompress it all."""
    try:
        archive = zipfile.ZipFile(file)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise not_allowed() from None
    try:
        infos = archive.infolist()
        if len(infos) > ZIP_MAX_MEMBERS:
            raise not_allowed()
        names = {info.filename for info in infos}

        def small_member(name: str) -> bytes | None:
            info = archive.getinfo(name)
            if info.file_size > ZIP_MAX_MANIFEST_BYTES or info.flag_bits & 0x1:  # encrypted
                return None
            with archive.open(info) as member:
                return member.read(ZIP_MAX_MANIFEST_BYTES + 1)

        # OpenDocument: the "mimetype" member names the type.
        if "mimetype" in names:
            mimetype = (small_member("mimetype") or b"").decode("ascii", "replace").strip()
            if mimetype in _ODF and "content.xml" in names:
                return Detected(K.OFFICE, mimetype, _ODF[mimetype])
            raise not_allowed()
        # Office Open XML: [Content_Types].xml must declare the main part of a document of the
        # matching folder. Macro-enabled files (.docm, .xlsm, .pptm) declare another type.
        if "[Content_Types].xml" in names:
            if any(name.lower().endswith("vbaproject.bin") for name in names):
                raise FileRefused(
                    _(
                        "Office files with macros cannot be uploaded. Save the file as .docx, .xlsx or "
                        ".pptx (without macros) and upload it again."
                    )
                )
            manifest = small_member("[Content_Types].xml") or b""
            for folder, main_type, detected in _OOXML:
                has_part = any(name.startswith(folder) for name in names)
                if has_part and main_type.encode() in manifest:
                    return detected
        raise not_allowed()
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError, RuntimeError):
        raise not_allowed() from None
    finally:
        archive.close()
        file.seek(0)


def heif_supported() -> bool:
    from PIL import Image

    return ".heic" in Image.registered_extensions()


def identify(file: IO[bytes]) -> Detected:
    """What FILE is, by its content; FileRefused unless it is on the allow-list."""
    head = _read_head(file)
    if not head:
        raise FileRefused(_("The file is empty."))
    if head.startswith(b"PK\x03\x04"):
        return _check_zip(file)
    if head.startswith(b"%PDF-"):
        return _check_pdf(file, head)
    container = _container(head)
    if container is not None:
        recording = _check_media(file, head, container)
        if recording.content_type == "image/heic" and not heif_supported():
            raise _heic_unreadable()
        return recording
    kind = filetype.guess(head)
    detected = _SIMPLE.get(kind.mime) if kind is not None else None
    if kind is None or detected is None:
        raise not_allowed()
    if kind.mime not in _SIGNATURE_ONLY:
        raise not_allowed()  # WebM, MP4, MOV, Ogg, HEIC: their containers have their checks above
    return detected


def _heic_unreadable() -> FileRefused:
    return FileRefused(
        _(
            "HEIC photos cannot be read here. Export the photo as JPEG (on an iPhone or iPad: "
            "Settings, Camera, Formats, Most Compatible) and upload it again."
        )
    )


def _container(head: bytes) -> str | None:
    """Which recording container HEAD starts like (its check then decides), or None."""
    if head.startswith(media.EBML_MAGIC):
        return "webm"
    if head[4:8] == b"ftyp":
        return "iso"
    if head.startswith(b"OggS"):
        return "ogg"
    return None


def _check_media(file: IO[bytes], head: bytes, container: str) -> Detected:
    try:
        if container == "webm":
            kind = media.webm_kind(file)
        elif container == "iso":
            kind = media.iso_kind(file, head)
        else:
            kind = media.ogg_kind(head)
    except (media.NotMedia, OSError, struct.error, ValueError):
        raise not_allowed() from None
    finally:
        file.seek(0)
    return _MEDIA[(container, kind)]


# --- Display names ------------------------------------------------------------------------------

# Format characters hide or reorder text: a bidi override turns "photo\u202egpj.exe" into what looks
# like "photoexe.jpg". The two joiners stay (emoji sequences, several scripts need them).
_KEEP_FORMAT = {"\u200c", "\u200d"}
_DROP_CATEGORIES = {"Cc", "Cs", "Zl", "Zp"}


def _visible(ch: str) -> bool:
    category = unicodedata.category(ch)
    if category == "Cf":
        return ch in _KEEP_FORMAT
    return category not in _DROP_CATEGORIES


def clean_name(raw: str | None, detected: Detected | None = None, source: Detected | None = None) -> str:
    """A name safe to show and to offer as a download name.

    Only the last path part is kept; control, bidi and line-separator characters are removed;
    Unicode (日本語.pdf) stays. The extension is made to match the content: a PDF sent as
    "notes.html" is kept as "notes.html.pdf", so the user's computer never opens it as a web page.
    An image re-encoded from SOURCE's format swaps that format's extension ("photo.webp" ->
    "photo.jpg"). At most 200 characters, the extension kept.
    """
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(ch for ch in name if _visible(ch))
    name = " ".join(name.split())  # tabs and runs of spaces -> one space
    name = name.strip(" .")
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    if detected is not None and suffix.lower() not in detected.extensions():
        if source is not None and suffix.lower() in source.extensions():
            suffix = detected.extension
        else:
            stem, suffix = name, detected.extension
    if not stem.strip(" ."):
        stem = "file"
    ending = f".{suffix}" if suffix else ""
    stem = stem[: max(1, NAME_MAX_LENGTH - len(ending))].rstrip(" .") or "file"
    return f"{stem}{ending}"[:NAME_MAX_LENGTH]


def ascii_name(name: str) -> str:
    """An ASCII stand-in for old clients (the real name goes in filename*, RFC 5987/6266)."""

    def asciify(text: str) -> str:
        decomposed = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
        return re.sub(r"[^A-Za-z0-9._ ()-]+", "_", decomposed).strip(" ._")

    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    # Nothing readable may be left of a name (日本語.pdf): keep the extension at least.
    readable_stem = asciify(stem) if asciify(stem).strip("_ ") else "download"
    readable_suffix = asciify(suffix)
    return f"{readable_stem}.{readable_suffix}" if readable_suffix else readable_stem
