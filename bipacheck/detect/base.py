"""The detector interface: an upright RGB image in, face boxes and scores out.

Landmarks, crops and embeddings are never returned: BIPA turns on whether face geometry is
derived, and this tool must not derive it itself.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class Face:
    """A face box [x, y, w, h] in upright original-image pixels, with a detector score in [0, 1]."""

    x: int
    y: int
    w: int
    h: int
    score: float
    # which pass found it: "upright", or "rotated-90/180/270" when only a pass on the photo turned
    # that many degrees counterclockwise did (content stored sideways without an EXIF tag)
    found_by: str = "upright"
    # where in the file, when not in a frame's own colours: an alpha view ("alpha-over-light",
    # "alpha-over-dark", "alpha-plane"), the frame colour-managed ("colour-managed": its ICC profile
    # or PNG gamma applied) or an embedded image ("embedded:exif", "embedded:xmp"...)
    found_in: str | None = None

    @property
    def box(self) -> list[int]:
        return [self.x, self.y, self.w, self.h]

    def scaled(self, factor: float) -> "Face":
        """The same face in an image `factor` times larger."""
        return replace(self, x=round(self.x * factor), y=round(self.y * factor),
                       w=round(self.w * factor), h=round(self.h * factor))


class Detector(Protocol):
    name: str
    # Smallest face (px, in the image given to detect) this detector finds reliably; the loader
    # uses it to decide how far a large photo may be shrunk before detection. Measured on WIDER
    # (bench/detection.py): recall is .80+ from 32 px up and drops to about .65 at 16-32 px, and
    # shrinking by 1.5 at the default 24 px min-face cost recall, so 32 means "never shrink a face
    # at the minimum size below 32 px".
    min_reliable_face: int
    threshold: float

    def detect(self, rgb: np.ndarray) -> list[Face]:
        """All faces scoring at least the detector's threshold, in `rgb`'s pixel coordinates."""

    def settings(self) -> dict:
        """Everything that changes results (model SHA-256, threshold, scales): keys caches and reports."""


def iou(a: list[float], b: list[float]) -> float:
    """Intersection over union of two [x, y, w, h] boxes."""
    ax2, ay2 = a[0] + a[2], a[1] + a[3]
    bx2, by2 = b[0] + b[2], b[1] + b[3]
    iw = min(ax2, bx2) - max(a[0], b[0])
    ih = min(ay2, by2) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def nms(faces: list[Face], nms_iou: float) -> list[Face]:
    """Best score first; a face overlapping a kept one by more than `nms_iou` is dropped."""
    kept: list[Face] = []
    for face in sorted(faces, key=lambda f: -f.score):
        if all(iou(face.box, k.box) <= nms_iou for k in kept):
            kept.append(face)
    return kept
