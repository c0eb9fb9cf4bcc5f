"""A scan on ONNX Runtime sends and stores no telemetry: nothing appears under the user's cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.images import encode, rgb
from tests.requirements import require_module


def test_a_scan_on_onnxruntime_writes_nothing_in_the_home_folder(tmp_path, model_dir):
    require_module("onnxruntime")
    home = tmp_path / "home"
    home.mkdir()
    (tmp_path / "astronaut.jpg").write_bytes(encode(rgb("astronaut"), "JPEG"))
    env = {**os.environ, "HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache"),
           "BIPACHECK_RUNTIME": "onnxruntime", "BIPACHECK_MODEL_DIR": str(model_dir)}
    env.pop("ORT_DISABLE_TELEMETRY", None)
    done = subprocess.run([sys.executable, "-m", "bipacheck.cli", "scan", "--format", "json",
                           str(tmp_path / "astronaut.jpg")], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["detector"]["runtime"] == "onnxruntime" and doc["summary"]["faces"] == 1
    assert [p for p in home.rglob("*")] == []


def test_the_switch_leaves_the_host_environment_as_it_was(model_dir, monkeypatch):
    require_module("onnxruntime")
    from bipacheck.detect.detectors import create_detector

    monkeypatch.delenv("ORT_DISABLE_TELEMETRY", raising=False)
    detector = create_detector("centerface", runtime="onnxruntime")
    assert detector.runtime == "onnxruntime" and "ORT_DISABLE_TELEMETRY" not in os.environ
