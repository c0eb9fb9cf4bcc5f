"""Reproduce the bundled detector weights from their upstream files, and check both SHA-256s.

The files in bipacheck/detect/models/ are the upstream networks with one change, made here once so
that no run needs the `onnx` package: the input's batch, height and width and every output
dimension are made symbolic (upstream CenterFace declares 10x3x32x32, YuNet 1x3x640x640; OpenCV
ignores declared sizes, ONNX Runtime enforces them), and weights are no longer listed as graph
inputs (so ONNX Runtime folds them as constants). Nodes and weights are byte for byte upstream's.

    pip install onnx
    python bench/prepare_models.py [--upstream ../shared/models] [--write]

Without --write it only checks that preparing the upstream files gives the pinned bundled files.
Skips (exit 0) when the upstream folder or onnx is missing.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

from bipacheck.detect import weights

UPSTREAM = {  # bundled file: upstream SHA-256 (PROVENANCE.md names the upstream files)
    "centerface.onnx": "09189deaaf8646c5c51a68447e3c744ea1e211798155d4728c20507b9f5aefbc",
    "face_detection_yunet_2023mar.onnx": "8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4",
}


def prepared(upstream_path: Path) -> bytes:
    import onnx

    model = onnx.load(str(upstream_path))
    names = {w.name for w in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in names]
    del model.graph.input[:]
    model.graph.input.extend(inputs)
    for dim, name in zip(model.graph.input[0].type.tensor_type.shape.dim, ("batch", None, "height", "width")):
        if name:
            dim.dim_param = name  # clears dim_value (a oneof)
    for output in model.graph.output:
        for index, dim in enumerate(output.type.tensor_type.shape.dim):
            dim.dim_param = f"{output.name}_{index}"
    return model.SerializeToString()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--upstream", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "models")
    p.add_argument("--write", action="store_true", help="write the prepared files into the package")
    args = p.parse_args()
    try:
        import onnx  # noqa: F401
    except ImportError:
        print("skipped: the onnx package is not installed")
        return 0
    pinned = {f.filename: f.sha256 for spec in weights.MODELS.values() for f in spec.files if f.bundled}
    failed = False
    for name, upstream_sha in UPSTREAM.items():
        source = args.upstream / name
        if not source.exists():
            print(f"skipped {name}: no upstream file at {source}")
            continue
        got = hashlib.sha256(source.read_bytes()).hexdigest()
        if got != upstream_sha:
            print(f"{name}: upstream file hashes {got}, expected {upstream_sha}")
            failed = True
            continue
        data = prepared(source)
        sha = hashlib.sha256(data).hexdigest()
        if args.write:
            (weights.BUNDLED / name).write_bytes(data)
            print(f"{name}: wrote {len(data):,} bytes, SHA-256 {sha} (pin it in bipacheck/detect/weights.py)")
        else:
            ok = sha == pinned[name]
            failed |= not ok
            print(f"{name}: prepared {sha} {'matches' if ok else 'DOES NOT match'} the pinned {pinned[name]}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
