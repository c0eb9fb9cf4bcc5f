"""Where a detector's ONNX network runs: OpenCV's DNN module, or ONNX Runtime when installed.

Same weights, same outputs (to about 1e-5), so the same faces; ONNX Runtime is faster on this
project's machines (README.md, Throughput: a full audit about 1.2-1.5x, with less memory), and
it is asked only for the outputs that are read, so landmark heads are never even fetched.
The runtime is part of a detector's settings: it keys the scan cache and is named in reports.

BIPACHECK_RUNTIME=opencv|onnxruntime picks one; by default ONNX Runtime is used when the `fast`
extra (onnxruntime + onnx) is installed.
"""

from __future__ import annotations

import importlib.util
import os

import cv2
import numpy as np

from ..errors import ConfigError

RUNTIMES = ("opencv", "onnxruntime")
ENV_VAR = "BIPACHECK_RUNTIME"

# Threads per network; None lets each runtime use every core. Worker processes set 1: there is
# already one worker per core and nested thread pools only contend.
_threads: int | None = None


def onnxruntime_available() -> bool:
    return importlib.util.find_spec("onnxruntime") is not None


def default_runtime() -> str:
    chosen = os.environ.get(ENV_VAR, "").strip().lower()
    if chosen:
        if chosen not in RUNTIMES:
            raise ConfigError(f"{ENV_VAR}={chosen!r}: choose one of {', '.join(RUNTIMES)}")
        return chosen
    return "onnxruntime" if onnxruntime_available() else "opencv"


def set_threads(count: int | None) -> None:
    """Threads for networks built from now on in this process (and OpenCV's own pool)."""
    global _threads
    _threads = count
    if count is not None:
        cv2.setNumThreads(count)


class OpenCVNetwork:
    def __init__(self, model_path: str, outputs: list[str]):
        self._net = cv2.dnn.readNetFromONNX(model_path)
        # OpenCV 5 must be asked for every output of the graph; the unread ones are dropped here
        self._all = list(self._net.getUnconnectedOutLayersNames())
        self._wanted = [self._all.index(name) for name in outputs]

    def run(self, blob: np.ndarray) -> list[np.ndarray]:
        self._net.setInput(blob)
        results = self._net.forward(self._all)
        return [results[i] for i in self._wanted]


class OnnxRuntimeNetwork:
    def __init__(self, model_path: str, outputs: list[str]):
        if not onnxruntime_available():
            raise ConfigError("runtime onnxruntime needs the fast extra: pip install onnxruntime onnx "
                              f"(or set {ENV_VAR}=opencv)")
        try:
            onnxruntime = _import_without_telemetry()
        except ImportError as exc:  # installed but broken (a missing system library, a bad wheel)
            raise ConfigError(f"onnxruntime is installed but cannot be loaded ({exc}); "
                              f"set {ENV_VAR}=opencv to use OpenCV instead") from None

        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3  # exporter leftovers (unused initializers) are not the user's concern
        # Memory patterns are planned per input shape; photo sizes vary, so planning them doubled
        # peak memory (5.2 -> 2.6 GB at 12 MP) and made each new size up to 3x slower (measured).
        options.enable_mem_pattern = False
        if _threads is not None:
            options.intra_op_num_threads = _threads
            options.inter_op_num_threads = 1
        # the files leave batch, height and width open (bench/prepare_models.py), as ONNX Runtime needs
        self._session = onnxruntime.InferenceSession(model_path, options,
                                                     providers=["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0].name
        self._outputs = outputs

    def run(self, blob: np.ndarray) -> list[np.ndarray]:
        return self._session.run(self._outputs, {self._input: blob})


def _import_without_telemetry():
    """onnxruntime with its telemetry off. On import it creates a device id and an event store under
    ~/.cache/Microsoft/DeveloperTools unless ORT_DISABLE_TELEMETRY is set then (its own switch, read
    once); when the host program imported it already, its API switch stops the events at least.
    The host's environment is given back as it was."""
    previous = os.environ.get("ORT_DISABLE_TELEMETRY")
    os.environ["ORT_DISABLE_TELEMETRY"] = "1"  # a privacy tool sends nothing, whatever was set before
    try:
        import onnxruntime
    finally:
        if previous is None:
            del os.environ["ORT_DISABLE_TELEMETRY"]
        else:
            os.environ["ORT_DISABLE_TELEMETRY"] = previous
    onnxruntime.disable_telemetry_events()
    return onnxruntime


def load_network(model_path: str, outputs: list[str], runtime: str):
    if runtime == "opencv":
        return OpenCVNetwork(model_path, outputs)
    if runtime == "onnxruntime":
        return OnnxRuntimeNetwork(model_path, outputs)
    raise ConfigError(f"unknown runtime {runtime!r}; choose one of {', '.join(RUNTIMES)}")


class NetworkDetector:
    """What an ONNX detector shares: its network on a runtime, and the settings that key results.
    Subclasses give `name`, `outputs` (the heads they read), `min_reliable_face`, `confident_score`
    and `turned_view_best` (detect/passes.py) and `detect`."""

    name: str
    outputs: list[str]
    min_reliable_face: int
    confident_score: float
    turned_view_best: float

    def __init__(self, model_path: str, model_sha256: str, threshold: float, runtime: str,
                 nms_iou: float = 0.3):
        self.net = load_network(model_path, self.outputs, runtime)
        self.runtime = runtime
        self.model_sha256 = model_sha256
        self.threshold = threshold
        self.nms_iou = nms_iou

    def settings(self) -> dict:
        return {"detector": self.name, "model_sha256": self.model_sha256, "runtime": self.runtime,
                "threshold": self.threshold, "nms_iou": self.nms_iou}
