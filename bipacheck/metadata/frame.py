"""Stored size and Exif orientation of an image, read from its header with Pillow."""

from __future__ import annotations

import io
import warnings

from PIL import Image

from ..imaging.guard import pixels_allowed
from ..imaging.pngtext import without_oversized_text
from .geometry import Frame

_heif_tried = False


def _register_heif() -> None:
    # HEIC/AVIF photos from phones carry face regions too; pillow-heif is optional.
    global _heif_tried
    if _heif_tried:
        return
    _heif_tried = True
    try:
        from pillow_heif import register_heif_opener
    except ImportError:
        return
    register_heif_opener()


def read_frame(data: bytes) -> tuple[Frame | None, str | None]:
    """(Frame, None), or (None, reason) when the header cannot be read. Pixels are not decoded."""
    _register_heif()
    try:
        with warnings.catch_warnings(), pixels_allowed(None):  # we decode nothing: any size may open
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(without_oversized_text(data)[0])) as im:
                width, height = im.size
                # getexif() falls back to tiff:Orientation in the XMP when there is no Exif tag,
                # as ImageOps.exif_transpose does, so boxes match the detector's upright image.
                orientation = im.getexif().get(0x0112, 1)
                if "original_orientation" in im.info:
                    # pillow-heif applies the HEIF rotation itself: size is already upright and
                    # the Exif tag reads 1. Regions refer to the stored image, so undo that here.
                    orientation = im.info["original_orientation"] or 1
                    if orientation in (5, 6, 7, 8):
                        width, height = height, width
    except Exception as exc:
        return None, f"image header unreadable ({type(exc).__name__}: {exc}); regions have no boxes"
    try:
        orientation = int(orientation)
    except (TypeError, ValueError):
        orientation = 0
    if orientation not in range(1, 9):
        return Frame(width, height, 1), f"Exif orientation {orientation!r} is not 1..8; read as 1"
    return Frame(width, height, orientation), None
