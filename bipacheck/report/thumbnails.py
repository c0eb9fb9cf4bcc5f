"""Small JPEG thumbnails for the HTML report, made at render time from the photos themselves.

The photo is read again from where the audit found it and must still have the audited content
(same SHA-256); otherwise it gets no thumbnail and the report says why. A thumbnail is the whole
photo downscaled: crops of faces are never made. A video's thumbnails are keyframes: the whole frame
at a face track's best time, downscaled, one per track.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
from dataclasses import dataclass

import numpy as np
from PIL import Image

from ..errors import BipacheckError
from ..imaging import load_image
from ..imaging.obscure import obscure, padded_region
from ..sources import locate, read_url
from ..video import frame_at

THUMB_SIDE = 320  # px, longest side
THUMB_QUALITY = 70


@dataclass
class Thumbnail:
    uri: str | None  # data:image/jpeg;base64,... or None
    width: int = 0
    height: int = 0
    note: str = ""  # why there is no thumbnail


def make_thumbnail(photo: dict, max_pixels: int, endpoint_url: str | None = None, blur=(),
                   root: str | None = None, time_s: float | None = None) -> Thumbnail:
    """photo: a report photos[] row (path below `root`, the report's run.root; sha256, width, height).
    blur: face boxes (upright, full resolution) to blur in the thumbnail's own pixels, so they never
    leave the machine. time_s: for a video, the time of the frame to show (default its first)."""
    path, sha256 = locate(root, photo["path"]), photo["sha256"]
    try:
        data = read_url(path, endpoint_url)
    except Exception as exc:  # noqa: BLE001 - any failure to read is reported on the photo, not raised
        return Thumbnail(None, note=f"photo could not be read again ({type(exc).__name__}: {exc})")
    if sha256 and hashlib.sha256(data).hexdigest() != sha256:
        return Thumbnail(None, note="photo changed since the audit (SHA-256 differs): no thumbnail")
    try:
        if photo.get("kind") == "video":
            frame = frame_at(io.BytesIO(data), time_s or 0.0)
            if frame is None:
                return Thumbnail(None, note="video frame could not be decoded again")
            im, full_width = Image.fromarray(frame), frame.shape[1]
        else:
            # JPEGs decode straight at 1/2, 1/4 or 1/8 scale (DCT scaling) when that is still >= THUMB_SIDE
            reduce_by = max(1.0, max(photo.get("width") or 1, photo.get("height") or 1) / THUMB_SIDE)
            loaded = load_image(data, max_pixels=max_pixels, reduce_by=reduce_by, max_frames=1)
            im, full_width = Image.fromarray(loaded.frames[0]), loaded.width
    except (BipacheckError, OSError, ValueError) as exc:
        return Thumbnail(None, note=f"photo could not be decoded again: {exc}")
    im.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
    if blur:
        im = _blurred(im, blur, im.width / full_width)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=THUMB_QUALITY, optimize=True)
    uri = "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
    return Thumbnail(uri, im.width, im.height)


def _blurred(im: Image.Image, boxes, scale: float) -> Image.Image:
    pixels = np.array(im)
    for x, y, w, h in boxes:
        region = padded_region([int(x * scale), int(y * scale), max(1, round(w * scale)), max(1, round(h * scale))],
                               im.width, im.height)
        if region is not None:
            obscure(pixels, region, "blur", 3)
    return Image.fromarray(pixels)


def make_thumbnails(photos: list[dict], max_pixels: int, endpoint_url: str | None = None,
                    blur: list | None = None, root: str | None = None,
                    times: list | None = None) -> list[Thumbnail]:
    """Thumbnails in the order of `photos` (blur: boxes to blur, per photo; times: a video's frame
    time, per photo), made on a few threads (decoding releases the GIL)."""
    from concurrent.futures import ThreadPoolExecutor

    blur = blur or [()] * len(photos)
    times = times or [None] * len(photos)
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        return list(pool.map(lambda pbt: make_thumbnail(pbt[0], max_pixels, endpoint_url, pbt[1], root, pbt[2]),
                             zip(photos, blur, times)))
