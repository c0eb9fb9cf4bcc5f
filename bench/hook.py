"""How long the pre-commit hook makes a developer wait: `bipacheck check` as pre-commit runs it.

Builds JPEGs of 2 MP and 12 MP by upscaling ../shared/eval/wider_s400 photos (in a temporary git
repository; nothing is copied into this one), then times `bipacheck check FILE...` in a fresh
process for 1 and 10 photos:

* cold, 1 worker: everything in the hook's own process (--workers 1), the baseline;
* cold, as shipped: default workers (a commit of a few photos stays in the hook's process, where
  ONNX Runtime's threads use every core; many photos go to a worker pool);
* warm: the same files again with a scan cache configured (`cache = ...` in the config): what a
  re-run after fixing the ledger costs (consent is re-evaluated, nothing is re-scanned).

Times include interpreter start, imports and the model load, as a developer sees them; ratios
are to the 1-worker run of the same files measured in this run.

    python bench/hook.py [--sizes 2 12] [--counts 1 10] [--detector centerface]

Exits 0 with a message when ../shared is absent.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WIDER = REPO.parent / "shared" / "eval" / "wider_s400" / "images"


def build_photos(folder: Path, megapixels: float, count: int) -> list[str]:
    from PIL import Image

    sources = sorted(WIDER.glob("*.jpg"))[::37][:count]
    names = []
    for i, src in enumerate(sources):
        with Image.open(src) as im:
            im = im.convert("RGB")
            scale = (megapixels * 1e6 / (im.width * im.height)) ** 0.5
            big = im.resize((round(im.width * scale), round(im.height * scale)), Image.Resampling.BICUBIC)
        name = f"{megapixels:g}mp_{i:02d}.jpg"
        big.save(folder / name, "JPEG", quality=90)
        names.append(name)
    return names


def timed_check(repo: Path, files: list[str], *extra: str) -> float:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "bipacheck.cli", "check", "--quiet", *extra, *files], cwd=repo,
                          capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1, 3):
        raise SystemExit(f"check failed ({proc.returncode}): {proc.stderr or proc.stdout}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[2, 12], help="megapixels per photo")
    parser.add_argument("--counts", type=int, nargs="+", default=[1, 10], help="photos per commit")
    parser.add_argument("--detector", default="centerface")
    args = parser.parse_args()
    if not WIDER.is_dir():
        print(f"skipped: {WIDER} not found (the benchmark needs ../shared/eval)")
        return 0
    from bipacheck.detect.runtime import default_runtime
    from bipacheck.ledger import Ledger

    tmp = Path(tempfile.mkdtemp(prefix="bipacheck-hook-"))
    try:
        repo = tmp / "site"
        repo.mkdir()
        subprocess.run(["git", "init", "-q", str(repo)], check=True)
        Ledger.create(repo / "consent.db").close()
        config = f'[tool.bipacheck]\nledger = "consent.db"\ndetector = "{args.detector}"\n'
        photos = {size: build_photos(repo, size, max(args.counts)) for size in args.sizes}
        print(f"bipacheck check, {args.detector} on {default_runtime()}, {os.cpu_count()} cores; seconds per "
              "hook run (ratio to 1 worker)")
        print(f"{'photos':>7} {'MP':>4} {'cold, 1 worker':>15} {'cold, as shipped':>17} {'warm (cached)':>17}")
        for size in args.sizes:
            for count in args.counts:
                files = photos[size][:count]
                (repo / "pyproject.toml").write_text(config)
                timed_check(repo, files[:1], "--workers", "1")  # page cache and model file warm for everyone
                single = timed_check(repo, files, "--workers", "1")
                pooled = timed_check(repo, files)
                (repo / "pyproject.toml").write_text(config + 'cache = "scan-cache.db"\n')
                (repo / "scan-cache.db").unlink(missing_ok=True)
                timed_check(repo, files)  # fills the cache
                warm = timed_check(repo, files)
                print(f"{count:>7} {size:>4g} {single:>15.1f} {pooled:>8.1f} ({pooled / single:.2f}x) "
                      f"{warm:>8.1f} ({warm / single:.2f}x)", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
