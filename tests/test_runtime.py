"""The same weights on OpenCV's DNN module and on ONNX Runtime find the same faces."""

from __future__ import annotations

import json
import sys

import cv2
import numpy as np
import pytest

from tests.requirements import require_module
from click.testing import CliRunner

import bipacheck
from bipacheck.cli import cli
from bipacheck.detect import weights, runtime
from bipacheck.detect.detectors import create_detector
from bipacheck.errors import ConfigError
from tests.images import encode, rgb, side_by_side

require_module("onnxruntime")


def photos() -> list[np.ndarray]:
    """Real photos of several sizes, pushed through one network object in turn (pitfall 3)."""
    group = side_by_side("coffee", "astronaut", "camera")
    return [rgb("astronaut"), group, cv2.resize(group, None, fx=1.7, fy=1.7), rgb("camera"),
            rgb("coffee"), cv2.resize(rgb("astronaut"), (1000, 600))]


def boxes(faces) -> list[tuple]:
    return [(*f.box, round(f.score, 3)) for f in faces]


@pytest.mark.parametrize("name", ["centerface", "yunet"])
def test_both_runtimes_find_the_same_faces(request, name):
    request.getfixturevalue(name)  # weights in place (or skipped with the reason)
    on_opencv = create_detector(name, 0.2, "opencv")
    on_onnxruntime = create_detector(name, 0.2, "onnxruntime")
    found = 0
    for photo in photos():
        a, b = on_opencv.detect(photo), on_onnxruntime.detect(photo)
        assert [f.box for f in a] == [f.box for f in b]
        assert np.allclose([f.score for f in a], [f.score for f in b], atol=1e-4)
        found += len(a)
    assert found >= 6  # a low threshold, so the comparison covers weak detections too


@pytest.mark.parametrize("which", ["opencv", "onnxruntime"])
def test_yunet_boxes_are_decoded_as_opencv_facedetectoryn_decodes_them(yunet, which):
    path, _ = weights.resolve("yunet")
    ours = create_detector("yunet", 0.3, which, multipass=False)
    reference = cv2.FaceDetectorYN.create(str(path), "", (320, 320), 0.3, 0.3, 5000)
    found = 0
    for photo in photos():
        h, w = photo.shape[:2]
        reference.setInputSize((w, h))
        _, rows = reference.detect(cv2.cvtColor(photo, cv2.COLOR_RGB2BGR))
        rows = [] if rows is None else rows
        expected = sorted((round(float(r[0])), round(float(r[1])), round(float(r[14]), 3)) for r in rows)
        assert sorted((f.x, f.y, round(f.score, 3)) for f in ours.detect(photo)) == expected
        found += len(expected)
    assert found >= 4


def test_runtime_is_part_of_the_settings_and_the_report(centerface, tmp_path, monkeypatch):
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "a.png").write_bytes(encode(rgb("astronaut")))
    cache = str(tmp_path / "c.db")
    runs = {}
    for which in ("opencv", "onnxruntime", "onnxruntime"):
        monkeypatch.setenv(runtime.ENV_VAR, which)
        runs.setdefault(which, []).append(bipacheck.scan([str(folder)], cache=cache))
    (first,), (second, third) = runs["opencv"], runs["onnxruntime"]
    assert first["detector"]["runtime"] == "opencv" and second["detector"]["runtime"] == "onnxruntime"
    # another runtime is another detector setting: the cache is not reused across them
    assert (second["cache"]["scanned"], third["cache"]["hits"]) == (1, 1)
    assert first["files"][0]["faces"] == second["files"][0]["faces"]


def test_default_is_onnxruntime_when_installed(monkeypatch):
    monkeypatch.delenv(runtime.ENV_VAR, raising=False)
    assert runtime.default_runtime() == "onnxruntime"
    monkeypatch.setattr(runtime, "onnxruntime_available", lambda: False)
    assert runtime.default_runtime() == "opencv"


def test_unknown_runtime_is_a_usage_error(centerface, tmp_path, monkeypatch):
    monkeypatch.setenv(runtime.ENV_VAR, "tensorflow")
    with pytest.raises(ConfigError, match="BIPACHECK_RUNTIME"):
        create_detector("centerface")
    (tmp_path / "a.png").write_bytes(encode(rgb("astronaut")))
    result = CliRunner().invoke(cli, ["scan", str(tmp_path / "a.png")])
    assert result.exit_code == 2
    assert "BIPACHECK_RUNTIME='tensorflow'" in result.output


def test_onnxruntime_asked_for_but_missing_names_the_extra(centerface, monkeypatch):
    monkeypatch.setattr(runtime, "onnxruntime_available", lambda: False)
    with pytest.raises(ConfigError, match=r"pip install onnxruntime onnx"):
        create_detector("centerface", runtime="onnxruntime")


def test_worker_threads_apply_to_networks_built_afterwards(centerface, monkeypatch):
    monkeypatch.setattr(runtime, "_threads", None)
    runtime.set_threads(1)
    try:
        net = create_detector("centerface", runtime="onnxruntime").network.net
        assert net._session.get_session_options().intra_op_num_threads == 1
    finally:
        runtime.set_threads(None)
        cv2.setNumThreads(-1)


def test_scan_json_names_the_runtime(centerface, tmp_path, monkeypatch):
    monkeypatch.setenv(runtime.ENV_VAR, "opencv")
    (tmp_path / "a.png").write_bytes(encode(rgb("astronaut")))
    result = CliRunner().invoke(cli, ["scan", str(tmp_path / "a.png"), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["detector"]["runtime"] == "opencv"


def test_a_broken_onnxruntime_install_is_a_clean_error(centerface, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import raises ImportError
    monkeypatch.setattr(runtime, "onnxruntime_available", lambda: True)
    with pytest.raises(ConfigError, match="cannot be loaded.*BIPACHECK_RUNTIME=opencv"):
        create_detector("centerface", runtime="onnxruntime")
