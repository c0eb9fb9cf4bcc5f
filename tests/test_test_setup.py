"""The test set-up itself: under CI (any non-empty CI) nothing needed may vanish as a skip."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

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
