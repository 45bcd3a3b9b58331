"""Upload checks (classnote.files.validation, classnote.files.images) under arbitrary and mutated bytes.

* Arbitrary bytes, and real PNG / JPEG / GIF / WebP / PDF / office / MP4 / WebM / Ogg files with bytes flipped,
  inserted, cut or replaced by markup, are either refused with the module's own FileRefused or
  accepted as a kind their bytes really are (a PDF starts with its header and ends with its
  trailer, an office file is a ZIP, an image or media file has that signature): never as another.
* Every accepted image is re-encoded: what comes out is a JPEG or PNG Pillow reads, without EXIF,
  colour profile, text chunks or the bytes appended after the image; the thumbnail is a small WebP.
* File names are cleaned into one safe line whose extension matches the content.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile

import filetype
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from classnote.files import images, validation
from classnote.files.models import StoredFile
from classnote.files.validation import FileRefused
from tests.files import samples
from tests.fuzz import FUZZ, seen

# Mutated EXIF blocks make Pillow warn while it reads them; the image is re-encoded without them.
pytestmark = pytest.mark.filterwarnings("ignore:Metadata Warning:UserWarning")

K = StoredFile.Kind
SAMPLES = {
    "png": samples.png(),
    "png-rgb": samples.png(mode="RGB"),
    "jpeg": samples.jpeg_with_gps(),
    "gif": samples.image_bytes("GIF", mode="P"),
    "webp": samples.image_bytes("WEBP"),
    "pdf": samples.pdf(),
    "docx": samples.ooxml("word"),
    "odt": samples.odf("application/vnd.oasis.opendocument.text"),
    "mp4": samples.mp4(b"isom"),
    "m4a": samples.mp4(b"M4A ", (b"soun",)),
    "webm": samples.webm((1, 2)),
    "webm-audio": samples.webm((2,)),
    "ogg": samples.ogg(),
}
MARKUP = [
    b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>",
    b"<!DOCTYPE html><script>alert(1)</script>",
    b"%PDF-1.4\n",
    b"PK\x03\x04",
    b"\x89PNG\r\n\x1a\n",
    b"%%EOF",
    b"\xff\xd8\xff",
    b"\x00" * 16,
]
SIGNATURES = [data[:16] for data in SAMPLES.values()] + [
    b"GIF89a",
    b"RIFF\x00\x00\x00\x00WEBP",
    b"\x00\x00\x00\x18ftypheic",
]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(SAMPLES[draw(st.sampled_from(sorted(SAMPLES)))])
    for _ in range(draw(st.integers(1, 4))):
        operation = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "markup", "append"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if operation == "flip" and data:
            data[at] ^= draw(st.integers(1, 255))
        elif operation == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=32))
        elif operation == "delete":
            del data[at : at + draw(st.integers(1, 64))]
        elif operation == "truncate":
            del data[at:]
        elif operation == "markup":
            data[at:at] = draw(st.sampled_from(MARKUP))
        else:
            data += draw(st.sampled_from(MARKUP))
    return bytes(data)


def really_is(data: bytes, detected: validation.Detected) -> None:
    """DETECTED is what DATA's bytes are, by a check independent of the order identify() uses."""
    head = data[: validation.HEAD_BYTES]
    if detected.kind == K.PDF:
        assert re.match(rb"%PDF-[12]\.\d", head) and b"%%EOF" in data[-2048:]
    elif detected.kind == K.OFFICE:
        assert data.startswith(b"PK\x03\x04") and zipfile.is_zipfile(io.BytesIO(data))
    elif detected.kind in (K.AUDIO, K.VIDEO) and not head.startswith((b"ID3", b"\xff", b"RIFF")):
        # Recordings in containers (files/media.py): the container's signature at the very start.
        containers = (data.startswith(b"\x1a\x45\xdf\xa3"), data[4:8] == b"ftyp", data.startswith(b"OggS"))
        assert any(containers), detected
        assert detected.content_type.split("/")[0] == detected.kind, detected
    else:
        guess = filetype.guess(head)
        assert guess is not None, detected
        assert guess.mime.split("/")[0] == detected.content_type.split("/")[0] == detected.kind, (guess.mime, detected)
    assert detected.content_type not in {"text/html", "image/svg+xml", "application/xhtml+xml", "text/xml"}


def identify_or_refuse(data: bytes) -> validation.Detected | None:
    try:
        detected = validation.identify(io.BytesIO(data))
    except FileRefused as refusal:
        assert str(refusal)
        seen("refused")
        return None
    seen(f"accepted as {detected.content_type}")
    really_is(data, detected)
    if detected.kind == K.IMAGE:
        reencoded(data)
    return detected


def reencoded(data: bytes) -> None:
    try:
        processed = images.process_image(io.BytesIO(data))
    except FileRefused as refusal:
        assert str(refusal)
        seen("image refused when decoded")
        return
    seen(f"re-encoded as {processed.content_type}")
    assert validation.identify(io.BytesIO(processed.content)) == validation.IMAGE_OUTPUTS[processed.content_type]
    assert samples.TRAILER not in processed.content and b"<svg" not in processed.content
    with Image.open(io.BytesIO(processed.content)) as image:
        assert image.format in ("JPEG", "PNG")
        assert (image.width, image.height) == (processed.width, processed.height)
        assert max(image.size) <= images.MAX_DIMENSION
        assert not image.getexif(), "EXIF survived"
        assert not {"exif", "icc_profile", "xmp", "XML:com.adobe.xmp", "comment"} & set(image.info)
        assert not getattr(image, "text", {}), "PNG text chunks survived"
    with Image.open(io.BytesIO(processed.thumbnail)) as thumbnail:
        assert thumbnail.format == "WEBP" and max(thumbnail.size) <= images.THUMBNAIL_DIMENSION


@FUZZ
@given(st.binary(max_size=1024))
def test_arbitrary_bytes_are_refused_or_what_they_are(data: bytes) -> None:
    identify_or_refuse(data)


@FUZZ
@given(st.sampled_from(SIGNATURES), st.binary(max_size=512))
def test_a_real_signature_followed_by_garbage(signature: bytes, data: bytes) -> None:
    identify_or_refuse(signature + data)


@settings(FUZZ, max_examples=150)
@given(mutated())
def test_mutated_real_files_are_never_accepted_as_another_kind(data: bytes) -> None:
    identify_or_refuse(data)


def test_the_unmutated_samples_are_accepted_and_images_reencoded() -> None:
    """The mutations start from files that really pass: the fuzzing is not refusing everything."""
    for name, data in SAMPLES.items():
        detected = identify_or_refuse(data)
        assert detected is not None, name


# --- File names ----------------------------------------------------------------------------------

DETECTED = st.one_of(st.none(), st.sampled_from([*validation._SIMPLE.values(), validation.PDF]))


@FUZZ
@given(st.one_of(st.none(), st.text(max_size=300)), DETECTED, DETECTED)
def test_file_names_are_cleaned_into_one_safe_line(
    raw: str | None, detected: validation.Detected | None, source: validation.Detected | None
) -> None:
    name = validation.clean_name(raw, detected, source)
    assert 1 <= len(name) <= validation.NAME_MAX_LENGTH
    assert "/" not in name and "\\" not in name
    assert name == name.strip(" .") or name.endswith(
        tuple(f".{e}" for e in (detected.extensions() if detected else ()))
    )
    assert not name.startswith((".", " "))
    for ch in name:
        category = unicodedata.category(ch)
        assert category not in {"Cc", "Cs", "Zl", "Zp"}, repr(name)
        assert category != "Cf" or ch in "\u200c\u200d", repr(name)
    if detected is not None:
        assert name.rpartition(".")[2].lower() in detected.extensions(), (name, detected)
    fallback = validation.ascii_name(name)
    assert fallback and re.fullmatch(r"[A-Za-z0-9._ ()-]+", fallback), fallback
