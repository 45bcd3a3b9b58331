"""Uploads are judged by their bytes: the allow-list, the structural checks and the names."""

from __future__ import annotations

import io

import pytest
from django.utils import translation

from classnote.files import validation
from classnote.files.validation import Detected, FileRefused, clean_name
from classnote.files.views import content_disposition
from tests.files import samples

NOT_ALLOWED_EN = "This kind of file cannot be uploaded. Allowed are images (JPEG, PNG, GIF, WebP), PDF"
NOT_ALLOWED_JA = "この種類のファイルはアップロードできません。"
NOT_ALLOWED_ZH = "無法上傳這種類型的檔案。"
PDF = validation.PDF
JPEG = Detected("image", "image/jpeg", "jpg", ("jpeg", "jpe"))


@pytest.mark.parametrize("name", sorted(samples.ALLOWED))
def test_allowed_kinds_are_recognised_by_content(name: str) -> None:
    content, kind, content_type = samples.ALLOWED[name]
    detected = validation.identify(io.BytesIO(content))
    assert (detected.kind, detected.content_type) == (kind, content_type)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF", "WEBP"])
def test_images_are_recognised_by_content_whatever_their_name(fmt: str) -> None:
    detected = validation.identify(io.BytesIO(samples.image_bytes(fmt)))
    assert detected.kind == "image"
    assert detected.content_type == f"image/{fmt.lower()}"


@pytest.mark.parametrize("label", sorted(samples.REFUSED))
def test_everything_else_is_refused_with_a_message_that_names_what_is_allowed(label: str) -> None:
    _name, content = samples.REFUSED[label]
    with pytest.raises(FileRefused) as refused:
        validation.identify(io.BytesIO(content))
    message = str(refused.value)
    if label == "word file with macros":
        assert "macros" in message and ".docx" in message
    else:
        assert message.startswith(NOT_ALLOWED_EN)
        assert "MP4, WebM, MOV" in message


def test_the_refusal_is_translated() -> None:
    for language, expected in (("ja", NOT_ALLOWED_JA), ("zh-hant", NOT_ALLOWED_ZH)):
        with translation.override(language), pytest.raises(FileRefused) as refused:
            validation.identify(io.BytesIO(samples.SVG))
        assert str(refused.value).startswith(expected)
        assert "JPEG" in str(refused.value)


def test_an_empty_file_is_refused() -> None:
    with pytest.raises(FileRefused, match="empty"):
        validation.identify(io.BytesIO(b""))


def test_heic_is_refused_with_advice_when_pillow_cannot_read_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(validation, "heif_supported", lambda: False)
    heic = samples.iso_media(b"heic", (b"mif1", b"heic"))
    with pytest.raises(FileRefused, match="HEIC photos cannot be read here"):
        validation.identify(io.BytesIO(heic))
    monkeypatch.setattr(validation, "heif_supported", lambda: True)
    assert validation.identify(io.BytesIO(heic)).content_type == "image/heic"


# --- names -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "detected", "expected"),
    [
        ("日本語.pdf", PDF, "日本語.pdf"),
        ("作文 第1回.docx", None, "作文 第1回.docx"),
        ("../../etc/passwd", PDF, "passwd.pdf"),
        ("C:\\Users\\pupil\\Desktop\\宿題.pdf", PDF, "宿題.pdf"),
        ("evil\r\nSet-Cookie: x=1.pdf", PDF, "evilSet-Cookie: x=1.pdf"),
        ("tab\there\x00.pdf", PDF, "tabhere.pdf"),
        ("photo\u202egpj.exe", JPEG, "photogpj.exe.jpg"),  # a right-to-left override hid ".exe"
        ("notes.html", PDF, "notes.html.pdf"),  # never opened as a web page after download
        ("Scan.PDF", PDF, "Scan.PDF"),
        ("holiday.jpeg", JPEG, "holiday.jpeg"),
        ("no extension", PDF, "no extension.pdf"),
        ("", PDF, "file.pdf"),
        ("...", PDF, "file.pdf"),
        ("   spaced    out  .pdf  ", PDF, "spaced out.pdf"),
        ("👩‍🔬 lab.pdf", PDF, "👩‍🔬 lab.pdf"),  # the zero-width joiner of the emoji stays
    ],
)
def test_display_names_are_cleaned(raw: str, detected: Detected | None, expected: str) -> None:
    assert clean_name(raw, detected) == expected


def test_long_names_are_cut_to_200_characters_keeping_the_extension() -> None:
    name = clean_name("あ" * 500 + ".pdf", PDF)
    assert len(name) == 200
    assert name.endswith("あ.pdf")


def test_content_disposition_carries_the_unicode_name_and_an_ascii_fallback() -> None:
    header = content_disposition("attachment", '日本語 "quoted".pdf')
    assert header.startswith('attachment; filename="')
    assert "filename*=UTF-8''%E6%97%A5%E6%9C%AC%E8%AA%9E%20%22quoted%22.pdf" in header
    fallback = header.split('filename="', 1)[1].split('"', 1)[0]
    assert fallback.isascii() and fallback.endswith(".pdf") and '"' not in fallback
    assert content_disposition("attachment", "日本語.pdf").startswith('attachment; filename="download.pdf"')
