"""YuNet (OpenCV Zoo / libfacedetection), on OpenCV's DNN module or ONNX Runtime (detect/runtime.py).

The boxes are decoded here as cv2.FaceDetectorYN decodes them (tests compare the two), so both
runtimes share one decoder and only the class, objectness and box heads are read: the landmark
head never is. YuNet's own default threshold of 0.9 (also the Zoo demo's) misses most faces, so
the default here is far lower (DETECTORS.md, pitfall 1).
"""

from __future__ import annotations

import cv2
import numpy as np

from .base import Face
from .runtime import NetworkDetector
from .weights import resolve

_STRIDES = (8, 16, 32)
_TOP_K = 5000


class YuNet(NetworkDetector):
    name = "yunet"
    min_reliable_face = 32
    # see CenterFace.confident_score: YuNet's rotated passes scored up to .80 on face-free scenes
    # (chelsea the cat upside down), upright faces .85-.9
    confident_score = 0.85
    turned_view_best = 0.85  # not measured separately for YuNet: its confident score
    outputs = [f"{head}_{stride}" for head in ("cls", "obj", "bbox") for stride in _STRIDES]

    def detect(self, rgb: np.ndarray) -> list[Face]:
        h, w = rgb.shape[:2]
        ph, pw = -(-h // 32) * 32, -(-w // 32) * 32
        bgr = cv2.copyMakeBorder(rgb, 0, ph - h, 0, pw - w, cv2.BORDER_CONSTANT, value=0)
        blob = cv2.dnn.blobFromImage(bgr, 1.0, (pw, ph), (0, 0, 0), swapRB=True, crop=False)
        heads = self.net.run(blob)
        boxes, scores = [], []
        for i, stride in enumerate(_STRIDES):
            cls, obj, box = (heads[i + k * len(_STRIDES)][0] for k in range(3))
            score = np.sqrt(np.clip(cls[:, 0], 0, 1) * np.clip(obj[:, 0], 0, 1))
            (cells,) = np.nonzero(score >= self.threshold)
            rows, cols = np.divmod(cells, pw // stride)
            cx = (cols + box[cells, 0]) * stride
            cy = (rows + box[cells, 1]) * stride
            bw = np.exp(box[cells, 2]) * stride
            bh = np.exp(box[cells, 3]) * stride
            boxes.append(np.stack([cx - bw / 2, cy - bh / 2, bw, bh], axis=1))
            scores.append(score[cells])
        boxes, scores = np.concatenate(boxes), np.concatenate(scores)
        if len(scores) == 0:
            return []
        keep = cv2.dnn.NMSBoxes(boxes.tolist(), scores.tolist(), self.threshold, self.nms_iou, top_k=_TOP_K)
        faces = []
        for i in np.array(keep).reshape(-1):
            x, y, bw, bh = boxes[i]
            x1, y1 = max(0.0, x), max(0.0, y)
            x2, y2 = min(float(w), x + bw), min(float(h), y + bh)
            if x2 - x1 >= 1 and y2 - y1 >= 1:
                faces.append(Face(int(round(x1)), int(round(y1)), int(round(x2 - x1)),
                                  int(round(y2 - y1)), float(scores[i])))
        return faces


def build(threshold: float, runtime: str) -> YuNet:
    """The network on `runtime`, from verified weights (detect/weights.py)."""
    path, sha = resolve("yunet")
    return YuNet(str(path), sha, threshold=threshold, runtime=runtime)
