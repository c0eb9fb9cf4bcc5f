"""The detection benchmark's protocol code (greedy IoU matching, ignore boxes, AP) on cases worked by hand."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

spec = importlib.util.spec_from_file_location("bench_detection", Path(__file__).parents[1] / "bench" / "detection.py")
bench = importlib.util.module_from_spec(spec)
sys.modules["bench_detection"] = bench  # dataclasses look their module up
spec.loader.exec_module(bench)


def boxes(*rows):
    return np.array(rows, dtype=float).reshape(-1, len(rows[0]) if rows else 4)


def test_greedy_matching_by_score_with_ignore_boxes():
    faces = boxes([0, 0, 10, 10], [100, 100, 10, 10])
    ignore = boxes([200, 200, 10, 10])
    dets = boxes(
        [0, 0, 10, 10, 0.9],      # hit face 0
        [1, 1, 10, 10, 0.8],      # second detection of face 0: a false alarm
        [200, 200, 10, 10, 0.7],  # on an ignore box: neutral
        [300, 300, 10, 10, 0.6],  # false alarm
    )
    scores, hits, face_scores = bench.match_image(dets, faces, ignore)
    assert scores.tolist() == [0.9, 0.8, 0.6] and hits.tolist() == [True, False, False]
    assert face_scores[0] == 0.9 and face_scores[1] == -np.inf


def test_average_precision_all_points():
    # one image, two faces: ranked hit, miss, hit -> precision 1 at recall .5, 2/3 at recall 1
    sample = bench.Sample(Path("x"), boxes([0, 0, 10, 10], [50, 50, 10, 10]), np.zeros((0, 4)))
    dets = boxes([0, 0, 10, 10, 0.9], [90, 90, 10, 10, 0.8], [50, 50, 10, 10, 0.7])
    matched = bench.match_all([sample], [dets])
    assert bench.average_precision(matched) == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)
    recall, threshold, precision = bench.best_recall_at_precision(matched, 0.9)
    assert (recall, threshold, precision) == (0.5, 0.9, 1.0)


def test_operating_protocol_turns_small_faces_into_ignore_boxes():
    sample = bench.Sample(Path("x"), boxes([0, 0, 10, 10], [50, 50, 40, 40]), np.zeros((0, 4)))
    dets = boxes([0, 0, 10, 10, 0.9], [50, 50, 40, 40, 0.8])
    matched = bench.match_all([sample], [dets], min_face=24)
    assert matched.face_sizes.tolist() == [40] and matched.hits.tolist() == [True]
