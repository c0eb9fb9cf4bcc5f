"""Turned views (detect/passes.py): what they cost and which cheaper rule keeps their recall.

Collects, for photos of ../shared/eval/wider_s400 stored turned 0/90/180/270 degrees without EXIF
(as bench/detection.py's orientation sweep makes them: pixels turned, JPEG q95, labels turned
with them), every input a turned-view rule can use, with its time:

* the upright pyramid of the photo (MultiPass.pyramid, run threshold 0.05);
* the three turned views of the product's small copy (at most ROTATED_PIXELS, at most half size);
* the same three views of a smaller probe copy (at most --probe-pixels, at most 1/--probe-factor).

The full-size search of a turned view k of rotation r is the upright pyramid of rotation r+k
mapped back (the same pixels up to JPEG re-encoding), so every rule is simulated from one
collection: its faces, recall of faces >= 64 / >= 32 px and precision at the operating threshold
per rotation (the orientation sweep's protocol, min-face 24), and its time per photo (the measured
times of the parts it runs). `--upscale MP` collects on the photos enlarged to that many pixels
(the 12 MP corpus of bench/throughput.py) to see the cost share where it matters.

    python bench/turned_views.py collect --start 0 --count 60 --out A.json
    python bench/turned_views.py analyse A.json [B.json]
    python bench/turned_views.py cost --count 8 --caps 250000     # time share on 12 MP photos

Exits 0 with a message when ../shared is absent.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from detection import EVAL_ROOT, Sample, load_set, match_all, photo_level  # noqa: E402

OP = 0.3  # CenterFace's operating threshold
MIN_FACE = 24


def _faces(faces) -> list[list[float]]:
    return [[f.x, f.y, f.w, f.h, round(f.score, 5)] for f in faces]


def collect(args) -> None:
    from PIL import Image

    from bipacheck.detect import runtime
    from bipacheck.detect.factory import create_detector
    from bipacheck.detect.passes import ROTATED_PIXELS, ROTATIONS, _shrink, _unrotate

    runtime.set_threads(args.threads)
    detector = create_detector("centerface", 0.05)
    samples = load_set(EVAL_ROOT / "wider_s400", "labels.json", None)[args.start:args.start + args.count]
    out = []
    reuse = {p["file"]: p for p in json.loads(Path(args.reuse).read_text())["photos"]} if args.reuse else {}
    for index, s in enumerate(samples):
        rgb = np.asarray(Image.open(s.path).convert("RGB"))
        if s.path.name in reuse and not args.upscale:  # only the probe copies are new
            record = reuse[s.path.name]
            for turns, entry in record["turns"].items():
                h, w = entry["h"], entry["w"]
                factor = max(args.probe_factor, math.sqrt(h * w / args.probe_pixels))
                old = max(2.0, math.sqrt(h * w / ROTATED_PIXELS))
                if abs(factor - old) < 1e-9:
                    entry["probe"] = entry["small"]
                    continue
                turned = np.ascontiguousarray(np.rot90(rgb, int(turns)))
                buf = io.BytesIO()
                Image.fromarray(turned).save(buf, "JPEG", quality=95)
                img = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
                t0 = time.perf_counter()
                small = _shrink(img, factor)
                shrink_ms = 1000 * (time.perf_counter() - t0)
                views = {}
                for k in ROTATIONS:
                    t0 = time.perf_counter()
                    found = detector.pyramid(np.ascontiguousarray(np.rot90(small, k)))
                    views[str(k)] = {"faces": _faces(found), "ms": 1000 * (time.perf_counter() - t0)}
                entry["probe"] = {"views": views, "shrink_ms": shrink_ms, "shape": list(small.shape[:2])}
            out.append(record)
            print(f"{index + 1}/{len(samples)} {s.path.name}: probe views redone", flush=True)
            continue
        scale = 1.0
        if args.upscale:
            scale = math.sqrt(args.upscale * 1e6 / (rgb.shape[0] * rgb.shape[1]))
            rgb = np.asarray(Image.fromarray(rgb).resize((round(rgb.shape[1] * scale), round(rgb.shape[0] * scale)),
                                                         Image.Resampling.BICUBIC))
        record = {"file": s.path.name, "scale": scale, "turns": {}}
        for turns in args.turns:
            turned = np.ascontiguousarray(np.rot90(rgb, turns))
            h, w = turned.shape[:2]

            def turn(boxes):
                boxes = np.asarray(boxes, dtype=float).reshape(-1, 4) * scale
                return [list(_unrotate(list(b), (4 - turns) % 4, w, h)) if turns else list(b) for b in boxes]
            buf = io.BytesIO()
            Image.fromarray(turned).save(buf, "JPEG", quality=95)
            img = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
            t0 = time.perf_counter()
            upright = detector.pyramid(img)
            entry = {"w": w, "h": h, "faces": turn(s.faces), "ignore": turn(s.ignore),
                     "upright": _faces(upright), "upright_ms": 1000 * (time.perf_counter() - t0)}
            for label, pixels, factor in (("small", ROTATED_PIXELS, 2.0), ("probe", args.probe_pixels, args.probe_factor)):
                t0 = time.perf_counter()
                small = _shrink(img, max(factor, math.sqrt(h * w / pixels)))
                shrink_ms = 1000 * (time.perf_counter() - t0)
                views = {}
                for k in ROTATIONS:
                    t0 = time.perf_counter()
                    found = detector.pyramid(np.ascontiguousarray(np.rot90(small, k)))
                    views[str(k)] = {"faces": _faces(found), "ms": 1000 * (time.perf_counter() - t0)}
                entry[label] = {"views": views, "shrink_ms": shrink_ms, "shape": list(small.shape[:2])}
            record["turns"][str(turns)] = entry
        out.append(record)
        print(f"{index + 1}/{len(samples)} {s.path.name}: upright {record['turns'][str(args.turns[0])]['upright_ms']:.0f} ms",
              flush=True)
    Path(args.out).write_text(json.dumps({"upscale": args.upscale, "probe_pixels": args.probe_pixels,
                                          "probe_factor": args.probe_factor, "photos": out}))


# ----------------------------------------------------------------------------- rules

def evidence(faces, confident=0.5, best=0.7) -> float:
    if not any(f[4] >= best for f in faces):
        return 0.0
    return sum(f[4] for f in faces if f[4] >= confident)


def nms(faces, thr=0.3):
    from bipacheck.detect.base import iou

    kept = []
    for f in sorted(faces, key=lambda f: -f[4]):
        if all(iou(f[:4], k[:4]) <= thr for k in kept):
            kept.append(f)
    return kept


def apply_rule(rule: dict, record: dict, turns: int) -> tuple[list, float, str]:
    """(faces, ms, what ran) of `rule` on the photo stored `turns` quarter turns from upright."""
    from bipacheck.detect.passes import _unrotate

    e = record["turns"][str(turns)]
    upright = e["upright"]
    ms = e["upright_ms"]
    up_ev = sum(f[4] for f in upright if f[4] >= 0.5)
    strong = sum(f[4] >= rule.get("strong_score", 0.7) for f in upright)
    if rule.get("skip_if_strong") and strong >= rule["skip_if_strong"]:
        return upright, ms, "skipped"
    views = e["probe" if rule.get("views_from_probe") else "small"]["views"]
    ms += e["small"]["shrink_ms"]
    if rule.get("probe"):
        probe = e["probe"]["views"]
        ms += e["probe"]["shrink_ms"] + sum(v["ms"] for v in probe.values())
        # a view is looked at in the small copy only when the probe saw a face in it
        gate = rule.get("probe_gate", 0.5)
        look = [k for k in ("1", "2", "3") if any(f[4] >= gate for f in probe[k]["faces"])]
        ms += sum(views[k]["ms"] for k in look)
        ev = {k: evidence(views[k]["faces"]) if k in look else 0.0 for k in ("1", "2", "3")}
        ran = f"probe+{len(look)}"
    else:
        ms += sum(v["ms"] for v in views.values())
        ev = {k: evidence(v["faces"]) for k, v in views.items()}
        ran = "views"
    k = max(ev, key=ev.get)
    if ev[k] <= up_ev:
        return upright, ms, ran
    full = record["turns"][str((turns + int(k)) % 4)]
    ms += full["upright_ms"]
    turned = [list(_unrotate(f[:4], int(k), e["w"], e["h"])) + [f[4]] for f in full["upright"]]
    return nms(turned + [f for f in upright if f[4] >= 0.5]), ms, ran + "+full"


RULES = {
    "current": {},
    "probe-copy": {"views_from_probe": True},  # the turned views on the probe copy instead
    "skip>=2": {"skip_if_strong": 2},
    "skip>=3": {"skip_if_strong": 3},
    "skip>=4": {"skip_if_strong": 4},
    "skip>=3@.8": {"skip_if_strong": 3, "strong_score": 0.8},
    "probe": {"probe": True},
    "probe@.3": {"probe": True, "probe_gate": 0.3},
    "probe+skip>=3": {"probe": True, "skip_if_strong": 3},
    "probe@.3+skip>=3": {"probe": True, "probe_gate": 0.3, "skip_if_strong": 3},
}


def analyse(paths: list[str], rules: list[str]) -> None:
    for path in paths:
        doc = json.loads(Path(path).read_text())
        photos = doc["photos"]
        print(f"\n{path}: {len(photos)} photos (upscale {doc['upscale'] or 'none'}, probe <= {doc['probe_pixels']:g} px "
              f"and <= 1/{doc['probe_factor']:g})")
        turns_all = sorted({int(t) for p in photos for t in p["turns"]})
        base_ms = None
        for name in rules:
            rule = RULES[name]
            cells, total_ms, upright_only_ms, runs = [], 0.0, 0.0, {}
            for turns in turns_all:
                samples, dets = [], []
                for p in photos:
                    e = p["turns"][str(turns)]
                    faces, ms, ran = apply_rule(rule, p, turns)
                    total_ms += ms
                    upright_only_ms += e["upright_ms"]
                    runs[ran] = runs.get(ran, 0) + 1
                    samples.append(Sample(Path(p["file"]), np.array(e["faces"], float).reshape(-1, 4),
                                          np.array(e["ignore"], float).reshape(-1, 4)))
                    d = np.array(faces, float).reshape(-1, 5)
                    dets.append(d[np.maximum(d[:, 2], d[:, 3]) >= MIN_FACE])
                m = match_all(samples, dets, min_face=MIN_FACE)
                pl = photo_level(m, OP, 64)
                cells.append(f"{90 * turns}: {m.recall(OP, 64):.3f}/{m.recall(OP, 32):.3f}/{m.at(OP)[1]:.3f}/"
                             f"{pl['at_least_one_found']:.3f}")
            n = len(photos) * len(turns_all)
            base_ms = base_ms or total_ms
            print(f"  {name:18s} {' | '.join(cells)} | ms/photo {total_ms / n:.0f} (x current {total_ms / base_ms:.2f}; "
                  f"upright pyramid alone {upright_only_ms / n:.0f}) | {dict(sorted(runs.items()))}")
    print("  cells: rotation: recall >= 64 px / recall >= 32 px / precision (at 0.3, min-face 24) / photos with a "
          "face >= 64 px where one is found")


def cost(args) -> None:
    """CPU ms per 12 MP photo of the multi-pass detector without turned views, with them (the
    product's ROTATED_PIXELS) and with them at each --caps value, interleaved photo by photo, one
    thread (CPU time rather than wall-clock: on a shared machine wall-clock swung 30% between runs)."""
    import shutil
    import tempfile

    from throughput import build_corpus

    from bipacheck.detect import passes, runtime
    from bipacheck.detect.factory import create_detector
    from bipacheck.imaging import load_image

    runtime.set_threads(1)
    detector = create_detector("centerface")
    product_cap = passes.ROTATED_PIXELS
    configs = [("no turned views", None), (f"turned views <= {product_cap / 1e6:g} MP (product)", product_cap)]
    configs += [(f"turned views <= {c / 1e6:g} MP", c) for c in args.caps]
    ms = {label: [] for label, _ in configs}
    folder = Path(tempfile.mkdtemp(prefix="bipacheck-turned-"))
    try:
        files = build_corpus(folder, args.count)
        for i, path in enumerate(files):
            rgb = load_image(path.read_bytes()).frames[0]
            order = configs if i % 2 == 0 else configs[::-1]
            for label, cap in order:
                detector.rotate = cap is not None
                passes.ROTATED_PIXELS = cap or product_cap
                t0 = time.process_time()  # CPU time: one thread, so a busy machine barely moves it
                detector.detect(rgb)
                ms[label].append(1000 * (time.process_time() - t0))
            print(f"{i + 1}/{len(files)} {rgb.shape[1]}x{rgb.shape[0]}: "
                  + ", ".join(f"{v[-1]:.0f}" for v in ms.values()), flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        passes.ROTATED_PIXELS = product_cap
    base = np.array(ms["no turned views"])
    for label, values in ms.items():
        v = np.array(values)
        print(f"  {label:34s} {v.mean():7.0f} ms/photo  x no-views {v.sum() / base.sum():.2f}  "
              f"turned views' share of the time {1 - base.sum() / v.sum():.1%}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("collect")
    c.add_argument("--start", type=int, default=0)
    c.add_argument("--count", type=int, default=60)
    c.add_argument("--turns", default="0,1,2,3")
    c.add_argument("--upscale", type=float, default=0, help="enlarge each photo to this many megapixels first")
    c.add_argument("--probe-pixels", type=float, default=250_000)
    c.add_argument("--probe-factor", type=float, default=4.0)
    c.add_argument("--threads", type=int, default=1)
    c.add_argument("--reuse", default=None, help="a collection of the same photos: keep its upright and small-copy "
                   "results, redo only the probe copies (e.g. another --probe-pixels)")
    c.add_argument("--out", required=True)
    k = sub.add_parser("cost")
    k.add_argument("--count", type=int, default=8, help="12 MP photos (bench/throughput.py's corpus)")
    k.add_argument("--caps", default="250000", help="other ROTATED_PIXELS values to time, comma-separated")
    a = sub.add_parser("analyse")
    a.add_argument("paths", nargs="+")
    a.add_argument("--rules", default=",".join(RULES))
    args = p.parse_args()
    if args.command == "cost":
        args.caps = [float(c) for c in args.caps.split(",") if c]
        cost(args)
    elif args.command == "collect":
        if not (EVAL_ROOT / "wider_s400" / "labels.json").is_file():
            print("no evaluation data (../shared/eval is not part of the repository); skipping")
            return 0
        args.turns = [int(t) for t in args.turns.split(",")]
        collect(args)
    else:
        analyse(args.paths, [r for r in args.rules.split(",") if r])
    return 0


if __name__ == "__main__":
    sys.exit(main())
