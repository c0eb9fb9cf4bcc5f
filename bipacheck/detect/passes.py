"""Every face size and any orientation from one network: a scale pyramid run in tiles, and turned
views for content stored sideways or upside down without an EXIF tag.

A network finds faces in a band of sizes: CenterFace boxes faces of 32 to about 500 px well, but a
face of 1,000 px or more gets boxes around an eye, or nothing (bench/detection.py, size sweep). So
the photo is searched at several scales, each pass halving the previous one, and each pass keeps the
faces of its own band: the finest pass everything up to LARGEST_FITTED px, coarser passes from
COARSE_MIN px up, the coarsest everything above. Faces of at least STEP * COARSE_MIN px in one pass
are always found by the next one, so a pass may drop boxes cut by a tile seam (the face is whole in
a neighbouring tile when it is smaller than OVERLAP, and a coarser pass finds it otherwise).

Tiles bound memory whatever the photo's size: a network never sees more than TILE_SIDE x TILE_SIDE
pixels at once (peak memory of one call grows with its input: about 0.7 GB at 1536 x 1536 against
2.6 GB for a whole 12 MP photo), and smaller inputs also run faster per pixel on this CPU.

Content stored sideways or upside down without an EXIF tag (scans, screenshots, re-encodes) is
looked for on every photo by three turned views of a copy shrunk to at most ROTATED_PIXELS and to
half size or less (faces in them are found from about twice the network's smallest face upward),
so the look costs at most 3/4 of the photo's pixels, or 1.5 MP, whatever its size. The 0.5 MP cap
binds only above 2 MP; there a face filling a given share of the frame is still more pixels in
the copy than in the half-size copies (0.18-0.5 MP) of the WIDER photos on which this rule was
chosen and checked (bench/turned_views.py: on 12 MP photos a 1 MP cap spent 16% of the detector's
time on these views, 0.5 MP 8%; a 0.25 MP cap, binding on the larger WIDER photos, lost turned
faces of 32-64 px). Only faces scoring the network's `confident_score` or more count as evidence,
summed per view, and a view counts only when one of its faces scores `turned_view_best` or more
(three shoes at .5 once made a view). When
a turned view holds more than the upright search, the photo is stored turned, and that view is
searched again at full size like an upright photo. Its faces, plus the upright faces scoring `confident_score` or more,
are the result. A photo stored upside down often shows a face or two upright too (a print, a tilted
head), so the old rule "turn only when no upright face is confident" missed most faces of rotated
group photos, and the faces of the shrunk views were found less well than at full size (recall of
faces >= 64 px at 90/180/270 degrees, bench/detection.py orientation sweep on 80 held-out photos:
.78/.64/.75 with that rule, .92/.92/.91 with this one, upright .95 either way). A face whose box
comes from a turned view says so in `Face.found_by`.
"""

from __future__ import annotations

import math
from dataclasses import replace

import cv2
import numpy as np

from .base import Face, iou, nms
from .runtime import NetworkDetector

STEP = 2  # each coarse pass is half the size of the previous one
COARSE_MIN = 96  # px in a coarse pass: smaller faces there are the finer pass's
LARGEST_FITTED = 400  # px in a pass: larger boxes are left to the next coarser pass (astronaut: 575 px fits, 690 not)
TILE_SIDE = 1536
OVERLAP = 256  # > STEP * COARSE_MIN: a face a pass is responsible for lies whole in some tile
EDGE = 2  # px: a box this close to an inner tile edge was cut by it
CONTAINED = 0.7  # a box with this share of its area inside a larger coarse-pass box is part of that face
ROTATED_PIXELS = 500_000  # rotated passes run on a copy of at most this many pixels (and at most half size)
ROTATIONS = (1, 2, 3)  # quarter turns counterclockwise (np.rot90's k)


class MultiPass:
    """A NetworkDetector run as a tiled scale pyramid, plus rotated passes (module docstring)."""

    def __init__(self, network: NetworkDetector, rotate: bool = True):
        self.network = network
        self.rotate = rotate
        self.name = network.name
        self.min_reliable_face = network.min_reliable_face
        self.threshold = network.threshold
        self.runtime = network.runtime

    def settings(self) -> dict:
        passes = {"step": STEP, "coarse_min": COARSE_MIN, "largest_fitted": LARGEST_FITTED,
                  "tile_side": TILE_SIDE, "overlap": OVERLAP, "contained": CONTAINED}
        if self.rotate:
            passes.update(rotated_min=self.network.confident_score, rotated_pixels=ROTATED_PIXELS,
                          rotated_best=self.network.turned_view_best,
                          rotated_taken="full-view-when-more-confident-evidence")
        return {**self.network.settings(), "passes": passes}

    def detect(self, rgb: np.ndarray) -> list[Face]:
        faces = self.pyramid(rgb)
        if not self.rotate:
            return faces
        confident = self.network.confident_score
        h, w = rgb.shape[:2]
        small = _shrink(rgb, max(2.0, math.sqrt(h * w / ROTATED_PIXELS)))
        evidence = {k: _evidence(self.pyramid(np.ascontiguousarray(np.rot90(small, k))), confident,
                                 self.network.turned_view_best) for k in ROTATIONS}
        k = max(evidence, key=evidence.get)
        if evidence[k] <= sum(f.score for f in faces if f.score >= confident):
            return faces  # upright is the photo's orientation
        # the photo is stored turned: search that view at full size, keep what upright was sure of
        turned = [replace(f, x=x, y=y, w=bw, h=bh, found_by=f"rotated-{90 * k}")
                  for f in self.pyramid(np.ascontiguousarray(np.rot90(rgb, k)))
                  for x, y, bw, bh in [_unrotate(f.box, k, w, h)]]
        return nms(turned + [f for f in faces if f.score >= confident], self.network.nms_iou)

    def pyramid(self, rgb: np.ndarray) -> list[Face]:
        """Upright faces of every size in `rgb`, in its pixels."""
        passes: list[list[Face]] = []
        image, scale = rgb, 1.0
        while True:
            h, w = image.shape[:2]
            coarser = min(h, w) >= STEP * COARSE_MIN  # then the next pass exists
            lo = COARSE_MIN if passes else 0
            hi = LARGEST_FITTED if coarser else math.inf
            found = [f for f in self._tiled(image) if lo <= max(f.w, f.h) < hi]
            passes.append([_fit(f.scaled(scale), rgb.shape[1], rgb.shape[0]) if scale != 1 else f for f in found])
            if not coarser:
                break
            image = _shrink(image, STEP)
            scale *= w / image.shape[1]
        return _fuse_passes(passes, self.network.nms_iou)

    def _tiled(self, image: np.ndarray) -> list[Face]:
        h, w = image.shape[:2]
        xs, ys = _tile_starts(w), _tile_starts(h)
        if len(xs) == 1 and len(ys) == 1:
            return self.network.detect(image)
        tw, th = _tile_length(w, len(xs)), _tile_length(h, len(ys))
        faces = []
        for y0 in ys:
            for x0 in xs:
                tile = image[y0:y0 + th, x0:x0 + tw]
                for f in self.network.detect(tile):
                    if _cut_by_seam(f, x0, y0, tile.shape[1], tile.shape[0], w, h):
                        continue
                    faces.append(replace(f, x=f.x + x0, y=f.y + y0))
        return nms(faces, self.network.nms_iou)


def _evidence(faces: list[Face], confident: float, best: float) -> float:
    """How strongly a turned view says "faces are upright here": the confident faces' scores summed,
    nothing unless one face scores `best` (a few middling boxes on shoes or textures are no view)."""
    if not any(f.score >= best for f in faces):
        return 0.0
    return sum(f.score for f in faces if f.score >= confident)


def _tile_starts(length: int) -> list[int]:
    """Evenly spaced tile origins covering `length` with tiles of at most TILE_SIDE overlapping by OVERLAP."""
    if length <= TILE_SIDE:
        return [0]
    count = math.ceil((length - OVERLAP) / (TILE_SIDE - OVERLAP))
    stride = (length - OVERLAP) / count
    return [round(i * stride) for i in range(count)]


def _tile_length(length: int, count: int) -> int:
    return length if count == 1 else min(length, math.ceil((length - OVERLAP) / count) + OVERLAP + 1)


def _cut_by_seam(f: Face, x0: int, y0: int, tw: int, th: int, w: int, h: int) -> bool:
    """Whether the box touches a tile edge that is not the image's own edge."""
    return ((x0 > 0 and f.x <= EDGE) or (y0 > 0 and f.y <= EDGE)
            or (x0 + tw < w and f.x + f.w >= tw - EDGE) or (y0 + th < h and f.y + f.h >= th - EDGE))


def _shrink(image: np.ndarray, factor: float) -> np.ndarray:
    h, w = image.shape[:2]
    size = (max(1, round(w / factor)), max(1, round(h / factor)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def _fit(f: Face, w: int, h: int) -> Face:
    """A scaled box clipped to the image (rounding can push it a pixel out)."""
    x, y = min(max(0, f.x), w - 1), min(max(0, f.y), h - 1)
    return replace(f, x=x, y=y, w=max(1, min(f.w, w - x)), h=max(1, min(f.h, h - y)))


def _unrotate(box: list[int], k: int, w: int, h: int) -> tuple[int, int, int, int]:
    """A box found in np.rot90(image, k) in the upright image's coordinates (image w x h)."""
    x, y, bw, bh = box
    if k == 1:
        return w - (y + bh), x, bh, bw
    if k == 2:
        return w - (x + bw), h - (y + bh), bw, bh
    return y, h - (x + bw), bh, bw


def _fuse_passes(passes: list[list[Face]], nms_iou: float) -> list[Face]:
    """One box per face across passes: NMS, after dropping fine-pass boxes that lie inside a larger,
    better-scoring box of a coarser pass (a part of a face too big for the fine pass, e.g. an eye).
    Only better-scoring boxes suppress, so raising the threshold keeps a prefix of the result."""
    kept = []
    for level, faces in enumerate(passes):
        coarser = [f for later in passes[level + 1:] for f in later]
        kept += [f for f in faces if not any(_part_of(f, big) for big in coarser)]
    return nms(kept, nms_iou)


def _part_of(small: Face, big: Face) -> bool:
    if big.score < small.score or big.w * big.h < 2 * small.w * small.h:
        return False
    iw = min(small.x + small.w, big.x + big.w) - max(small.x, big.x)
    ih = min(small.y + small.h, big.y + big.h) - max(small.y, big.y)
    return iw > 0 and ih > 0 and iw * ih >= CONTAINED * small.w * small.h


