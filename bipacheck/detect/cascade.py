"""YuNet proposes, CenterFace decides: a faster detector for large buckets (`--detector cascade`).

YuNet at a low score threshold (PROPOSAL_THRESHOLD) costs about a fifth of CenterFace's time per
pixel, and its proposals hold about 95% of the faces >= 32 px that CenterFace finds (issue 16,
measured on WIDER). CenterFace then looks only at a square around each proposal, PAD times the
proposal's size, resized so the face is about CROP_SIDE / PAD px (its best size), and its score
and box are the result: a proposal CenterFace does not confirm is dropped. Faces YuNet does not
propose are never found; that is the recall traded for speed (README, "Choosing speed against
recall"). MultiPass wraps it like any network, so every face size, tiles and turned views work
the same as for the default detector.

Needs both weights; both ship with the package (detect/models/).
"""

from __future__ import annotations

import cv2
import numpy as np

from . import centerface, yunet
from .base import Face, iou, nms
from .centerface import CenterFace
from .yunet import YuNet

PROPOSAL_THRESHOLD = 0.2  # YuNet: low, so the proposals miss little; CenterFace does the deciding
PAD = 2.0  # a proposal's crop is this many times its size (context around the face)
CROP_SIDE = 128  # px: crops are resized to this, so a face is about 64 px
MATCH = 0.3  # IoU between the proposal and CenterFace's box in the crop for the box to confirm it
BATCH = 64  # crops per network call (13 MB of float input; a crowd's hundreds of proposals stay bounded)


class Cascade:
    name = "cascade"
    min_reliable_face = 32
    confident_score = CenterFace.confident_score  # the scores are CenterFace's
    turned_view_best = CenterFace.turned_view_best

    def __init__(self, proposer: YuNet, verifier: CenterFace):
        self.proposer = proposer
        self.verifier = verifier
        self.threshold = verifier.threshold
        self.nms_iou = verifier.nms_iou
        self.runtime = verifier.runtime

    def settings(self) -> dict:
        # model_sha256 is the scoring model's, as for every detector (reports and baselines pin it);
        # the proposer's is under "proposer"
        return {"detector": self.name, "model_sha256": self.verifier.model_sha256, "threshold": self.threshold,
                "nms_iou": self.nms_iou, "runtime": self.runtime, "proposer": self.proposer.settings(),
                "verifier": self.verifier.settings(),
                "crop": {"pad": PAD, "side": CROP_SIDE, "match": MATCH}}

    def detect(self, rgb: np.ndarray) -> list[Face]:
        proposals = self.proposer.detect(rgb)
        found = []
        for start in range(0, len(proposals), BATCH):
            chunk = proposals[start:start + BATCH]
            crops, frames = zip(*(_crop(rgb, p) for p in chunk))
            for proposal, (x0, y0, scale), faces in zip(chunk, frames, self.verifier.detect_batch(list(crops))):
                expected = [(proposal.x - x0) / scale, (proposal.y - y0) / scale,
                            proposal.w / scale, proposal.h / scale]
                # the best-scoring confirming box, so raising the threshold keeps a prefix of the result
                confirming = [f for f in faces if iou(f.box, expected) >= MATCH]
                if confirming:
                    best = max(confirming, key=lambda f: f.score)
                    found.append(_placed(best, (x0, y0), scale, rgb.shape[1], rgb.shape[0]))
        return nms(found, self.nms_iou)


def _crop(rgb: np.ndarray, p: Face) -> tuple[np.ndarray, tuple[float, float, float]]:
    """The square around a proposal, zero-padded beyond the image, resized to CROP_SIDE; and how to
    map its pixels back (origin in the image, image px per crop px)."""
    side = max(PAD * max(p.w, p.h), 1.0)
    x0, y0 = p.x + p.w / 2 - side / 2, p.y + p.h / 2 - side / 2
    scale = side / CROP_SIDE
    # an affine warp samples outside the image as black, which is what padding needs
    matrix = np.float32([[scale, 0, x0], [0, scale, y0]])
    interpolation = cv2.INTER_AREA if scale > 1 else cv2.INTER_LINEAR
    crop = cv2.warpAffine(rgb, matrix, (CROP_SIDE, CROP_SIDE), flags=interpolation | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return crop, (x0, y0, scale)


def _placed(f: Face, origin: tuple[float, float], scale: float, w: int, h: int) -> Face:
    x1, y1 = max(0.0, origin[0] + f.x * scale), max(0.0, origin[1] + f.y * scale)
    x2, y2 = min(float(w), origin[0] + (f.x + f.w) * scale), min(float(h), origin[1] + (f.y + f.h) * scale)
    return Face(int(round(x1)), int(round(y1)), max(1, int(round(x2 - x1))), max(1, int(round(y2 - y1))), f.score)


def build(threshold: float, runtime: str) -> Cascade:
    """YuNet proposing at PROPOSAL_THRESHOLD, CenterFace deciding at `threshold`."""
    return Cascade(yunet.build(PROPOSAL_THRESHOLD, runtime), centerface.build(threshold, runtime))
