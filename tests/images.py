"""Test images built from scikit-image's bundled real photos (public domain / CC0)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image
from skimage import data as skdata

# Pillow transposes that take a photo stored with EXIF orientation N to upright (EXIF spec),
# and the inverse used to build the stored pixels from an upright photo.
TO_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
FROM_UPRIGHT = {**TO_UPRIGHT, 6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270}

# Face-free real scenes (the cat is a deliberate near-miss: a face, but not a human one).
SCENES = ["coffee", "chelsea", "rocket", "brick", "grass", "gravel", "coins", "moon", "clock",
          "hubble_deep_field", "immunohistochemistry", "page", "text", "retina", "colorwheel", "cell"]


def rgb(name: str) -> np.ndarray:
    arr = getattr(skdata, name)()
    if arr.dtype == bool:
        arr = arr.astype(np.uint8) * 255
    if arr.ndim == 2:
        arr = np.stack([arr] * 3, axis=-1)
    return np.ascontiguousarray(arr[..., :3])


def encode(arr: np.ndarray | Image.Image, fmt: str = "PNG", **kwargs) -> bytes:
    im = arr if isinstance(arr, Image.Image) else Image.fromarray(arr)
    buf = io.BytesIO()
    im.save(buf, fmt, **kwargs)
    return buf.getvalue()


def stored_with_orientation(upright: np.ndarray, orientation: int, fmt: str = "PNG") -> bytes:
    """A file whose pixels are stored rotated/flipped, with the EXIF tag that makes them upright."""
    im = Image.fromarray(upright)
    if orientation != 1:
        im = im.transpose(FROM_UPRIGHT[orientation])
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(im, fmt, exif=exif.tobytes())


def side_by_side(*names: str, height: int = 512) -> np.ndarray:
    parts = []
    for name in names:
        im = Image.fromarray(rgb(name))
        parts.append(np.asarray(im.resize((round(im.width * height / im.height), height))))
    return np.concatenate(parts, axis=1)
