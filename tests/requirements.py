"""What a test needs from its environment. Missing, it is a skip on a developer's machine and a
failure in CI (CI=true), where a missing tool or model must never make tests vanish."""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

import pytest

def in_ci() -> bool:
    """Any non-empty CI counts (CI=1, CI=true, a CI system's own value): never a silent skip there."""
    return bool(os.environ.get("CI", "").strip())


def unavailable(reason: str):
    if in_ci():
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


@contextmanager
def enforced_permissions() -> Iterator[None]:
    """Run the block where mode bits really bind. Root reads and lists whatever chmod 000 says
    (CAP_DAC_OVERRIDE), and CI runs as root, so there the block runs with the effective user and
    group of `nobody`; the files it touches must lie in folders `nobody` can traverse."""
    if os.geteuid() != 0:
        yield
        return
    import pwd

    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        unavailable("running as root and there is no 'nobody' user to run the permission checks as")
    os.setegid(nobody.pw_gid)
    os.seteuid(nobody.pw_uid)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)
