"""Small files of every kind, made in the test (nothing is downloaded)."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image, ImageCms, PngImagePlugin

# Tokyo Tower: the kind of position a photo taken at home would give away.
GPS = {
    ExifTags.GPS.GPSLatitudeRef: "N",
    ExifTags.GPS.GPSLatitude: (35.0, 39.0, 31.0),
    ExifTags.GPS.GPSLongitudeRef: "E",
    ExifTags.GPS.GPSLongitude: (139.0, 44.0, 44.0),
}
CAMERA = "ClassnoteTestCam"
TRAILER = b"<script>alert('trailing payload')</script>"


def upload(name: str, content: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def jpeg_with_gps(size: tuple[int, int] = (64, 32), orientation: int = 6) -> bytes:
    """A JPEG with a GPS position, a camera name, an orientation and a payload after its end."""
    image = Image.new("RGB", size, (200, 30, 30))
    image.paste((30, 30, 200), (0, 0, size[0] // 2, size[1]))  # left half blue: shows the rotation
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = CAMERA
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.IFD.GPSInfo] = GPS
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=90)
    return out.getvalue() + TRAILER


# Metadata of every other kind an image file carries, each with this marker in it.
MARKER = "ClassnoteHiddenNote"
XMP = f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description>{MARKER}</rdf:Description></x:xmpmeta>'.encode()


def colour_profile() -> bytes:
    """An ICC colour profile (a camera or an iPad embeds one, e.g. Display P3)."""
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _exif() -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = MARKER
    exif[ExifTags.Base.ImageDescription] = MARKER
    return exif


def jpeg_with_comment(profile: bool = False) -> bytes:
    """A JPEG with a comment (COM segment), XMP and EXIF; with PROFILE an ICC profile too."""
    image = Image.new("RGB", (48, 32), (200, 30, 30))
    extra = {"icc_profile": colour_profile()} if profile else {}
    out = io.BytesIO()
    image.save(out, "JPEG", comment=MARKER.encode(), xmp=XMP, exif=_exif(), quality=90, **extra)
    return out.getvalue()


def png_with_text(mode: str = "RGB", profile: bool = True) -> bytes:
    """A PNG with text chunks (tEXt, zTXt, iTXt), an eXIf chunk and (with PROFILE) a colour profile."""
    image = Image.new(mode, (48, 32), (0, 128, 255, 200)[: len(mode)])
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", MARKER)
    info.add_text("Author", MARKER, zip=True)
    info.add_itxt("Description", MARKER, lang="ja", tkey="説明")
    extra = {"icc_profile": colour_profile()} if profile else {}
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=info, exif=_exif(), **extra)
    return out.getvalue()


def png(size: tuple[int, int] = (40, 30), mode: str = "RGBA", alpha: int = 128) -> bytes:
    color: tuple[int, ...] = (0, 128, 255, alpha) if mode == "RGBA" else (0, 128, 255)
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, "PNG")
    return out.getvalue()


def image_bytes(fmt: str, size: tuple[int, int] = (50, 40), mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (10, 200, 10) if mode == "RGB" else 3).save(out, fmt)
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG that claims to be WIDTH x HEIGHT: a decompression bomb's header."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * 1024, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def pdf(padding: int = 0) -> bytes:
    body = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    body += b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
    body += b"%" + b"x" * padding + b"\n" if padding else b""
    return body + b"trailer << /Root 1 0 R >>\n%%EOF\n"


def zipped(members: dict[str, bytes], stored_first: str | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        if stored_first:
            archive.writestr(stored_first, members[stored_first], compress_type=zipfile.ZIP_STORED)
        for name, data in members.items():
            if name != stored_first:
                archive.writestr(name, data)
    return out.getvalue()


OOXML_MAIN = {
    "word": "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    "xl": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    "ppt": "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
}
OOXML_PART = {"word": "word/document.xml", "xl": "xl/workbook.xml", "ppt": "ppt/presentation.xml"}


def ooxml(folder: str, main_type: str | None = None, extra: dict[str, bytes] | None = None) -> bytes:
    content_types = (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/'
        '2006/content-types"><Override PartName="/'
        + OOXML_PART[folder]
        + '" ContentType="'
        + (main_type or OOXML_MAIN[folder])
        + '"/></Types>'
    ).encode()
    members = {
        "[Content_Types].xml": content_types,
        "_rels/.rels": b"<Relationships/>",
        OOXML_PART[folder]: b"<document/>",
    }
    return zipped(members | (extra or {}))


def odf(mimetype: str) -> bytes:
    return zipped(
        {
            "mimetype": mimetype.encode(),
            "content.xml": b"<office:document-content/>",
            "META-INF/manifest.xml": b"<manifest/>",
        },
        stored_first="mimetype",
    )


def iso_media(brand: bytes, compatible: tuple[bytes, ...] = ()) -> bytes:
    """An ftyp box and an empty mdat: what a HEIC sniff reads; no movie (no moov box)."""
    ftyp_body = brand + b"\x00\x00\x02\x00" + b"".join(compatible)
    ftyp = struct.pack(">I", 8 + len(ftyp_body)) + b"ftyp" + ftyp_body
    return ftyp + struct.pack(">I", 16) + b"mdat" + b"\x00" * 8


def _box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", 8 + len(body)) + kind + body


def mp4(brand: bytes = b"isom", handlers: tuple[bytes, ...] = (b"vide", b"soun"), moov_last: bool = False) -> bytes:
    """An ISO media file as a recorder writes one: ftyp, a moov box with a track per handler
    (trak/mdia/hdlr), and the media data (before the moov when MOOV_LAST, as cameras write it)."""
    ftyp = iso_media(brand, (brand, b"isom", b"mp41"))[: 8 + 8 + 12]
    traks = b"".join(
        _box(b"trak", _box(b"mdia", _box(b"hdlr", b"\x00" * 8 + handler + b"\x00" * 12 + b"\x00")))
        for handler in handlers
    )
    moov = _box(b"moov", _box(b"mvhd", b"\x00" * 100) + traks)
    mdat = _box(b"mdat", b"\x00\x01\x02\x03" * 256)
    return ftyp + (mdat + moov if moov_last else moov + mdat)


def _ebml(element_id: int, body: bytes, unknown_size: bool = False) -> bytes:
    id_bytes = element_id.to_bytes((element_id.bit_length() + 7) // 8, "big")
    size = b"\x01\xff\xff\xff\xff\xff\xff\xff" if unknown_size else (0x10000000 | len(body)).to_bytes(4, "big")
    return id_bytes + size + body


def webm(track_types: tuple[int, ...] = (2,), doctype: bytes = b"webm") -> bytes:
    """A WebM file as MediaRecorder writes one: the EBML header, a Segment of unknown size with Info,
    Tracks (1 video, 2 audio) and a Cluster of unknown size."""
    header = _ebml(0x1A45DFA3, _ebml(0x4286, b"\x01") + _ebml(0x4282, doctype) + _ebml(0x4287, b"\x04"))
    info = _ebml(0x1549A966, _ebml(0x2AD7B1, b"\x0f\x42\x40"))
    entries = b"".join(
        _ebml(0xAE, _ebml(0xD7, bytes([n + 1])) + _ebml(0x83, bytes([kind])) + _ebml(0x86, b"A_OPUS"))
        for n, kind in enumerate(track_types)
    )
    cluster = _ebml(0x1F43B675, _ebml(0xE7, b"\x00") + b"\xa3\x84\x81\x00\x00\x80" * 32, unknown_size=True)
    return header + _ebml(0x18538067, info + _ebml(0x1654AE6B, entries) + cluster, unknown_size=True)


def ogg(first_packet: bytes = b"OpusHead\x01\x01\x38\x01\x80\xbb\x00\x00\x00\x00\x00") -> bytes:
    """The first page of an Ogg stream (beginning of stream) with FIRST_PACKET in it."""
    header = b"OggS\x00\x02" + b"\x00" * 8 + b"\x01\x00\x00\x00" + b"\x00" * 8
    return header + bytes([1, len(first_packet)]) + first_packet + b"OggS\x00\x00" + b"\x00" * 64


ALLOWED = {
    "scan.pdf": (pdf(), "pdf", "application/pdf"),
    "essay.docx": (
        ooxml("word"),
        "office",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    "table.xlsx": (
        ooxml("xl"),
        "office",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    "slides.pptx": (
        ooxml("ppt"),
        "office",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
    "essay.odt": (
        odf("application/vnd.oasis.opendocument.text"),
        "office",
        "application/vnd.oasis.opendocument.text",
    ),
    "table.ods": (
        odf("application/vnd.oasis.opendocument.spreadsheet"),
        "office",
        "application/vnd.oasis.opendocument.spreadsheet",
    ),
    "slides.odp": (
        odf("application/vnd.oasis.opendocument.presentation"),
        "office",
        "application/vnd.oasis.opendocument.presentation",
    ),
    "song.mp3": (b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" * 64, "audio", "audio/mpeg"),
    "voice.m4a": (mp4(b"M4A ", (b"soun",)), "audio", "audio/mp4"),
    "safari-voice.mp4": (mp4(b"iso5", (b"soun",)), "audio", "audio/mp4"),
    "voice.aac": (b"\xff\xf1\x50\x80\x02\x1f\xfc" + b"\x00" * 64, "audio", "audio/aac"),
    "voice.ogg": (ogg(), "audio", "audio/ogg"),
    "vorbis.ogg": (ogg(b"\x01vorbis" + b"\x00" * 22), "audio", "audio/ogg"),
    "voice.wav": (b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 64, "audio", "audio/wav"),
    "clip.mp4": (mp4(b"isom"), "video", "video/mp4"),
    "camera.mp4": (mp4(b"mp42", moov_last=True), "video", "video/mp4"),
    "clip.mov": (mp4(b"qt  "), "video", "video/quicktime"),
    "clip.webm": (webm((1, 2)), "video", "video/webm"),
    "voice.webm": (webm((2,)), "audio", "audio/webm"),
}

HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
    b"<script>alert(document.domain)</script></svg>"
)
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 120
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 120
REFUSED = {
    "html named photo.jpg": ("photo.jpg", HTML),
    "svg": ("drawing.svg", SVG),
    "svg named png": ("drawing.png", SVG),
    "elf": ("game.jpg", ELF),
    "windows exe": ("homework.pdf", EXE),
    "plain zip": ("homework.docx", zipped({"readme.txt": b"hello", "virus.exe": EXE})),
    "zip with content types but no document": (
        "essay.docx",
        zipped({"[Content_Types].xml": OOXML_MAIN["word"].encode(), "other/part.xml": b"<x/>"}),
    ),
    "docx whose manifest declares no document": ("essay.docx", ooxml("word", main_type="text/html")),
    "word file with macros": (
        "essay.docx",
        ooxml(
            "word",
            main_type="application/vnd.ms-word.document.macroEnabled.main+xml",
            extra={"word/vbaProject.bin": b"\x00" * 32},
        ),
    ),
    "odf of another type": ("x.odt", odf("application/vnd.oasis.opendocument.graphics")),
    "jar": ("x.docx", zipped({"META-INF/MANIFEST.MF": b"Manifest-Version: 1.0\n", "A.class": b"\xca\xfe"})),
    "random bytes named pdf": ("report.pdf", bytes(range(256)) * 8),
    "pdf header without trailer": ("report.pdf", b"%PDF-1.7\n" + b"x" * 4000),
    "pdf header after a prefix": ("report.pdf", b"<html>" + pdf()),
    "plain text": ("notes.txt", "ノート".encode() * 20),
    "tiff": ("scan.tif", image_bytes("TIFF")),
    "bmp": ("scan.bmp", image_bytes("BMP")),
    "ico named png": ("icon.png", image_bytes("ICO", (32, 32))),
    "rtf": ("letter.docx", b"{\\rtf1\\ansi hello}"),
    "mp4 with an unknown brand": ("clip.mp4", iso_media(b"xxxx", (b"yyyy",))),
    "mp4 without a movie box": ("clip.mp4", iso_media(b"isom", (b"isom", b"mp41"))),
    "mp4 with no sound or picture track": ("clip.mp4", mp4(b"isom", (b"text",))),
    "matroska that is no webm": ("clip.webm", webm((1, 2), doctype=b"matroska")),
    "webm without tracks": ("voice.webm", webm(())),
    "webm header then html": ("voice.webm", b"\x1a\x45\xdf\xa3\x9f\x42\x82\x84webm" + HTML),
    "html named webm": ("voice.webm", HTML),
    "exe named webm": ("voice.webm", EXE),
    "ogg video (theora)": ("clip.ogg", ogg(b"\x80theora" + b"\x00" * 30)),
    "ogg header then html": ("voice.ogg", b"OggS\x00\x02" + b"\x00" * 21 + b"\x01\x40" + HTML),
}
