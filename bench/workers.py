"""Do workers add up? Audit throughput on 12 MP photos by processes x threads, interleaved.

Builds the same 12 MP corpus as bench/throughput.py (upscaled ../shared/eval/wider_s400 photos in
a temporary folder, every fourth EXIF-rotated; nothing lands in the repository) and audits it, each
run in a fresh process (imports and model load included, as a user sees them), in these layouts:

* `1x1`: one process, the network on one thread (`runtime.set_threads(1)`): the unit of work;
* `1x2`: one process, the runtime's own thread count (every core): what `--workers 1` does;
* `2x1`: `--workers 2` with the worker pool forced (`engine.INLINE_AHEAD_PER_WORKER = 0`);
* `2`: `--workers 2` as shipped (small jobs may stay in the parent process).

Every repetition runs every layout once, in turn, so load drift on a shared machine hits them
alike; figures are photos/s and ratios to `1x1` of the same repetition. `--code DIR` runs
`--code-layouts` (default `2`) again with the bipacheck package in DIR (e.g. `git archive` of an
earlier commit).

    python bench/workers.py [--images 24] [--reps 2] [--layouts 1x1,1x2,2x1,2] [--code DIR] [--megapixels 12]

Exits 0 with a message when ../shared is absent.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
import throughput  # noqa: E402
from throughput import WIDER, build_corpus  # noqa: E402

LAYOUTS = {"1x1": (1, 1, False), "1x2": (1, None, False), "2x1": (2, 1, True), "2": (2, None, False)}


def child(raw: str) -> None:
    args = json.loads(raw)
    import bipacheck
    from bipacheck import engine
    from bipacheck.detect import runtime

    workers, threads, force_pool = LAYOUTS[args["layout"]]
    if threads is not None:
        runtime.set_threads(threads)
    if force_pool:
        engine.INLINE_AHEAD_PER_WORKER = 0
    start = time.perf_counter()
    report = bipacheck.audit([args["corpus"]], workers=workers, no_cache=True, detector=args["detector"],
                             min_face=args["min_face"], config=False, quiet=True)
    print(json.dumps({"seconds": time.perf_counter() - start, "images": report.summary["files_listed"],
                      "faces": report.summary["faces"]}))


def run(layout: str, corpus: Path, code: Path, detector: str, min_face: int) -> dict:
    args = json.dumps({"layout": layout, "corpus": str(corpus), "detector": detector, "min_face": min_face})
    proc = subprocess.run([sys.executable, __file__, "--child", args], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(code)})
    if proc.returncode != 0:
        raise SystemExit(f"layout {layout} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--images", type=int, default=24)
    p.add_argument("--reps", type=int, default=2)
    p.add_argument("--layouts", default="1x1,1x2,2x1,2")
    p.add_argument("--detector", default="centerface")
    p.add_argument("--min-face", type=int, default=24)
    p.add_argument("--megapixels", type=float, default=12, help="size of the corpus photos (default 12 MP)")
    p.add_argument("--code", type=Path, default=None, help="also run layouts with the package in this folder")
    p.add_argument("--code-layouts", default="2", help="layouts to run with --code (default: 2, as shipped)")
    p.add_argument("--child", help=argparse.SUPPRESS)
    opts = p.parse_args()
    if opts.child:
        child(opts.child)
        return
    if not WIDER.is_dir():
        print(f"skipped: {WIDER} not found (the benchmark needs ../shared/eval/wider_s400)")
        return
    layouts = [x for x in opts.layouts.split(",") if x]
    codes = [("this", REPO, layouts)]
    if opts.code:
        codes.append(("code", opts.code, [x for x in opts.code_layouts.split(",") if x]))
    workdir = Path(tempfile.mkdtemp(prefix="bipacheck-workers-"))
    try:
        corpus = workdir / "photos"
        corpus.mkdir()
        throughput.MEGAPIXELS = opts.megapixels * 1e6
        build_corpus(corpus, opts.images)
        print(f"{opts.images} photos of ~{opts.megapixels:g} MP, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}",
              flush=True)
        rows: dict[tuple[str, str], list[float]] = {}
        for rep in range(opts.reps):
            for tag, code, code_layouts in codes:
                for layout in code_layouts:
                    r = run(layout, corpus, code, opts.detector, opts.min_face)
                    rows.setdefault((tag, layout), []).append(r["images"] / r["seconds"])
                    print(f"rep {rep + 1} {tag:5s} {layout:4s}: {r['images'] / r['seconds']:.3f} photos/s "
                          f"({r['seconds']:.1f} s, {r['faces']} faces), load {os.getloadavg()[0]:.1f}", flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print("\nlayout            photos/s per rep          x 1x1 of this tree (same rep)")
    for (tag, layout), values in rows.items():
        unit = rows.get(("this", "1x1"))
        ratios = "  ".join(f"{v / u:.2f}" for v, u in zip(values, unit)) if unit else "-"
        print(f"{tag:5s} {layout:5s}  {'  '.join(f'{v:.3f}' for v in values):24s}  {ratios}")


if __name__ == "__main__":
    main()
