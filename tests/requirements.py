"""What a test needs from its environment. Missing, it is a skip on a developer's machine and a
failure in CI (CI=true), where a missing tool or model must never make tests vanish."""

from __future__ import annotations

import importlib
import os
from types import ModuleType

import pytest

IN_CI = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def unavailable(reason: str):
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: a missing tool or model is a failure, not a skip)", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


def require_module(name: str) -> ModuleType:
    """The module, imported; like pytest.importorskip, but a failure in CI."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        unavailable(f"{name} is not installed ({exc}); pip install -e '.[test]'")


def require_tool(name: str, package: str) -> str:
    """The path of command-line tool `name`; like require_module, a failure in CI."""
    import shutil

    found = shutil.which(name)
    if found is None:
        unavailable(f"{name} is not installed (apt-get install {package})")
    return found
