"""Obscuring a region of upright pixels: blur, pixelate or fill. Regions are face boxes grown by
PAD on each side, so hair, chin and ears that a detector also uses go with the face."""

from __future__ import annotations

import math

import cv2
import numpy as np

STYLES = ("blur", "pixelate", "fill")
# of the box's width/height, each side: at 0.2 CenterFace still finds the head's outline (score 0.3),
# at 0.4 it finds nothing above 0.1 on the demo photos whatever the style
PAD = 0.4
PIXELATE_CELLS = 5  # cells across the region's longer side


def padded_region(box: list[int], width: int, height: int, pad: float = PAD) -> list[int] | None:
    """[x0, y0, x1, y1] of the box grown by `pad` (of its width/height, each side), clipped to the
    image; None if nothing is left."""
    x, y, w, h = box
    px, py = math.ceil(w * pad), math.ceil(h * pad)
    x0, y0 = max(0, x - px), max(0, y - py)
    x1, y1 = min(width, x + w + px), min(height, y + h + py)
    return [x0, y0, x1, y1] if x1 > x0 and y1 > y0 else None


def obscure(pixels: np.ndarray, region: list[int], style: str, channels: int) -> None:
    """Obscure pixels[y0:y1, x0:x1, :channels] in place (channels leaves an alpha channel alone).
    Only pixels inside the region are written."""
    x0, y0, x1, y1 = region
    patch = pixels[y0:y1, x0:x1, :channels]
    h, w = patch.shape[:2]
    if style == "fill":
        patch[...] = 0
    elif style == "pixelate":
        cell = max(1, math.ceil(max(w, h) / PIXELATE_CELLS))
        small = cv2.resize(np.ascontiguousarray(patch), (max(1, math.ceil(w / cell)), max(1, math.ceil(h / cell))),
                           interpolation=cv2.INTER_AREA)
        patch[...] = cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST).reshape(patch.shape)
    elif style == "blur":
        # the mean colour first, then a blur: no trace of the face's structure survives a strong kernel
        sigma = max(w, h) / 4
        blurred = cv2.GaussianBlur(np.ascontiguousarray(patch), (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
        patch[...] = blurred.reshape(patch.shape)
    else:
        raise ValueError(f"unknown style {style!r}")
