"""Obscure regions of one photo and write it back in its own format, with allow-listed metadata.

Boxes are in upright pixels (after EXIF orientation); the stored pixels are turned upright,
obscured in every channel (alpha too: a face can be drawn in transparency alone), and turned
back, so the copy keeps its orientation tag and stored layout. Lossless formats (PNG, BMP) keep
every pixel outside the regions; WebP copies are written lossless so they do too; JPEG copies
change only the DCT blocks under the regions (see jpeg.py). The copy carries only the metadata
allowlist.py allows: no thumbnails or previews, text chunks, maker notes or face tags.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from ...imaging import apply_orientation, exif_orientation, sniff_format
from ...imaging.formats import redactable, redactable_names
from ...imaging.obscure import obscure, padded_region
from . import jpeg
from .allowlist import Kept
from .jpeg import RedactError

_INVERSE = {6: 8, 8: 6}  # the other orientations undo themselves


@dataclass
class Redacted:
    data: bytes
    regions: list[list[int]]  # [x0, y0, x1, y1] obscured, upright pixels
    changed_area: list[list[int]]  # where decoded pixels may differ from the source, upright
    notes: list[str] = field(default_factory=list)


def _map_rect(rect: list[int], orientation: int, width: int, height: int) -> list[int]:
    """A rectangle [x0, y0, x1, y1] of a width x height image, after that image is transformed as
    EXIF `orientation` says (stored -> upright; with the inverse orientation, upright -> stored)."""
    mask = np.zeros((height, width, 1), bool)
    mask[rect[1]:rect[3], rect[0]:rect[2]] = True
    ys, xs = np.nonzero(apply_orientation(mask, orientation)[..., 0])
    return [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1]


def redact_bytes(data: bytes, boxes: list[list[int]], style: str) -> Redacted:
    """A copy of `data` with `boxes` ([x, y, w, h], upright) obscured. Raises RedactError."""
    fmt = sniff_format(data)
    if not redactable(fmt):
        raise RedactError(f"{fmt or 'this format'} cannot be redacted (supported: {', '.join(redactable_names())})")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            im = Image.open(io.BytesIO(data))
            im.load()
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise RedactError(f"photo could not be decoded: {exc}") from None
    if getattr(im, "n_frames", 1) > 1:
        raise RedactError("animated or multi-page images cannot be redacted")
    notes: list[str] = []
    orientation = exif_orientation(im, notes)
    work = im if im.mode in ("RGB", "RGBA", "L", "LA") else im.convert("RGBA" if "A" in im.mode or
                                                                     "transparency" in im.info else "RGB")
    if work is not im:
        notes.append(f"pixels converted from mode {im.mode} to {work.mode}")
    stored = np.array(work)
    if stored.ndim == 2:
        stored = stored[..., None]
    upright = apply_orientation(stored, orientation)
    height, width = upright.shape[:2]
    channels = upright.shape[2]  # alpha too: over a page, transparency alone can draw the face
    mask = np.zeros((height, width, 1), bool)
    regions = []
    for box in boxes:
        region = padded_region(box, width, height)
        if region is None:
            continue
        obscure(upright, region, style, channels)
        mask[region[1]:region[3], region[0]:region[2]] = True
        regions.append(region)
    back = _INVERSE.get(orientation, orientation)
    new_stored = apply_orientation(upright, back)
    changed = apply_orientation(mask, back)[..., 0]
    kept = Kept(data, im)
    if fmt == "JPEG":
        if jpeg.block_codec_available():
            out = jpeg.merge_blocks(data, im, new_stored, changed)
            grow_w, grow_h = jpeg.mcu_size(im)
            changed_area = _grown(regions, orientation, stored.shape, grow_w, grow_h)
        else:
            out = jpeg.reencode(im, new_stored)
            changed_area = [[0, 0, width, height]] if regions else []
            notes.append(jpeg.WITHOUT_BLOCK_CODEC)
        metadata, meta_notes = kept.jpeg_segments(data)
        out = jpeg.with_segments(out, metadata)
        notes += meta_notes
    else:
        try:
            out = _save_lossless(work, new_stored, fmt, kept)
        except (OSError, ValueError) as exc:
            raise RedactError(f"{fmt} copy could not be written: {exc}") from None
        changed_area = [list(r) for r in regions]
    return Redacted(out, regions, changed_area, notes)


def _grown(regions, orientation: int, shape, mcu_w: int, mcu_h: int) -> list[list[int]]:
    """JPEG: each region widened to whole MCUs plus one MCU of chroma smoothing, in upright pixels."""
    stored_h, stored_w = shape[:2]
    back = _INVERSE.get(orientation, orientation)
    out = []
    for region in regions:
        stored_rect = _map_rect(region, back, *_upright_size(shape, orientation))
        x0 = max(0, (stored_rect[0] // mcu_w - 1) * mcu_w)
        y0 = max(0, (stored_rect[1] // mcu_h - 1) * mcu_h)
        x1 = min(stored_w, (-(-stored_rect[2] // mcu_w) + 1) * mcu_w)
        y1 = min(stored_h, (-(-stored_rect[3] // mcu_h) + 1) * mcu_h)
        out.append(_map_rect([x0, y0, x1, y1], orientation, stored_w, stored_h))
    return out


def _upright_size(shape, orientation: int) -> tuple[int, int]:
    """(width, height) of the upright image for a stored array shape."""
    h, w = shape[:2]
    return (h, w) if orientation in (5, 6, 7, 8) else (w, h)


def _save_lossless(work: Image.Image, stored: np.ndarray, fmt: str, kept: Kept) -> bytes:
    pixels = stored[..., 0] if stored.shape[2] == 1 else stored
    image = Image.fromarray(pixels, work.mode)
    options = kept.pillow_options(fmt)
    if fmt == "WEBP":
        options.update(lossless=True, exact=True)
    buf = io.BytesIO()
    image.save(buf, fmt, **options)
    return buf.getvalue()
