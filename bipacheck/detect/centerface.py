"""CenterFace (MIT), on OpenCV's DNN module or ONNX Runtime (detect/runtime.py).

Runs at full resolution (it finds small faces that a 640-px resize loses), with the input padded,
not stretched, to a multiple of 32. Needs OpenCV 5's default engine: on the classic engine the
network's output drifts once one net object sees a second input size (DETECTORS.md, pitfall 3),
which tests guard by pushing photos of several sizes through one instance.
Only the heatmap, scale and offset heads are read; the landmark head never is.
"""

from __future__ import annotations

import cv2
import numpy as np

from .base import Face
from .runtime import NetworkDetector
from .weights import resolve

_STRIDE = 4


class CenterFace(NetworkDetector):
    name = "centerface"
    min_reliable_face = 32
    # rotated passes (detect/passes.py) keep faces from this score up and weigh them against the
    # upright faces from this score up: the highest score of a rotated pass on a face-free scene
    # was .38 (tests/images.py SCENES, also at 2000 px), a rotated pass at 0.4 made the
    # cameraman's hand a face; upright faces score .6-.95
    confident_score = 0.5
    # a turned view counts only with a face this clear: three shoes at .47-.55 made a view of a
    # face-free crop; on 120 WIDER photos turned 0-270 degrees, requiring .7 lost no recall and
    # raised precision (.8 lost recall)
    turned_view_best = 0.7
    outputs = ["537", "538", "539"]  # heatmap, scale, offset

    def detect(self, rgb: np.ndarray) -> list[Face]:
        h, w = rgb.shape[:2]
        ph, pw = -(-h // 32) * 32, -(-w // 32) * 32
        if (ph, pw) != (h, w):
            rgb = cv2.copyMakeBorder(rgb, 0, ph - h, 0, pw - w, cv2.BORDER_CONSTANT, value=0)
        blob = cv2.dnn.blobFromImage(rgb, 1.0, (pw, ph), (0, 0, 0), swapRB=False, crop=False)
        heatmap, scale, offset = self.net.run(blob)
        return _decode(heatmap[0, 0], scale[0], offset[0], self.threshold, self.nms_iou, w, h)

    def detect_batch(self, images: list[np.ndarray]) -> list[list[Face]]:
        """Faces in each of several same-sized images whose sides are multiples of 32, in one call."""
        h, w = images[0].shape[:2]
        blob = cv2.dnn.blobFromImages(images, 1.0, (w, h), (0, 0, 0), swapRB=False, crop=False)
        heatmap, scale, offset = self.net.run(blob)
        return [_decode(heatmap[i, 0], scale[i], offset[i], self.threshold, self.nms_iou, w, h)
                for i in range(len(images))]


def build(threshold: float, runtime: str) -> CenterFace:
    """The network on `runtime`, from verified weights (detect/weights.py)."""
    path, sha = resolve("centerface")
    return CenterFace(str(path), sha, threshold=threshold, runtime=runtime)


def _decode(heat, scale, offset, threshold, nms_iou, w, h) -> list[Face]:
    ys, xs = np.nonzero(heat > threshold)
    if len(ys) == 0:
        return []
    bh = np.exp(scale[0, ys, xs]) * _STRIDE
    bw = np.exp(scale[1, ys, xs]) * _STRIDE
    cy = (ys + offset[0, ys, xs] + 0.5) * _STRIDE
    cx = (xs + offset[1, ys, xs] + 0.5) * _STRIDE
    x1 = np.clip(cx - bw / 2, 0, w)
    y1 = np.clip(cy - bh / 2, 0, h)
    x2 = np.clip(cx + bw / 2, 0, w)
    y2 = np.clip(cy + bh / 2, 0, h)
    scores = heat[ys, xs].astype(float)
    boxes = np.stack([x1, y1, x2 - x1, y2 - y1], axis=1)
    keep = cv2.dnn.NMSBoxes(boxes.tolist(), scores.tolist(), threshold, nms_iou)
    faces = []
    for i in np.array(keep).reshape(-1):
        x, y, bw_, bh_ = boxes[i]
        if bw_ >= 1 and bh_ >= 1:
            faces.append(Face(int(round(x)), int(round(y)), int(round(bw_)), int(round(bh_)), float(scores[i])))
    return faces
