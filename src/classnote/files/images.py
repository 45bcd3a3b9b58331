"""Every uploaded image is decoded and encoded anew: what is stored is pixels, nothing else.

* EXIF (with the GPS position of a pupil's home), XMP, comments, text chunks and anything appended
  after the image data are dropped: the pixels are copied into a fresh image that has no metadata.
* The EXIF orientation is applied first, so photos are the right way up without it.
* Colours are converted to sRGB (an embedded ICC profile is applied, then dropped).
* At most 4096 px on the longer side; a thumbnail of at most 320 px (WebP).
* Photos (JPEG, WebP, HEIC) are stored as JPEG; images with transparency, and lossless sources
  (PNG, GIF: screenshots, diagrams), as PNG. Animations keep their first frame.
* Decompression bombs — a small file that decodes into billions of pixels — are refused before
  decoding, by our own pixel limit and by Pillow's (Image.MAX_IMAGE_PIXELS).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import IO

from django.utils.translation import gettext as _
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from classnote.files.validation import FileRefused

MAX_DIMENSION = 4096
THUMBNAIL_DIMENSION = 320
# 50 megapixels: above any phone or tablet camera's default, far below what would exhaust memory
# (decoding takes 3–4 bytes per pixel).
MAX_PIXELS = 50_000_000
JPEG_QUALITY = 85
THUMBNAIL_QUALITY = 75
# The formats Pillow may try: nothing else is ever parsed (no EPS/PSD/TIFF/... decoders on uploads).
_FORMATS = ("JPEG", "PNG", "GIF", "WEBP")
_LOSSLESS_SOURCES = {"PNG", "GIF"}

# Pillow's own guard (Image.MAX_IMAGE_PIXELS: a warning above it, an error at twice it) stays on
# as a second line behind our limit; its warning is turned into a refusal while we decode. Should
# anything have switched it off, it is switched back on.
if Image.MAX_IMAGE_PIXELS is None:
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS


@dataclass(frozen=True)
class ProcessedImage:
    content: bytes
    content_type: str
    extension: str
    width: int
    height: int
    thumbnail: bytes
    thumbnail_content_type: str


def too_many_pixels(width: int | None = None, height: int | None = None) -> FileRefused:
    if width and height:
        return FileRefused(
            _(
                "This image is too large (%(width)s × %(height)s pixels). Images may have at most "
                "%(limit)s megapixels; make it smaller and upload it again."
            )
            % {"width": width, "height": height, "limit": MAX_PIXELS // 1_000_000}
        )
    return FileRefused(
        _("This image is too large. Images may have at most %(limit)s megapixels; make it smaller.")
        % {"limit": MAX_PIXELS // 1_000_000}
    )


def unreadable() -> FileRefused:
    return FileRefused(
        _("This image could not be read; it may be damaged. Save it again as JPEG or PNG and upload it again.")
    )


def _formats() -> tuple[str, ...]:
    # HEIF only when a plugin (pillow-heif) or Pillow itself can decode it.
    return (*_FORMATS, "HEIF") if "HEIF" in Image.OPEN else _FORMATS


def _open(file: IO[bytes]) -> Image.Image:
    file.seek(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(file, formats=_formats())
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise too_many_pixels() from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, TypeError, EOFError):
            raise unreadable() from None
    if image.width <= 0 or image.height <= 0:
        raise unreadable()
    if image.width * image.height > MAX_PIXELS:
        raise too_many_pixels(image.width, image.height)
    return image


def _has_alpha(image: Image.Image) -> bool:
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        return True
    return "transparency" in image.info


def _to_srgb(image: Image.Image) -> Image.Image:
    """Apply an embedded colour profile (Display P3 photos of iPads), so the profile can be dropped."""
    profile = image.info.get("icc_profile")
    if not profile or image.mode not in ("RGB", "RGBA", "CMYK", "L"):
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        output_mode = "RGBA" if image.mode == "RGBA" else "RGB"
        converted = ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode=output_mode)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return image  # a broken profile: keep the pixels as they are
    return converted if converted is not None else image


def _normalise_mode(image: Image.Image, alpha: bool) -> Image.Image:
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        # 16-bit greyscale: scale to 8 bits (a plain convert would clip everything to white).
        image = image.convert("I").point(lambda value: value / 256).convert("L")
    if alpha:
        return image.convert("RGBA")
    if image.mode == "L":
        return image
    return image.convert("RGB")


def _decode(file: IO[bytes]) -> tuple[Image.Image, str]:
    image = _open(file)
    source_format = image.format or ""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            if source_format == "JPEG":
                # Let the JPEG decoder scale down huge photos while decoding (fast, less memory).
                image.draft("RGB", (MAX_DIMENSION, MAX_DIMENSION))
            image.seek(0)
            image.load()
            try:
                transposed = ImageOps.exif_transpose(image)
            except (OSError, ValueError, TypeError, KeyError, SyntaxError):
                transposed = None  # an unreadable EXIF block: keep the pixels unrotated
            if transposed is not None:
                image = transposed
            alpha = _has_alpha(image)
            if image.mode == "P" or (alpha and image.mode not in ("RGBA", "LA")):
                image = image.convert("RGBA")
            image = _to_srgb(image)
            image = _normalise_mode(image, alpha)
            if alpha and image.getchannel("A").getextrema() == (255, 255):
                image = image.convert("RGB")  # an alpha channel that is opaque everywhere
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise too_many_pixels() from None
        except (OSError, SyntaxError, ValueError, TypeError, EOFError, MemoryError):
            raise unreadable() from None
    if max(image.size) > MAX_DIMENSION:
        image.thumbnail((MAX_DIMENSION, MAX_DIMENSION), Image.Resampling.LANCZOS, reducing_gap=3.0)
    # A fresh image from the pixels alone: no info dict, no EXIF, no XMP, no ICC, no text chunks.
    clean = Image.frombytes(image.mode, image.size, image.tobytes())
    return clean, source_format


def _thumbnail(image: Image.Image) -> tuple[bytes, str]:
    thumb = image.copy()
    thumb.thumbnail((THUMBNAIL_DIMENSION, THUMBNAIL_DIMENSION), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    thumb.save(out, "WEBP", quality=THUMBNAIL_QUALITY, method=4)
    return out.getvalue(), "image/webp"


def process_image(file: IO[bytes]) -> ProcessedImage:
    """Decode FILE and encode it anew (see the module docstring); FileRefused if it cannot be."""
    image, source_format = _decode(file)
    out = io.BytesIO()
    if image.mode == "RGBA" or source_format in _LOSSLESS_SOURCES:
        image.save(out, "PNG", compress_level=6)
        content_type, extension = "image/png", "png"
    else:
        image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
        content_type, extension = "image/jpeg", "jpg"
    thumbnail, thumbnail_type = _thumbnail(image)
    return ProcessedImage(
        content=out.getvalue(),
        content_type=content_type,
        extension=extension,
        width=image.width,
        height=image.height,
        thumbnail=thumbnail,
        thumbnail_content_type=thumbnail_type,
    )
