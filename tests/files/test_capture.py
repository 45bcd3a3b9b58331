"""In-app capture (issue 14, tool 11): photos (HEIC from iPads too), sound and video recordings go
through the file pipeline into cards: judged by their bytes, images re-encoded without EXIF,
recordings within their limits, played on the card page with byte ranges."""

from __future__ import annotations

import io
from typing import Any

import pillow_heif
import pytest
from django.core.files.storage import default_storage
from django.test import Client
from PIL import ExifTags, Image

from classnote.cards.models import Card
from classnote.files import validation
from classnote.files.models import StoredFile
from classnote.files.services import store_upload
from classnote.files.validation import FileTooLarge
from classnote.files.views import byte_range
from tests.conftest import Tenant, login_as
from tests.files import samples
from tests.files.test_images import assert_no_metadata, open_image

pillow_heif.register_heif_opener()  # to write the test's HEIC photos (the app registers it to read them)


def heic_with_gps(size: tuple[int, int] = (64, 32), orientation: int = 6) -> bytes:
    """A HEIC photo as an iPad takes it: a GPS position, a camera name, turned (orientation 6)."""
    image = Image.new("RGB", size, (200, 30, 30))
    image.paste((30, 30, 200), (0, 0, size[0] // 2, size[1]))  # left half blue: shows the rotation
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = samples.CAMERA
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.IFD.GPSInfo] = samples.GPS
    out = io.BytesIO()
    image.save(out, "HEIF", exif=exif.tobytes(), quality=90)
    return out.getvalue()


def body(response: Any) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else bytes(response.content)


@pytest.fixture
def pupil(tenant_a: Tenant) -> Client:
    return login_as(Client(), tenant_a.student)


def new_card(client: Client, tenant: Tenant, kind: str, name: str, content: bytes, **extra: Any) -> Any:
    """The lesson page's new-card form as the capture dialog sends it (JSON answer)."""
    return client.post(
        "/cards/",
        {"kind": kind, "title": "", "lesson": tenant.lesson.pk, "upload": samples.upload(name, content), **extra},
        HTTP_ACCEPT="application/json",
    )


# --- HEIC ------------------------------------------------------------------------------------------


def test_a_heic_photo_is_stored_as_a_jpeg_without_exif_and_the_right_way_up(tenant_a: Tenant) -> None:
    original = heic_with_gps()
    assert original[4:12] == b"ftypheic"
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825), "the sample has no GPS position to remove"
    assert validation.identify(io.BytesIO(original)).content_type == "image/heic"

    stored = store_upload(tenant_a.student, samples.upload("IMG_0001.HEIC", original, "image/heic"))

    with default_storage.open(stored.storage_key, "rb") as handle:
        content = handle.read()
    assert_no_metadata(content)
    image = open_image(content)
    assert image.format == "JPEG" and stored.content_type == "image/jpeg" and stored.kind == "image"
    assert image.size == (32, 64) == (stored.width, stored.height)  # turned as the photo said
    assert image.getpixel((16, 5))[2] > 150, "the blue half should now be at the top"
    assert stored.name == "IMG_0001.jpg"
    with default_storage.open(stored.thumbnail_key, "rb") as handle:
        assert_no_metadata(handle.read())


@pytest.mark.parametrize(
    ("major", "compatible"), [(b"heix", (b"mif1", b"heix")), (b"mif1", (b"mif1", b"heic")), (b"heic", ())]
)
def test_heic_is_recognised_by_its_brands(major: bytes, compatible: tuple[bytes, ...]) -> None:
    assert validation.identify(io.BytesIO(samples.iso_media(major, compatible))).content_type == "image/heic"


def test_a_heic_photo_makes_an_image_card(pupil: Client, tenant_a: Tenant) -> None:
    response = new_card(pupil, tenant_a, "image", "写真.heic", heic_with_gps())
    assert response.status_code == 201, response.content
    card = Card.objects.get(pk=response.json()["id"])
    assert card.kind == "image" and card.file is not None and card.file.content_type == "image/jpeg"
    page = pupil.get(response.json()["url"])
    assert f'src="/files/{card.file_id}/?inline=1"' in page.content.decode()


# --- Recordings ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "kind", "content_type"),
    [
        ("録音.webm", samples.webm((2,)), "audio", "audio/webm"),
        ("録音.ogg", samples.ogg(), "audio", "audio/ogg"),
        ("録音.m4a", samples.mp4(b"M4A ", (b"soun",)), "audio", "audio/mp4"),
        ("動画.webm", samples.webm((1, 2)), "video", "video/webm"),
        ("動画.mp4", samples.mp4(b"isom"), "video", "video/mp4"),
        ("IMG_0002.MOV", samples.mp4(b"qt  ", moov_last=True), "video", "video/quicktime"),
    ],
)
def test_a_recording_makes_a_file_card_that_plays_on_the_card_page(
    pupil: Client, tenant_a: Tenant, name: str, content: bytes, kind: str, content_type: str
) -> None:
    response = new_card(pupil, tenant_a, "file", name, content, title="朝顔の観察")
    assert response.status_code == 201, response.content
    card = Card.objects.get(pk=response.json()["id"])
    assert card.kind == "file" and card.lesson_id == tenant_a.lesson.pk
    stored = card.file
    assert stored is not None and stored.kind == kind and stored.content_type == content_type
    with default_storage.open(stored.storage_key, "rb") as handle:
        assert handle.read() == content  # stored as it came: nothing is transcoded

    page = pupil.get(response.json()["url"]).content.decode()
    src = f'src="/files/{stored.pk}/?inline=1"'
    assert f"<{kind} controls" in page and src in page
    assert 'aria-label="朝顔の観察"' in page

    whole = pupil.get(f"/files/{stored.pk}/?inline=1")
    assert whole.status_code == 200 and body(whole) == content
    assert whole["Content-Type"] == content_type and whole["Accept-Ranges"] == "bytes"
    assert whole["Content-Disposition"].startswith("inline; ")
    assert whole["X-Content-Type-Options"] == "nosniff"
    # Safari asks for the first bytes before it plays a video.
    part = pupil.get(f"/files/{stored.pk}/?inline=1", HTTP_RANGE="bytes=0-1")
    assert part.status_code == 206 and body(part) == content[:2]
    assert part["Content-Range"] == f"bytes 0-1/{len(content)}" and part["Content-Length"] == "2"
    assert part["Content-Type"] == content_type and part["X-Content-Type-Options"] == "nosniff"
    tail = pupil.get(f"/files/{stored.pk}/?inline=1", HTTP_RANGE="bytes=-10")
    assert tail.status_code == 206 and body(tail) == content[-10:]
    past = pupil.get(f"/files/{stored.pk}/?inline=1", HTTP_RANGE=f"bytes={len(content)}-")
    assert past.status_code == 416 and past["Content-Range"] == f"bytes */{len(content)}"


def test_byte_ranges_are_read_as_rfc_9110_says() -> None:
    assert byte_range(None, 100) is None
    assert byte_range("bytes=0-", 100) == (0, 99)
    assert byte_range("bytes=10-19", 100) == (10, 19)
    assert byte_range("bytes=90-200", 100) == (90, 99)
    assert byte_range("bytes=-5", 100) == (95, 99)
    assert byte_range("bytes=-500", 100) == (0, 99)
    assert byte_range("bytes=0-1,5-6", 100) is None  # several ranges: the whole file
    assert byte_range("items=0-1", 100) is None
    assert byte_range("bytes=5-1", 100) is None
    with pytest.raises(ValueError):
        byte_range("bytes=100-", 100)


@pytest.mark.parametrize(
    ("label", "content"),
    [
        ("exe", samples.EXE),
        ("html", samples.HTML),
        ("html after a webm header", b"\x1a\x45\xdf\xa3\x9f\x42\x82\x84webm" + samples.HTML),
        ("matroska", samples.webm((1, 2), doctype=b"matroska")),
    ],
)
def test_other_files_named_webm_are_refused_in_japanese(
    pupil: Client, tenant_a: Tenant, label: str, content: bytes
) -> None:
    before = (Card.objects.count(), StoredFile.objects.count())
    response = new_card(pupil, tenant_a, "file", "録音.webm", content)
    assert response.status_code == 400, label
    assert response.json()["detail"].startswith("この種類のファイルはアップロードできません。")
    assert (Card.objects.count(), StoredFile.objects.count()) == before
    upload = pupil.post("/files/", {"file": samples.upload("録音.webm", content, "audio/webm")})
    assert upload.status_code == 400 and "この種類のファイル" in upload.json()["detail"]


def test_recordings_over_their_limits_are_refused(pupil: Client, tenant_a: Tenant, settings: Any) -> None:
    settings.AUDIO_MAX_MB = 1
    settings.VIDEO_MAX_MB = 2
    padding = b"\xa3\x84\x81\x00\x00\x80" * (1024 * 1024 // 6 + 10)  # 1 MB and a little more of "blocks"
    big_audio = samples.webm((2,)) + padding
    assert validation.identify(io.BytesIO(big_audio)).kind == "audio"
    before = StoredFile.objects.count()
    response = new_card(pupil, tenant_a, "file", "録音.webm", big_audio)
    assert response.status_code == 413
    assert "1 MB" in response.json()["detail"] and "録音" in response.json()["detail"]
    # The same size as a video is within the video limit; the tenant's limit caps both.
    video = samples.webm((1, 2)) + padding
    assert new_card(pupil, tenant_a, "file", "動画.webm", video).status_code == 201
    assert StoredFile.objects.count() == before + 1
    tenant_a.student.municipality.max_upload_mb = 1
    tenant_a.student.municipality.save(update_fields=["max_upload_mb"])
    tenant_a.student.refresh_from_db()
    assert validation.media_limit_bytes(tenant_a.student, "video") == 1024 * 1024
    with pytest.raises(FileTooLarge):
        store_upload(tenant_a.student, samples.upload("動画.webm", video))


def test_an_upload_the_handler_stopped_is_a_413_not_no_file(pupil: Client, tenant_a: Tenant) -> None:
    tenant_a.student.municipality.max_upload_mb = 1
    tenant_a.student.municipality.save(update_fields=["max_upload_mb"])
    big = samples.webm((1, 2)) + b"\x00" * (1024 * 1024 + 10)
    response = new_card(pupil, tenant_a, "file", "動画.webm", big)
    assert response.status_code == 413
    assert "1 MB" in response.json()["detail"]


def test_the_new_card_form_without_json_still_redirects(pupil: Client, tenant_a: Tenant) -> None:
    response = pupil.post(
        "/cards/",
        {"kind": "file", "lesson": tenant_a.lesson.pk, "upload": samples.upload("a.webm", samples.webm((2,)))},
    )
    assert response.status_code == 302 and response["Location"].startswith("/cards/")
    refused = pupil.post(
        "/cards/",
        {"kind": "file", "lesson": tenant_a.lesson.pk, "next": "/", "upload": samples.upload("a.webm", samples.EXE)},
    )
    assert refused.status_code == 302 and refused["Location"] == "/"


# --- Camera and microphone: allowed where the pages use them, denied elsewhere ----------------------


def test_camera_and_microphone_are_allowed_only_on_the_pages_that_capture(pupil: Client, tenant_a: Tenant) -> None:
    lesson = pupil.get(f"/lessons/{tenant_a.lesson.pk}/")
    assert lesson.status_code == 200
    assert "camera=(self)" in lesson["Permissions-Policy"] and "microphone=(self)" in lesson["Permissions-Policy"]
    card = Card.objects.create(owner=tenant_a.student, school=tenant_a.school, lesson=tenant_a.lesson, kind="image")
    page = pupil.get(f"/cards/{card.pk}/")
    assert "camera=(self)" in page["Permissions-Policy"] and "microphone=(self)" in page["Permissions-Policy"]
    for other in ("/", "/privacy/", "/accounts/login/"):
        policy = pupil.get(other)["Permissions-Policy"]
        assert "camera=()" in policy and "microphone=()" in policy, other
    assert "camera=(self)" in Client().get("/login/card/")["Permissions-Policy"]
