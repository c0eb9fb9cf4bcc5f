"""The test set-up itself: under CI=true nothing needed may vanish as a skip, and a corrupt model
download is an error, never "the network is down"."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bipacheck.detect import weights
from bipacheck.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]
NEEDS_MISSING = """
from tests.requirements import require_module

def test_needs_a_missing_tool():
    require_module("bipacheck_no_such_tool")
"""


@pytest.mark.parametrize("ci, outcome", [("true", "1 failed"), ("1", "1 failed"), ("github-actions", "1 failed"),
                                         ("", "1 skipped")])
def test_a_missing_tool_is_a_skip_locally_and_a_failure_in_ci(tmp_path, ci, outcome):
    (tmp_path / "test_needs.py").write_text(NEEDS_MISSING)
    env = {**os.environ, "CI": ci, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir",
                           str(tmp_path), str(tmp_path / "test_needs.py")], env=env, capture_output=True,
                          text=True, cwd=tmp_path)
    assert outcome in done.stdout, done.stdout


def test_weights_that_fail_their_checksum_are_an_error_not_a_download_failure(tmp_path, monkeypatch):
    monkeypatch.setenv("BIPACHECK_MODEL_DIR", str(tmp_path / "models"))
    variant = weights.spec("centerface").files[0]
    forged = tmp_path / variant.filename
    forged.write_bytes(b"not the CenterFace weights")
    with pytest.raises(ConfigError) as caught:
        weights._install(forged, variant)
    assert not isinstance(caught.value, weights.DownloadFailed) and "SHA-256" in str(caught.value)


def test_an_unreachable_source_is_a_download_failure(tmp_path, monkeypatch):
    monkeypatch.setenv("BIPACHECK_MODEL_DIR", str(tmp_path / "models"))
    variant = dataclasses.replace(weights.spec("centerface").files[0], url="http://127.0.0.1:9/centerface.onnx")
    with pytest.raises(weights.DownloadFailed):
        weights._pull_from_url(variant)
