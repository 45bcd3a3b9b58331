"""Images are re-encoded: no EXIF (no GPS), nothing appended, the right way up, bounded in size."""

from __future__ import annotations

import io

import pytest
from django.core.files.storage import default_storage
from django.test import override_settings
from django.utils import translation
from PIL import Image, ImageFile

from classnote.files import images
from classnote.files.services import store_upload
from classnote.files.validation import FileRefused
from tests.conftest import Tenant
from tests.files import samples


def open_image(content: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(content))
    image.load()
    return image


def assert_no_metadata(content: bytes) -> None:
    image = open_image(content)
    assert not image.getexif(), "EXIF survived"
    assert not image.getexif().get_ifd(0x8825), "the GPS position survived"
    assert "exif" not in image.info and "xmp" not in image.info and "icc_profile" not in image.info
    assert b"Exif\x00\x00" not in content
    assert samples.CAMERA.encode() not in content
    assert samples.TRAILER not in content and b"<script" not in content


def test_a_photo_with_a_gps_position_comes_back_without_any_exif(tenant_a: Tenant) -> None:
    original = samples.jpeg_with_gps()
    assert open_image(original).getexif().get_ifd(0x8825), "the sample has no GPS position to remove"

    stored = store_upload(tenant_a.student, samples.upload("IMG_0001.JPG", original, "image/jpeg"))

    with default_storage.open(stored.storage_key, "rb") as handle:
        content = handle.read()
    assert_no_metadata(content)
    image = open_image(content)
    assert image.format == "JPEG"
    # Orientation 6 (turned 90°) was applied to the pixels before the EXIF was dropped.
    assert image.size == (32, 64) == (stored.width, stored.height)
    assert image.getpixel((16, 5))[2] > 150, "the blue half should now be at the top"
    assert stored.content_type == "image/jpeg" and stored.name == "IMG_0001.JPG"
    with default_storage.open(stored.thumbnail_key, "rb") as handle:
        thumbnail = handle.read()
    assert open_image(thumbnail).format == "WEBP"
    assert_no_metadata(thumbnail)


def test_transparency_is_kept_as_png_and_photos_become_jpeg() -> None:
    with_alpha = images.process_image(io.BytesIO(samples.png(alpha=100)))
    assert with_alpha.content_type == "image/png"
    assert open_image(with_alpha.content).mode == "RGBA"

    webp_photo = images.process_image(io.BytesIO(samples.image_bytes("WEBP")))
    assert webp_photo.content_type == "image/jpeg"

    screenshot = images.process_image(io.BytesIO(samples.png(mode="RGB")))
    assert screenshot.content_type == "image/png"  # lossless sources stay lossless

    gif = images.process_image(io.BytesIO(samples.image_bytes("GIF", mode="P")))
    assert gif.content_type == "image/png"
    assert open_image(gif.content).mode in ("RGB", "L")


def test_a_png_stored_with_a_jpg_name_gets_the_extension_of_its_content(tenant_a: Tenant) -> None:
    stored = store_upload(tenant_a.student, samples.upload("diagram.jpg", samples.png(alpha=10)))
    assert stored.name == "diagram.jpg.png"
    assert stored.content_type == "image/png"


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("photo.jpeg", samples.image_bytes("JPEG"), "photo.jpeg"),
        ("photo.webp", samples.image_bytes("WEBP"), "photo.jpg"),  # re-encoded as JPEG
        ("anim.gif", samples.image_bytes("GIF", mode="P"), "anim.png"),
        ("写真", samples.image_bytes("JPEG"), "写真.jpg"),
    ],
)
def test_image_names_follow_the_stored_format(tenant_a: Tenant, name: str, content: bytes, expected: str) -> None:
    assert store_upload(tenant_a.student, samples.upload(name, content)).name == expected


def test_large_images_are_scaled_to_4096_pixels_and_thumbnails_to_320() -> None:
    out = io.BytesIO()
    Image.new("RGB", (5000, 1000), (1, 2, 3)).save(out, "JPEG")
    processed = images.process_image(io.BytesIO(out.getvalue()))
    assert (processed.width, processed.height) == (4096, 819)
    assert max(open_image(processed.thumbnail).size) == 320


@pytest.mark.parametrize(
    ("width", "height"),
    [
        (8000, 8000),  # 64 megapixels: over our limit, under Pillow's
        (30000, 30000),  # 900 megapixels: Pillow's own guard refuses it too
        (1_000_000, 1_000_000),
    ],
)
def test_decompression_bombs_are_refused_before_decoding(width: int, height: int) -> None:
    bomb = samples.png_header_only(width, height)
    assert len(bomb) < 200
    with pytest.raises(FileRefused, match="This image is too large"):
        images.process_image(io.BytesIO(bomb))
    with translation.override("ja"), pytest.raises(FileRefused, match="この画像は大きすぎます"):
        images.process_image(io.BytesIO(bomb))


def test_pillows_own_guard_stays_on() -> None:
    assert Image.MAX_IMAGE_PIXELS is not None
    assert images.max_pixels() <= Image.MAX_IMAGE_PIXELS


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("jpeg with a comment, XMP and EXIF", samples.jpeg_with_comment()),
        ("jpeg with a colour profile too", samples.jpeg_with_comment(profile=True)),
        ("png with text chunks, EXIF and a colour profile", samples.png_with_text()),
        ("png with transparency and text chunks", samples.png_with_text("RGBA", profile=False)),
        ("png with transparency, text chunks and a colour profile", samples.png_with_text("RGBA")),
    ],
)
def test_every_kind_of_metadata_is_dropped(name: str, content: bytes) -> None:
    # The samples carry what they claim: otherwise a re-encoding that copied the metadata along
    # (e.g. without the copy into a fresh image) would pass unnoticed.
    source = open_image(content)
    carried = set(source.info) & {"comment", "xmp", "exif", "icc_profile", "Comment", "Author", "Description"}
    assert samples.MARKER in str(source.info) and carried, name
    processed = images.process_image(io.BytesIO(content))
    for data in (processed.content, processed.thumbnail):
        image = open_image(data)
        assert not set(image.info) & carried, (name, sorted(image.info))
        assert not image.getexif()
        assert samples.MARKER.encode() not in data
        assert b"ICC_PROFILE" not in data and b"iCCP" not in data and b"tEXt" not in data and b"iTXt" not in data


def test_an_image_of_49_megapixels_is_refused_before_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    # The probe's PNG (49 megapixels) raised the server's memory by 460 MB; the limit is 24 now.
    decoded: list[object] = []
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: decoded.append(self))
    bomb = samples.png_header_only(7000, 7000)
    with pytest.raises(FileRefused, match=r"too large \(7000 × 7000 pixels\).*at most 24 megapixels"):
        images.process_image(io.BytesIO(bomb))
    assert not decoded


@override_settings(IMAGE_MAX_PIXELS=1_000_000)
def test_the_pixel_limit_is_a_setting_and_large_photos_are_decoded_smaller() -> None:
    out = io.BytesIO()
    Image.new("RGB", (2000, 1500), (1, 2, 3)).save(out, "PNG")
    with pytest.raises(FileRefused, match="at most 1 megapixels"):
        images.process_image(io.BytesIO(out.getvalue()))
    # A JPEG is decoded at half its size by the JPEG decoder itself: accepted, within the limit.
    out = io.BytesIO()
    Image.new("RGB", (2000, 1500), (1, 2, 3)).save(out, "JPEG")
    photo = images.process_image(io.BytesIO(out.getvalue()))
    assert (photo.width, photo.height) == (1000, 750)


def test_a_damaged_image_is_refused_with_a_message() -> None:
    broken = samples.image_bytes("PNG")[:60]
    with pytest.raises(FileRefused, match="could not be read"):
        images.process_image(io.BytesIO(broken))
