"""Audit throughput on 12-megapixel photos, against the floor of simply decoding them.

Builds a corpus of 12 MP JPEGs in a temporary folder by upscaling ../shared/eval/wider_s400
photos (every fourth stored sideways with an EXIF rotation; nothing is copied into the repo),
then measures in this one run, each phase in a fresh process (so peak memory is its own):

* floor: decode only, at the reduced scale the min-face policy allows
  (load_image(reduce_by=reduction_for(detector, min_face)));
* the full audit with 1 and with 2 workers (bipacheck.audit, no ledger; the 2-worker run fills a
  scan cache);
* the naive pipeline: full-resolution decode + the same detector, on a subset;
* incremental re-audits with the cache: nothing changed, and ~1% of the objects changed;
* where the time goes: decode and detector ms per photo at the product's scale and at the
  scales a larger --min-face would allow;
* peak RSS (resource.getrusage of the process and of its reaped children, i.e. workers).

Throughputs are reported as ratios to the floor; re-audits also as a share of the full audit.
Targets (issue 6): full audit >= 0.5x the floor, unchanged re-audit <= 2% of a full audit.

    python bench/throughput.py [--images 40] [--naive 4] [--min-face 24] [--detector centerface]
    python bench/throughput.py --reaudit-only [--repeat 5] [--baseline DIR]   # what an unchanged re-audit costs

Exits 0 with a message when ../shared is absent.
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
WIDER = REPO.parent / "shared" / "eval" / "wider_s400" / "images"
MEGAPIXELS = 12e6
ROTATE_EVERY = 4  # every fourth photo is stored sideways with EXIF orientation 6


# ----------------------------------------------------------------------------- corpus

def build_corpus(folder: Path, count: int, wider: Path = WIDER) -> list[Path]:
    from PIL import Image

    sources = sorted(wider.glob("*.jpg"))
    step = max(1, len(sources) // count)
    paths = []
    for i, src in enumerate(sources[::step][:count]):
        with Image.open(src) as im:
            im = im.convert("RGB")
            scale = (MEGAPIXELS / (im.width * im.height)) ** 0.5
            big = im.resize((round(im.width * scale), round(im.height * scale)), Image.Resampling.BICUBIC)
        exif = Image.Exif()
        if i % ROTATE_EVERY == ROTATE_EVERY - 1:
            big = big.transpose(Image.Transpose.ROTATE_90)  # stored pixels; orientation 6 turns them upright
            exif[0x0112] = 6
        out = folder / f"{i:03d}.jpg"
        big.save(out, "JPEG", quality=90, exif=exif.tobytes())
        paths.append(out)
    return paths


def touch_content(path: Path) -> None:
    """A real edit: same photo, re-encoded, so the bytes and the change key differ."""
    from PIL import Image

    with Image.open(path) as im:
        exif = im.getexif()
        im.load()
        im.save(path, "JPEG", quality=85, exif=exif.tobytes())


# ----------------------------------------------------------------------------- phases (child processes)

def _peak_rss_mb() -> tuple[float, float]:
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return self_kb / 1024, children_kb / 1024


def phase_floor(files: list[Path], min_face: int, detector: str, **_) -> dict:
    import cv2

    from bipacheck.detect.detectors import create_detector
    from bipacheck.imaging import load_image
    from bipacheck.scanning.scan import reduction_for

    cv2.setNumThreads(1)
    reduce_by = reduction_for(create_detector(detector), min_face)
    start = time.perf_counter()
    for path in files:
        load_image(path.read_bytes(), reduce_by=reduce_by)
    return {"seconds": time.perf_counter() - start, "images": len(files), "reduce_by": reduce_by}


def phase_naive(files: list[Path], detector: str, **_) -> dict:
    from bipacheck.detect import runtime
    from bipacheck.detect.detectors import create_detector
    from bipacheck.imaging import load_image

    runtime.set_threads(1)
    detector = create_detector(detector)
    start = time.perf_counter()
    for path in files:
        image = load_image(path.read_bytes())  # full resolution
        detector.detect(image.frames[0])
    return {"seconds": time.perf_counter() - start, "images": len(files)}


def phase_audit(files: list[Path], corpus: Path, workers: int, cache: str | None, min_face: int, detector: str,
                **_) -> dict:
    import bipacheck

    options = dict(workers=workers, cache=cache, no_cache=cache is None, detector=detector, min_face=min_face,
                   config=False, quiet=True)
    if "min_face" not in (bipacheck.audit.__doc__ or ""):  # a --baseline from before the options contract
        from bipacheck.scanning.scan import ScanSettings

        options = dict(workers=workers, cache=cache, detector=detector, settings=ScanSettings(min_face=min_face))
    start = time.perf_counter()
    report = bipacheck.audit([str(corpus)], **options)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "images": report.summary["files_listed"], "faces": report.summary["faces"],
            "cache": report.run.get("cache"), "runtime": report.run["detector"].get("runtime")}


def phase_breakdown(files: list[Path], min_face: int, detector: str, **_) -> dict:
    """ms per photo for decoding and for the detector, at the product's scale and coarser ones."""
    from bipacheck.detect import runtime
    from bipacheck.detect.detectors import create_detector
    from bipacheck.imaging import load_image
    from bipacheck.scanning.scan import reduction_for

    runtime.set_threads(1)
    detector = create_detector(detector)
    product = reduction_for(detector, min_face)
    rows = []
    for reduce_by in sorted({product, 2.0, 4.0}):  # what --min-face 64 and 128 would allow
        decode = detect = 0.0
        faces = 0
        for path in files:
            data = path.read_bytes()
            t0 = time.perf_counter()
            image = load_image(data, reduce_by=reduce_by)
            t1 = time.perf_counter()
            faces += len(detector.detect(image.frames[0]))
            t2 = time.perf_counter()
            decode, detect = decode + t1 - t0, detect + t2 - t1
        shape = image.frames[0].shape
        rows.append({"reduce_by": reduce_by, "min_face_allowing_it": round(reduce_by * detector.min_reliable_face),
                     "decode_ms": 1000 * decode / len(files), "detect_ms": 1000 * detect / len(files),
                     "frame": f"{shape[1]}x{shape[0]}", "faces": faces})
    return {"rows": rows, "min_reliable_face": detector.min_reliable_face, "product_reduce_by": product}


PHASES = {"floor": phase_floor, "naive": phase_naive, "audit": phase_audit, "breakdown": phase_breakdown}


def run_phase(name: str, corpus: Path, files: list[Path], code: Path = REPO, **options) -> dict:
    """Run one phase in a fresh interpreter, importing bipacheck from `code`, and return its
    measurements (with its peak RSS)."""
    args = {"corpus": str(corpus), "files": [str(f) for f in files], **options}
    proc = subprocess.run([sys.executable, __file__, "--phase", name, "--args", json.dumps(args)],
                          capture_output=True, text=True, env=_env_for(code))
    if proc.returncode != 0:
        raise SystemExit(f"phase {name} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _env_for(code: Path) -> dict:
    """The phase's environment: bipacheck from `code`; a baseline older than the bundled weights
    finds its model files in $BIPACHECK_BASELINE_MODEL_DIR (the product under test never reads them)."""
    env = {**os.environ, "PYTHONPATH": str(code)}
    env.pop("BIPACHECK_MODEL_DIR", None)
    if code != REPO and os.environ.get("BIPACHECK_BASELINE_MODEL_DIR"):
        env["BIPACHECK_MODEL_DIR"] = os.environ["BIPACHECK_BASELINE_MODEL_DIR"]
    return env


def child_main(name: str, raw: str) -> None:
    args = json.loads(raw)
    args["files"] = [Path(f) for f in args["files"]]
    args["corpus"] = Path(args["corpus"])
    result = PHASES[name](**args)
    result["rss_self_mb"], result["rss_children_mb"] = _peak_rss_mb()
    print(json.dumps(result))


# ----------------------------------------------------------------------------- report

def per_second(m: dict) -> float:
    return m["images"] / m["seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=40, help="photos in the corpus")
    parser.add_argument("--naive", type=int, default=4, help="photos for the (slow) naive pipeline and breakdown")
    parser.add_argument("--min-face", type=int, default=None, help="default: bipacheck's default")
    from bipacheck.detect.detectors import DEFAULT_DETECTOR  # here: a baseline phase imports an older package

    parser.add_argument("--detector", default=DEFAULT_DETECTOR, help="detector to audit with (default: the "
                        f"product's, {DEFAULT_DETECTOR}); "
                        "BIPACHECK_RUNTIME picks the runtime as in the product")
    parser.add_argument("--keep", action="store_true", help="keep the corpus folder")
    parser.add_argument("--wider", type=Path, default=WIDER, help="wider_s400 images (default ../shared/eval/...)")
    parser.add_argument("--baseline", type=Path, default=None,
                        help="also audit with the bipacheck package found in this folder (e.g. `git archive` of an "
                        "earlier commit), in the same run, for before/after ratios; a baseline that downloads "
                        "its weights finds them in $BIPACHECK_BASELINE_MODEL_DIR")
    parser.add_argument("--baseline-detector", default=None,
                        help="detector the baseline audits with (default: --detector)")
    parser.add_argument("--reaudit-only", action="store_true",
                        help="only a full audit filling the cache and --repeat unchanged re-audits (and the same with "
                        "--baseline): what verifying the cache costs")
    parser.add_argument("--repeat", type=int, default=5, help="unchanged re-audits with --reaudit-only (median)")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--args", help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.phase:
        child_main(opts.phase, opts.args)
        return
    if not opts.wider.is_dir():
        print(f"skipped: {opts.wider} not found (the benchmark needs ../shared/eval/wider_s400)")
        return
    sys.path.insert(0, str(REPO))
    from bipacheck.detect.runtime import default_runtime
    from bipacheck.scanning.engine import default_workers
    from bipacheck.scanning.scan import DEFAULT_MIN_FACE

    min_face = opts.min_face or DEFAULT_MIN_FACE
    workdir = Path(tempfile.mkdtemp(prefix="bipacheck-throughput-"))
    corpus = workdir / "photos"
    corpus.mkdir()
    try:
        t = time.perf_counter()
        files = build_corpus(corpus, opts.images, opts.wider)
        size_mb = sum(f.stat().st_size for f in files) / 1e6
        print(f"corpus: {len(files)} JPEGs of ~12 MP ({size_mb:.0f} MB, every {ROTATE_EVERY}th EXIF-rotated), "
              f"built in {time.perf_counter() - t:.0f} s; {default_workers()} cores; min_face {min_face}; "
              f"detector {opts.detector} on {default_runtime()}",
              flush=True)
        cache = str(workdir / "scan-cache.db")
        if opts.reaudit_only:
            reaudits(corpus, files, workdir, min_face, opts)
            return
        subset = files[: opts.naive]
        m = {}
        m["floor"] = run_phase("floor", corpus, files, min_face=min_face, detector=opts.detector)
        print(f"floor done ({m['floor']['seconds']:.1f} s)", flush=True)
        m["breakdown"] = run_phase("breakdown", corpus, subset, min_face=min_face, detector=opts.detector)
        m["naive"] = run_phase("naive", corpus, subset, detector=opts.detector)
        print(f"naive done ({m['naive']['seconds']:.1f} s)", flush=True)
        m["audit 1 worker"] = run_phase("audit", corpus, files, workers=1, cache=None, min_face=min_face,
                                     detector=opts.detector)
        print(f"audit 1 worker done ({m['audit 1 worker']['seconds']:.1f} s)", flush=True)
        m["audit 2 workers"] = run_phase("audit", corpus, files, workers=2, cache=cache, min_face=min_face,
                                     detector=opts.detector)
        print(f"audit 2 workers done ({m['audit 2 workers']['seconds']:.1f} s)", flush=True)
        if opts.baseline:
            for workers in (1, 2):
                label = f"baseline audit, {workers} worker{'s' if workers > 1 else ''}"
                m[label] = run_phase("audit", corpus, files, code=opts.baseline, workers=workers, cache=None,
                                     min_face=min_face, detector=opts.baseline_detector or opts.detector)
                print(f"{label} done ({m[label]['seconds']:.1f} s)", flush=True)
        m["re-audit, unchanged"] = run_phase("audit", corpus, files, workers=2, cache=cache, min_face=min_face,
                                     detector=opts.detector)
        changed = max(1, round(len(files) / 100))
        for path in files[:: max(1, len(files) // changed)][:changed]:
            touch_content(path)
        m[f"re-audit, {changed} changed"] = run_phase("audit", corpus, files, workers=2, cache=cache,
                                                       min_face=min_face, detector=opts.detector)
    finally:
        if not opts.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    floor = per_second(m["floor"])
    full = m["audit 2 workers"]["seconds"]
    print(f"\nfloor: {floor:.2f} photos/s on one core (decode at reduce_by {m['floor']['reduce_by']:g})")
    print(f"{'phase':28s} {'photos/s':>9s} {'x floor':>8s} {'x full audit time':>18s} "
          f"{'peak RSS MB self/children':>27s}")
    for name, r in m.items():
        if name == "breakdown":
            continue
        share = f"{r['seconds'] / full:.1%}" if name.startswith("re-audit") else ""
        print(f"{name:28s} {per_second(r):9.2f} {per_second(r) / floor:8.3f} {share:>18s} "
              f"{r['rss_self_mb']:12.0f} / {r['rss_children_mb']:.0f}")
        if r.get("cache"):
            c = r["cache"]
            print(f"{'':28s} cache: {c['hits']} hits, {c['scanned']} scanned, {c['dropped']} dropped")
    b = m["breakdown"]
    print(f"\nwhere the time goes (per photo, one core, {len(subset)} photos; detector min_reliable_face "
          f"{b['min_reliable_face']} px):")
    for row in b["rows"]:
        if row["reduce_by"] == b["product_reduce_by"]:
            why = f"--min-face {min_face}: what the audit does"
        else:
            why = f"would need --min-face >= {row['min_face_allowing_it']}"
        print(f"  reduce_by {row['reduce_by']:g} ({why}): frame {row['frame']}, decode {row['decode_ms']:.0f} ms, "
              f"detector {row['detect_ms']:.0f} ms, {row['faces']} faces")
    if opts.baseline:
        print(f"\nagainst the baseline ({opts.baseline}): audit 2 workers "
              f"{per_second(m['audit 2 workers']) / per_second(m['baseline audit, 2 workers']):.2f}x its throughput, "
              f"peak RSS per worker {m['audit 1 worker']['rss_self_mb']:.0f} vs "
              f"{m['baseline audit, 1 worker']['rss_self_mb']:.0f} MB (1-worker audits)")
    target_full = per_second(m["audit 2 workers"]) / floor
    target_inc = m["re-audit, unchanged"]["seconds"] / full
    print(f"\ntargets: full audit {target_full:.3f}x floor (target >= 0.5); unchanged re-audit "
          f"{target_inc:.1%} of a full audit (target <= 2%)")


def reaudits(corpus: Path, files: list[Path], workdir: Path, min_face: int, opts) -> None:
    """A full audit (2 workers) filling a cache, then unchanged re-audits, for this code and the baseline:
    each re-audit as a share of its own full audit, the median of --repeat runs."""
    import statistics

    for label, code in [("this code", REPO)] + ([("baseline", opts.baseline)] if opts.baseline else []):
        cache = str(workdir / f"cache-{label.replace(' ', '-')}.db")
        full = run_phase("audit", corpus, files, code=code, workers=2, cache=cache, min_face=min_face,
                         detector=opts.detector)
        again = [run_phase("audit", corpus, files, code=code, workers=2, cache=cache, min_face=min_face,
                           detector=opts.detector) for _ in range(opts.repeat)]
        seconds = statistics.median(r["seconds"] for r in again)
        each = ", ".join(f"{r['seconds']:.3f}" for r in again)
        hits = again[-1]["cache"]["hits"]
        print(f"{label}: full audit {full['seconds']:.1f} s; unchanged re-audit median {seconds:.3f} s ({each}), "
              f"{hits} of {len(files)} from the cache: {seconds / full['seconds']:.2%} of the full audit", flush=True)


if __name__ == "__main__":
    main()
