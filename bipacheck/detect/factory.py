"""Build a detector by name. Never falls back silently: missing weights are a ConfigError."""

from __future__ import annotations

from ..errors import ConfigError
from .base import Detector

DEFAULT_DETECTOR = "centerface"
# Score thresholds chosen for recall first at precision >= 0.85, with a margin rather than tuned to
# one set (bench/detection.py, README): CenterFace 0.3 gives recall .876 / precision .889 on faces
# >= 32 px of WIDER hard (best at P>=.85 was .882 at .258, too close to the edge to carry over).
# YuNet 0.7 (not its sweet spot for recall, .789 / .935): at 0.6 it raised 0.26 false alarms per
# face-free photo (star fields, gravel, text), at 0.7 0.08.
# cascade (CenterFace scores what YuNet proposes, detect/cascade.py): precision is higher than
# CenterFace's own at the same score (crops, and only YuNet's proposals), so 0.25 gives recall .870 at
# precision .934, a margin above .90 (0.2: .877 / .902, too close to the edge; 0.3: .861 / .953).
DEFAULT_THRESHOLDS = {"centerface": 0.3, "yunet": 0.7, "cascade": 0.25, "mtcnn": 0.6}
DETECTORS = tuple(DEFAULT_THRESHOLDS)
# the weights each detector needs (detect/registry.py); mtcnn's ship with the package
WEIGHTS = {"centerface": ("centerface",), "yunet": ("yunet",), "cascade": ("yunet", "centerface"), "mtcnn": ()}


def create_detector(name: str = DEFAULT_DETECTOR, threshold: float | None = None,
                    runtime: str | None = None, multipass: bool = True) -> Detector:
    """runtime: where the network runs (detect/runtime.py); default BIPACHECK_RUNTIME or the fastest installed.
    multipass: run a network detector as a tiled scale pyramid with rotated passes (detect/passes.py);
    False gives the bare network at one scale (benchmarks compare the two)."""
    if name not in DEFAULT_THRESHOLDS:
        raise ConfigError(f"unknown detector {name!r}; choose one of {', '.join(DETECTORS)}")
    if threshold is None:
        threshold = DEFAULT_THRESHOLDS[name]
    if not 0.0 < threshold < 1.0:
        raise ConfigError(f"threshold must be between 0 and 1, got {threshold}")
    if name == "mtcnn":
        from .mtcnn import MTCNN

        return MTCNN(threshold=threshold)
    from .registry import resolve
    from .runtime import default_runtime

    from .centerface import CenterFace
    from .yunet import YuNet

    runtime = runtime or default_runtime()
    networks = {"centerface": CenterFace, "yunet": YuNet}

    def load(model: str, model_threshold: float):
        path, sha = resolve(model)
        return networks[model](str(path), sha, threshold=model_threshold, runtime=runtime)

    if name == "cascade":
        from .cascade import PROPOSAL_THRESHOLD, Cascade

        network = Cascade(load("yunet", PROPOSAL_THRESHOLD), load("centerface", threshold))
    else:
        network = load(name, threshold)
    if not multipass:
        return network
    from .passes import MultiPass

    return MultiPass(network)
