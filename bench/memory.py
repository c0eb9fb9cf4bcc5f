"""Peak memory of scanning huge and hostile images, each in a fresh process under an address-space limit.

Builds in a temporary folder (nothing lands in the repository): a blank 14000x14000 PNG (196 MP,
a few hundred KB), the same as a 16-bit greyscale PNG and as a palette PNG, a 100 MP JPEG (the
scikit-image astronaut upscaled: one face of about 2,300 px), and a 1,000-frame GIF. Each is scanned
by `scan_bytes` with the default detector and settings in its own process started under
`prlimit --as=LIMIT`, and its peak RSS (getrusage) is printed next to the result (faces, or the
skip reason). Then one audit of the whole folder plus a small photo with a face, under the same
limit, must finish and report that face.

    python bench/memory.py [--limit-gb 6] [--detector centerface] [--single-pass]

Needs nothing from ../shared: the detector weights ship with the package.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def build_inputs(folder: Path) -> list[Path]:
    import numpy as np
    from PIL import Image
    from skimage import data as skdata

    made = []
    side = 14000
    Image.new("RGB", (side, side), (255, 255, 255)).save(folder / "blank-196mp.png", optimize=False)
    made.append(folder / "blank-196mp.png")
    Image.fromarray(np.zeros((side, side), np.uint16)).save(folder / "blank-196mp-16bit.png")
    made.append(folder / "blank-196mp-16bit.png")
    Image.new("P", (side, side), 0).save(folder / "blank-196mp-palette.png")
    made.append(folder / "blank-196mp-palette.png")
    Image.fromarray(skdata.astronaut()).resize((10000, 10000), Image.Resampling.BICUBIC).save(
        folder / "astronaut-100mp.jpg", quality=85)
    made.append(folder / "astronaut-100mp.jpg")
    rng = np.random.default_rng(0)
    frames = [Image.fromarray(rng.integers(0, 256, (240, 320, 3), dtype=np.uint8)).convert("P") for _ in range(1000)]
    frames[0].save(folder / "frames-1000.gif", save_all=True, append_images=frames[1:], duration=40)
    made.append(folder / "frames-1000.gif")
    return made


def phase_scan(path: str, detector: str, single_pass: bool) -> dict:
    from bipacheck.detect import runtime
    from bipacheck.detect.detectors import create_detector
    from bipacheck.scanning.scan import PhotoScan, scan_bytes

    runtime.set_threads(1)  # as in a worker process
    det = create_detector(detector, multipass=not single_pass)
    start = time.perf_counter()
    result = scan_bytes(Path(path).read_bytes(), path, Path(path).name, det)
    out = {"seconds": time.perf_counter() - start}
    if isinstance(result, PhotoScan):
        out["result"] = f"{len(result.faces)} faces " + str([f.box for f in result.faces][:3])
    else:
        out["result"] = f"skipped {result.reason}: {result.message}"
    return out


def phase_audit(path: str, detector: str, single_pass: bool) -> dict:
    import bipacheck

    report = bipacheck.audit([path], workers=1, detector=detector)
    summary = report.summary
    return {"result": f"{summary['files_listed']} listed, {summary['faces']} faces, "
                      f"{summary['skipped']} skipped"}


def run(limit: int, phase: str, path: Path, opts) -> dict:
    cmd = ["prlimit", f"--as={limit}", sys.executable, __file__, "--phase", phase, "--path", str(path),
           "--detector", opts.detector] + (["--single-pass"] if opts.single_pass else [])
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    if proc.returncode != 0:
        return {"result": f"FAILED rc {proc.returncode}: {proc.stderr.strip()[-300:]}", "rss_mb": float("nan"),
                "seconds": float("nan")}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit-gb", type=float, default=6.0, help="address-space limit per process (prlimit --as)")
    parser.add_argument("--detector", default="centerface")
    parser.add_argument("--single-pass", action="store_true", help="the bare network, untiled (the old default)")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.phase:
        result = {"scan": phase_scan, "audit": phase_audit}[opts.phase](opts.path, opts.detector, opts.single_pass)
        result["rss_mb"] = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                               resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
        print(json.dumps(result))
        return
    sys.path.insert(0, str(REPO))
    from bipacheck.detect import weights
    from bipacheck.errors import ConfigError

    try:
        weights.resolve(opts.detector)
    except ConfigError as exc:
        print(f"skipped: {exc}")
        return
    if shutil.which("prlimit") is None:
        print("skipped: prlimit (util-linux) is needed to bound the measured processes")
        return
    limit = int(opts.limit_gb * 1e9)
    folder = Path(tempfile.mkdtemp(prefix="bipacheck-memory-"))
    try:
        inputs = build_inputs(folder)
        from tests.images import encode, rgb

        (folder / "zz-face.png").write_bytes(encode(rgb("astronaut")))
        print(f"{opts.detector}{' single pass' if opts.single_pass else ''}, each scan in a fresh process under "
              f"prlimit --as={opts.limit_gb:g} GB; load average {os.getloadavg()[0]:.1f}")
        print(f"{'input':28s} {'MB on disk':>10s} {'peak RSS MB':>11s} {'s':>6s}  result")
        for path in inputs:
            r = run(limit, "scan", path, opts)
            print(f"{path.name:28s} {path.stat().st_size / 1e6:10.1f} {r['rss_mb']:11.0f} {r['seconds']:6.1f}  "
                  f"{r['result']}", flush=True)
        r = run(limit, "audit", folder, opts)
        print(f"{'audit of all + a face photo':28s} {'':10s} {r['rss_mb']:11.0f} {'':6s}  {r['result']}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
