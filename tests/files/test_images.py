"""Images are re-encoded: no EXIF (no GPS), nothing appended, the right way up, bounded in size."""

from __future__ import annotations

import io

import pytest
from django.core.files.storage import default_storage
from django.utils import translation
from PIL import Image

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
    assert images.MAX_PIXELS <= Image.MAX_IMAGE_PIXELS


def test_a_damaged_image_is_refused_with_a_message() -> None:
    broken = samples.image_bytes("PNG")[:60]
    with pytest.raises(FileRefused, match="could not be read"):
        images.process_image(io.BytesIO(broken))
