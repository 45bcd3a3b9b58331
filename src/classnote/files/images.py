"""Every uploaded image is decoded and encoded anew: what is stored is pixels, nothing else.

* EXIF (with the GPS position of a pupil's home), XMP, comments, text chunks and anything appended
  after the image data are dropped: the pixels are copied into a fresh image that has no metadata.
* The EXIF orientation is applied first, so photos are the right way up without it.
* Colours are converted to sRGB (an embedded ICC profile is applied, then dropped).
* At most 4096 px on the longer side; a thumbnail of at most 320 px (WebP).
* HEIC/HEIF photos (iPads, iPhones) are decoded by pillow-heif, which applies the picture's own
  rotation (irot/imir) and resets the EXIF orientation; they then go the same way as a JPEG.
* Photos (JPEG, WebP, HEIC) are stored as JPEG; images with transparency, and lossless sources
  (PNG, GIF: screenshots, diagrams), as PNG. Animations keep their first frame.
* Decompression bombs — a small file that decodes into billions of pixels — are refused before
  decoding, by our own pixel limit and by Pillow's (Image.MAX_IMAGE_PIXELS).

**Memory.** What is decoded is bounded: at most ``IMAGE_MAX_PIXELS`` pixels (24 megapixels unless
configured; a JPEG larger than that is decoded at a half, quarter or eighth of its size, which its
decoder does cheaply, so phone photos of any size are accepted), and an image over 4096 px is
scaled down right after decoding, before any other copy is made. Decoding and encoding run on the
``image-decode`` pool (classnote.core.workpool): at most ``IMAGE_WORKERS`` images at once in a
process, whatever the number of uploads, and glibc hands the memory back after each. A 24-megapixel
PNG takes about 200 MB while it is processed (bench/render/README.md).
"""

from __future__ import annotations

import contextlib
import io
import warnings
from dataclasses import dataclass
from typing import IO

import pillow_heif
from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from classnote.core.workpool import WorkPool
from classnote.files.validation import FileRefused

MAX_DIMENSION = 4096
THUMBNAIL_DIMENSION = 320
# Uploads wait this long for a free place on the pool and for their image, then get a 503.
WAIT_SECONDS = 30
# Images that may wait behind those being processed (each holds a request thread meanwhile).
QUEUE = 2
JPEG_QUALITY = 85
THUMBNAIL_QUALITY = 75
# The formats Pillow may try: nothing else is ever parsed (no EPS/PSD/TIFF/... decoders on uploads).
_FORMATS = ("JPEG", "PNG", "GIF", "WEBP")
_LOSSLESS_SOURCES = {"PNG", "GIF"}

# Pillow's own guard (Image.MAX_IMAGE_PIXELS: a warning above it, an error at twice it) stays on
# as a second line behind our limit (settings cap IMAGE_MAX_PIXELS below it); its warning is turned
# into a refusal while we decode. Should anything have switched it off, it is switched back on.
if Image.MAX_IMAGE_PIXELS is None:
    Image.MAX_IMAGE_PIXELS = 89_478_485

# HEIC/HEIF (what iPads take photos in): Pillow reads them through pillow-heif's opener. Only the
# primary image is read (no thumbnails, depth maps or auxiliary images), on one thread: the pool
# bounds how many images are decoded at once, and so what they cost.
pillow_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False, decode_threads=1)

decode_pool = WorkPool("image-decode", lambda: settings.IMAGE_WORKERS, lambda: QUEUE, trim_memory=True)


def max_pixels() -> int:
    """The most pixels an uploaded image may decode to (IMAGE_MAX_PIXELS)."""
    return int(settings.IMAGE_MAX_PIXELS)


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
            % {"width": width, "height": height, "limit": max_pixels() // 1_000_000}
        )
    return FileRefused(
        _("This image is too large. Images may have at most %(limit)s megapixels; make it smaller.")
        % {"limit": max_pixels() // 1_000_000}
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
    if image.format == "JPEG":
        _draft(image)
    if image.width * image.height > max_pixels():
        raise too_many_pixels(image.width, image.height)
    return image


def _draft(image: Image.Image) -> None:
    """Let the JPEG decoder scale a photo down while decoding (1/2, 1/4 or 1/8: fast, and the full
    size never reaches memory): enough to bring it under the pixel limit, and further while both
    sides stay at 4096 or more (the most we store)."""
    width, height = image.size
    for scale in (1, 2, 4, 8):
        if (width // scale) * (height // scale) <= max_pixels():
            break
    while scale < 8 and min(width, height) // (2 * scale) >= MAX_DIMENSION:
        scale *= 2
    if scale > 1:
        image.draft("RGB", (width // scale, height // scale))


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
        return image if image.mode == "RGBA" else image.convert("RGBA")
    if image.mode in ("L", "RGB"):
        return image
    return image.convert("RGB")


def _decode(file: IO[bytes]) -> tuple[Image.Image, str]:
    image = _open(file)
    source_format = image.format or ""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image.seek(0)
            image.load()
            alpha = _has_alpha(image)
            if image.mode == "P" or (alpha and image.mode not in ("RGBA", "LA")):
                image = image.convert("RGBA")
            if max(image.size) > MAX_DIMENSION and image.mode in ("RGB", "RGBA", "L", "LA", "CMYK"):
                # Smaller first: every later step then copies at most 4096 × 4096 pixels.
                image.thumbnail((MAX_DIMENSION, MAX_DIMENSION), Image.Resampling.LANCZOS, reducing_gap=3.0)
            # An unreadable EXIF block: keep the pixels unrotated.
            with contextlib.suppress(OSError, ValueError, TypeError, KeyError, SyntaxError):
                ImageOps.exif_transpose(image, in_place=True)
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
    clean = Image.new(image.mode, image.size)
    clean.paste(image)
    return clean, source_format


def _thumbnail(image: Image.Image) -> tuple[bytes, str]:
    thumb = image.copy()
    thumb.thumbnail((THUMBNAIL_DIMENSION, THUMBNAIL_DIMENSION), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    thumb.save(out, "WEBP", quality=THUMBNAIL_QUALITY, method=4)
    return out.getvalue(), "image/webp"


def process_image(file: IO[bytes]) -> ProcessedImage:
    """Decode FILE and encode it anew (see the module docstring), on the image-decode pool;
    FileRefused if it cannot be, PoolBusy (503) if the pool has no place for it in time."""
    return decode_pool.run(_process, file, timeout=WAIT_SECONDS)


def _process(file: IO[bytes]) -> ProcessedImage:
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
