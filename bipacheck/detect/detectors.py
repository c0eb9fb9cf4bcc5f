"""The detectors, by name: the registry the CLI's --detector, the options, `--help`, the hook's
weight check and the audit's default threshold all read. Adding a detector is its own module
(a class and a `build(threshold, runtime)` function) plus one entry here. Never falls back
silently: missing weights are a ConfigError naming the fix."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from ..errors import ConfigError
from .base import Detector
from .passes import MultiPass
from .runtime import default_runtime


@dataclass(frozen=True)
class DetectorSpec:
    name: str
    module: str  # bipacheck.detect.<module>: its build(threshold, runtime) makes the network
    threshold: float  # default score threshold, chosen for recall first (why: beside each entry)
    weights: tuple[str, ...]  # model files it needs (detect/weights.py)
    help: str


# Thresholds are chosen for recall first at precision >= 0.85, with a margin rather than tuned to
# one set (bench/detection.py, README).
DETECTORS: dict[str, DetectorSpec] = {s.name: s for s in [
    # CenterFace 0.3: recall .876 / precision .889 on faces >= 32 px of WIDER hard (best at P>=.85
    # was .882 at .258, too close to the edge to carry over)
    DetectorSpec("centerface", "centerface", 0.3, ("centerface",),
                 "CenterFace (best recall measured here)"),
    # YuNet 0.7, not its sweet spot for recall (.789 / .935): at 0.6 it raised 0.26 false alarms per
    # face-free photo (star fields, gravel, text), at 0.7 0.08
    DetectorSpec("yunet", "yunet", 0.7, ("yunet",), "YuNet (about 5x faster than CenterFace, lower recall)"),
    # cascade: CenterFace scores what YuNet proposes (detect/cascade.py); precision is higher than
    # CenterFace's own at the same score, so 0.25 gives recall .870 at precision .934 (0.2: .877 / .902,
    # too close to the edge; 0.3: .861 / .953)
    DetectorSpec("cascade", "cascade", 0.25, ("yunet", "centerface"),
                 "YuNet proposes, CenterFace decides: faster, a little less recall"),
]}
DEFAULT_DETECTOR = "centerface"
NAMES = tuple(DETECTORS)


def spec(name: str) -> DetectorSpec:
    try:
        return DETECTORS[name]
    except KeyError:
        raise ConfigError(f"unknown detector {name!r}; choose one of {', '.join(DETECTORS)}") from None


def default_threshold(name: str) -> float:
    return spec(name).threshold


def create_detector(name: str = DEFAULT_DETECTOR, threshold: float | None = None,
                    runtime: str | None = None, multipass: bool = True) -> Detector:
    """runtime: where the network runs (detect/runtime.py); default BIPACHECK_RUNTIME or the fastest installed.
    multipass: run a network detector as a tiled scale pyramid with rotated passes (detect/passes.py);
    False gives the bare network at one scale (benchmarks compare the two)."""
    chosen = spec(name)
    threshold = chosen.threshold if threshold is None else threshold
    if not 0.0 < threshold < 1.0:
        raise ConfigError(f"threshold must be between 0 and 1, got {threshold}")
    # a plug-in point: the registry names each detector's module, which is loaded only when used
    network = importlib.import_module(f"{__package__}.{chosen.module}").build(threshold, runtime or default_runtime())
    return MultiPass(network) if multipass else network
