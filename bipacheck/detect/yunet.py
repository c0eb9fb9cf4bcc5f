"""YuNet (OpenCV Zoo) through cv2.FaceDetectorYN.

YuNet's own default threshold of 0.9 (also the Zoo demo's) misses most faces: recall first, so
the default here is far lower (DETECTORS.md, pitfall 1). Landmarks come back from OpenCV in the
same array; only the box and score columns are ever read.
"""

from __future__ import annotations

import cv2
import numpy as np

from .base import Face


class YuNet:
    name = "yunet"
    min_reliable_face = 32

    def __init__(self, model_path: str, model_sha256: str, threshold: float, nms_iou: float = 0.3):
        self.model_sha256 = model_sha256
        self.threshold = threshold
        self.nms_iou = nms_iou
        # OpenCV 5 warns on every create that the new engine ignores targets; it is noise here
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
        self._net = cv2.FaceDetectorYN.create(model_path, "", (320, 320), threshold, nms_iou, 5000)

    def settings(self) -> dict:
        return {"detector": self.name, "model_sha256": self.model_sha256,
                "threshold": self.threshold, "nms_iou": self.nms_iou}

    def detect(self, rgb: np.ndarray) -> list[Face]:
        h, w = rgb.shape[:2]
        self._net.setInputSize((w, h))
        _, rows = self._net.detect(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        if rows is None:
            return []
        faces = []
        for row in rows:
            x, y, bw, bh = row[:4]
            x1, y1 = max(0.0, x), max(0.0, y)
            x2, y2 = min(float(w), x + bw), min(float(h), y + bh)
            if x2 - x1 >= 1 and y2 - y1 >= 1:
                faces.append(Face(int(round(x1)), int(round(y1)), int(round(x2 - x1)),
                                  int(round(y2 - y1)), float(row[14])))
        return faces
