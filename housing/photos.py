"""Checking and re-encoding uploaded photos of flats.

A photo is recognised by its content, never by its name or the browser's content type,
and decoded with Pillow under a pixel limit, so that a decompression bomb is refused
before it fills the memory. What is stored is a fresh JPEG without any metadata
(EXIF with GPS position, camera, owner), scaled to at most 1600 px, and a thumbnail.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a 40-megapixel camera; beyond that, decoding is refused
MAX_EDGE = 1600
THUMBNAIL_EDGE = 400
ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP"}
JPEG_QUALITY = 85


@dataclass(frozen=True)
class ProcessedPhoto:
    image: bytes
    thumbnail: bytes
    width: int
    height: int


def _encode(image: Image.Image, edge: int) -> bytes:
    copy = image.copy()
    copy.thumbnail((edge, edge), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    # A new image without info or exif: nothing of the original's metadata is written.
    copy.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue()


def process_photo(upload: UploadedFile) -> ProcessedPhoto:
    """Check an upload and return the re-encoded photo and thumbnail; ValidationError on the "photo" field."""
    if upload.size is None or upload.size > MAX_UPLOAD_BYTES:
        raise ValidationError({"photo": _("The photo is larger than 10 MB.")})
    if upload.size == 0:
        raise ValidationError({"photo": _("The file is empty.")})
    upload.seek(0)
    data = upload.read(MAX_UPLOAD_BYTES + 1)
    upload.seek(0)
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValidationError({"photo": _("The photo is larger than 10 MB.")})
    not_a_photo = ValidationError({"photo": _("The file is not a photo (JPEG, PNG or WebP).")})
    too_large = ValidationError(
        {"photo": _("The photo has too many pixels (at most %(limit)d megapixels).") % {"limit": MAX_PIXELS // 10**6}}
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                if probe.format not in ACCEPTED_FORMATS:
                    raise not_a_photo
                width, height = probe.size
                if width * height > MAX_PIXELS:
                    raise too_large
                probe.verify()
            # verify() leaves the image unusable: open it again to decode.
            with Image.open(io.BytesIO(data)) as source:
                source.load()
                image = ImageOps.exif_transpose(source) or source
                image = image.convert("RGB")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise too_large from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise not_a_photo from exc
    full = _encode(image, MAX_EDGE)
    with Image.open(io.BytesIO(full)) as stored:
        stored_width, stored_height = stored.size
    return ProcessedPhoto(
        image=full, thumbnail=_encode(image, THUMBNAIL_EDGE), width=stored_width, height=stored_height
    )
