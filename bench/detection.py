"""Detection benchmark: accuracy, speed and false alarms of bipacheck's detectors.

Measures what decides the defaults (bipacheck.detect.detectors.DETECTORS, the min-face
size, reduced decoding) on the labelled sets in ../shared/eval (see ../shared/README.md):

* the standard protocol, comparable with ../shared/DETECTORS.md: greedy matching by score at
  IoU >= 0.5, `ignore` boxes neutral; AP (all points), recall at precision 0.90, recall and
  precision at the operating threshold, recall by face size;
* the product's operating point: faces under --min-face are ignore (the product does not report
  them), recall of faces >= 32 px and precision at the operating threshold, and the best such
  recall reachable at precision >= 0.85;
* ms per image through `scan_bytes` (decode included) at each OpenCV thread count;
* false alarms per image on face-free scenes (scikit-image's photos and generated images).

Photos go through the product's own `scan_bytes`, so reduced decoding (`reduction_for`) is part
of what is measured; --no-reduce forces full-resolution decoding (--reduce-by any other factor)
to show what reduction costs.
Run once at a LOW detector threshold: thresholding later keeps a prefix of the score-sorted
detections (greedy matching and NMS both work in score order), so every operating threshold
is read off one run.

    python bench/detection.py --set wider_s400 --detector centerface --threshold 0.05
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
EVAL_ROOT = REPO.parent / "shared" / "eval"
SIZE_BINS = [(0, 16, "<16"), (16, 32, "16-32"), (32, 64, "32-64"), (64, 128, "64-128"), (128, 1 << 30, ">=128")]
IOU_MATCH = 0.5
BIG_FACE = 32  # the operating point's recall counts faces at least this large (max of w, h)


# ----------------------------------------------------------------------------- data

@dataclass
class Sample:
    path: Path
    faces: np.ndarray  # (n, 4) x, y, w, h
    ignore: np.ndarray


def load_set(root: Path, labels: str, limit: int | None) -> list[Sample]:
    doc = json.loads((root / labels).read_text())
    samples = []
    for entry in doc["images"][:limit]:
        samples.append(Sample(root / entry["file"],
                              np.array(entry["faces"], dtype=float).reshape(-1, 4),
                              np.array(entry.get("ignore", []), dtype=float).reshape(-1, 4)))
    return samples


# Animal faces and a rendered monkey head, near-misses a face detector must not call human: the
# sample photos of Debian's opencv-doc package (`apt-get install opencv-doc`; OpenCV's BSD-licensed
# samples/data). Used when installed, listed as missing otherwise.
OPENCV_SAMPLES = Path("/usr/share/doc/opencv-doc/examples/data")
ANIMALS = ("baboon.jpg", "squirrel_cls.jpg", "chicky_512.png", "HappyFish.jpg", "butterfly.jpg",
           "Blender_Suzanne1.jpg", "Blender_Suzanne2.jpg")
PEOPLE_CROPS = 40  # crops of eval photos holding people but no labelled face (hands, backs of heads)


def face_free_images(samples: list[Sample] = ()) -> list[tuple[str, bytes]]:
    """(name, encoded bytes) of photos and synthetic images with no face in them."""
    import cv2
    import skimage.data
    from PIL import Image

    scenes = {}
    for name in ("coffee", "chelsea", "rocket", "brick", "grass", "gravel", "coins", "moon", "clock",
                 "hubble_deep_field", "immunohistochemistry", "page", "text", "retina", "colorwheel", "cell",
                 "horse"):
        arr = getattr(skimage.data, name)()
        if arr.dtype == bool:
            arr = arr.astype(np.uint8) * 255
        if arr.ndim == 2:
            arr = np.stack([arr] * 3, axis=-1)
        scenes[name] = np.ascontiguousarray(arr[..., :3]).astype(np.uint8)
    missing = [name for name in ANIMALS if not (OPENCV_SAMPLES / name).is_file()]
    if missing:
        print(f"face-free set: {len(missing)} animal photos missing (apt-get install opencv-doc)", file=sys.stderr)
    for name in ANIMALS:
        if name not in missing:
            bgr = cv2.imread(str(OPENCV_SAMPLES / name), cv2.IMREAD_COLOR)
            scenes[Path(name).stem] = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)

    images: dict[str, np.ndarray] = dict(scenes)
    for name, arr in scenes.items():  # large photos take the reduced-decode path
        h, w = arr.shape[:2]
        f = 2000 / max(h, w)
        images[f"{name}@2000"] = cv2.resize(arr, (round(w * f), round(h * f)), interpolation=cv2.INTER_CUBIC)
    tiles = [cv2.resize(a, (500, 500), interpolation=cv2.INTER_AREA) for a in scenes.values()]
    images["mosaic@2000"] = np.vstack([np.hstack(tiles[r * 4:r * 4 + 4]) for r in range(4)])

    rng = np.random.default_rng(0)
    images["noise_uniform"] = rng.integers(0, 256, (768, 1024, 3), dtype=np.uint8)
    blobs = cv2.GaussianBlur(rng.normal(128, 60, (1500, 2000, 3)).clip(0, 255).astype(np.uint8), (0, 0), 3)
    images["noise_blurred@2000"] = cv2.normalize(blobs, None, 0, 255, cv2.NORM_MINMAX)
    x = np.linspace(0, 255, 1600)[None, :, None]
    y = np.linspace(0, 255, 1200)[:, None, None]
    images["gradient_linear"] = np.broadcast_to(np.concatenate([x + 0 * y, y + 0 * x, 255 - x + 0 * y], -1),
                                                (1200, 1600, 3)).astype(np.uint8)
    yy, xx = np.mgrid[-1:1:1200j, -1:1:1200j]
    radial = (np.sqrt(xx ** 2 + yy ** 2).clip(0, 1) * 255).astype(np.uint8)
    images["gradient_radial"] = np.stack([radial, 255 - radial, radial // 2], -1)
    images["flat_grey"] = np.full((600, 800, 3), 128, np.uint8)

    images.update(people_without_faces(samples, PEOPLE_CROPS))
    out = []
    for name, arr in images.items():
        buf = io.BytesIO()
        if name.startswith(("noise", "gradient")):
            Image.fromarray(np.ascontiguousarray(arr)).save(buf, "PNG")  # the non-JPEG path too
        else:
            Image.fromarray(np.ascontiguousarray(arr)).save(buf, "JPEG", quality=90)
        out.append((name, buf.getvalue()))
    return out


def people_without_faces(samples: list[Sample], count: int) -> dict[str, np.ndarray]:
    """Crops of eval photos that hold no labelled face or ignore box (bodies, hands, backs of heads,
    crowds seen from behind): the largest such window of at least 200x200 px per photo, every
    labelled box grown by half its size first so no part of a face is left at a crop's edge."""
    from PIL import Image

    out = {}
    for s in samples:
        if len(out) >= count:
            break
        boxes = np.vstack([s.faces, s.ignore])
        if len(boxes) == 0:
            continue  # a photo with no label at all may be unlabelled, not face-free
        with Image.open(s.path) as im:
            w, h = im.size
            best = _free_window(boxes, w, h)
            if best is not None:
                x0, y0, x1, y1 = best
                out[f"people:{s.path.stem}"] = np.asarray(im.convert("RGB").crop((x0, y0, x1, y1)))
    return out


def _free_window(boxes: np.ndarray, w: int, h: int, min_side: int = 200):
    """The largest axis-aligned window on a 25 px grid that overlaps no grown box, or None."""
    grown = np.c_[boxes[:, 0] - boxes[:, 2] / 2, boxes[:, 1] - boxes[:, 3] / 2,
                  boxes[:, 0] + boxes[:, 2] * 1.5, boxes[:, 1] + boxes[:, 3] * 1.5]
    step = 25
    free = np.ones((-(-h // step), -(-w // step)), bool)
    for x0, y0, x1, y1 in grown:
        free[max(0, int(y0 // step)):max(0, int(-(-y1 // step))), max(0, int(x0 // step)):max(0, int(-(-x1 // step)))] = False
    best, area = None, 0
    rows, cols = free.shape
    heights = np.zeros(cols, int)
    for r in range(rows):  # largest rectangle of free cells: histogram method per row
        heights = np.where(free[r], heights + 1, 0)
        stack = []
        for c in range(cols + 1):
            hc = heights[c] if c < cols else 0
            start = c
            while stack and stack[-1][1] >= hc:
                start, hs = stack.pop()
                a = hs * (c - start)
                if a > area and hs * step >= min_side and (c - start) * step >= min_side:
                    area, best = a, (start * step, (r - hs + 1) * step, min(w, c * step), min(h, (r + 1) * step))
            stack.append((start, hc))
    return best


# ----------------------------------------------------------------------------- running

@contextmanager
def decode_reduction(min_face: int, forced: float | None):
    """Pin the reduction scan_bytes uses: the product's own for `min_face`, or `forced`.

    Lets the accuracy pass call scan_bytes with min_face=1 (so the standard protocol sees every
    detection) while decoding exactly as the product does at `min_face`.
    """
    from bipacheck.scanning import scan as scanner

    original = scanner.reduction_for
    scanner.reduction_for = ((lambda det, _mf: original(det, min_face)) if forced is None
                             else (lambda det, _mf: forced))
    try:
        yield
    finally:
        scanner.reduction_for = original


def scan_all(detector, items, min_face: int, forced: float | None, report_min_face: int | None = None):
    """(faces per item as (n, 5) arrays x, y, w, h, score; ms per item; skipped names).

    Decoding is the product's for `min_face` (or reduced by `forced` when given); faces are
    filtered at `report_min_face`, which defaults to `min_face`.
    """
    from bipacheck.scanning.scan import PhotoScan, ScanSettings, scan_bytes

    settings = ScanSettings(min_face=min_face if report_min_face is None else report_min_face)
    dets, ms, skipped = [], [], []
    with decode_reduction(min_face, forced):
        for name, data in items:
            t0 = time.perf_counter()
            result = scan_bytes(data, name, name, detector, settings)
            ms.append((time.perf_counter() - t0) * 1000)
            if not isinstance(result, PhotoScan):
                skipped.append(f"{name}: {result.message}")
                dets.append(np.zeros((0, 5)))
                continue
            dets.append(np.array([[f.x, f.y, f.w, f.h, f.score] for f in result.faces], dtype=float).reshape(-1, 5))
    return dets, ms, skipped


def min_face_filter(d: np.ndarray, min_face: int) -> np.ndarray:
    """The product's own filter (scanner.scan_bytes): drop boxes whose max(w, h) < min_face."""
    return d[np.maximum(d[:, 2], d[:, 3]) >= min_face]


# ----------------------------------------------------------------------------- matching

def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    ax2, ay2 = a[:, 0] + a[:, 2], a[:, 1] + a[:, 3]
    bx2, by2 = b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
    iw = np.minimum(ax2[:, None], bx2[None]) - np.maximum(a[:, 0, None], b[None, :, 0])
    ih = np.minimum(ay2[:, None], by2[None]) - np.maximum(a[:, 1, None], b[None, :, 1])
    inter = iw.clip(0) * ih.clip(0)
    union = (a[:, 2] * a[:, 3])[:, None] + (b[:, 2] * b[:, 3])[None] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)


def match_image(dets: np.ndarray, faces: np.ndarray, ignore: np.ndarray):
    """Greedy by score: each detection takes the unmatched face it overlaps most (IoU >= 0.5);
    otherwise it is neutral if it overlaps an ignore box, else a false alarm.

    Returns (scores, is_hit) of the non-neutral detections, and per face the score of the
    detection that found it (-inf when missed).
    """
    order = np.argsort(-dets[:, 4], kind="stable")
    dets = dets[order]
    to_face = iou_matrix(dets[:, :4], faces)
    on_ignore = (iou_matrix(dets[:, :4], ignore) >= IOU_MATCH).any(axis=1) if len(ignore) else np.zeros(len(dets), bool)
    face_score = np.full(len(faces), -np.inf)
    scores, hits = [], []
    free = np.ones(len(faces), bool)
    for i in range(len(dets)):
        if len(faces):
            row = np.where(free, to_face[i], -1.0)
            j = int(np.argmax(row))
            if row[j] >= IOU_MATCH:
                free[j] = False
                face_score[j] = dets[i, 4]
                scores.append(dets[i, 4])
                hits.append(True)
                continue
        if on_ignore[i]:
            continue
        scores.append(dets[i, 4])
        hits.append(False)
    return np.array(scores, dtype=float), np.array(hits, dtype=bool), face_score


@dataclass
class Matched:
    scores: np.ndarray  # non-neutral detections, all images
    hits: np.ndarray
    face_scores: np.ndarray  # per face to be found: score of the detection that found it
    face_sizes: np.ndarray  # per face: max(w, h)
    det_images: np.ndarray  # per non-neutral detection: index of its image
    face_images: np.ndarray  # per face: index of its image
    images: int = 0

    def curve(self):
        """(thresholds, precision, recall) at every distinct score, highest threshold first."""
        order = np.argsort(-self.scores, kind="stable")
        s, h = self.scores[order], self.hits[order]
        tp, fp = np.cumsum(h), np.cumsum(~h)
        last = np.r_[s[1:] != s[:-1], True] if len(s) else np.zeros(0, bool)  # cut only between scores
        n = max(len(self.face_scores), 1)
        return s[last], tp[last] / np.maximum(tp[last] + fp[last], 1), tp[last] / n

    def at(self, threshold: float, min_size: float = 0) -> tuple[float, float]:
        """(recall of faces with max(w, h) >= min_size, precision) when keeping scores >= threshold."""
        keep = self.scores >= threshold
        kept = int(keep.sum())
        prec = float(self.hits[keep].sum() / kept) if kept else 1.0
        return self.recall(threshold, min_size), prec

    def recall(self, threshold: float, lo: float = 0, hi: float = np.inf) -> float:
        sel = (self.face_sizes >= lo) & (self.face_sizes < hi)
        return float((self.face_scores[sel] >= threshold).mean()) if sel.any() else float("nan")


def match_all(samples: list[Sample], dets: list[np.ndarray], min_face: int = 0) -> Matched:
    """Match a whole set; with min_face > 0 the operating protocol: smaller faces become
    ignore boxes and smaller detections are dropped, as the product drops them."""
    all_s, all_h, all_fs, all_sz, all_di, all_fi = [], [], [], [], [], []
    for index, (sample, d) in enumerate(zip(samples, dets)):
        faces, ignore = sample.faces, sample.ignore
        if min_face:
            small = np.maximum(faces[:, 2], faces[:, 3]) < min_face
            ignore = np.vstack([ignore, faces[small]])
            faces = faces[~small]
            d = min_face_filter(d, min_face)
        s, h, fs = match_image(d, faces, ignore)
        all_s.append(s)
        all_h.append(h)
        all_fs.append(fs)
        all_sz.append(np.maximum(faces[:, 2], faces[:, 3]))
        all_di.append(np.full(len(s), index))
        all_fi.append(np.full(len(faces), index))
    return Matched(np.concatenate(all_s), np.concatenate(all_h), np.concatenate(all_fs), np.concatenate(all_sz),
                   np.concatenate(all_di), np.concatenate(all_fi), len(samples))


def photo_level(m: Matched, threshold: float, min_size: float = BIG_FACE) -> dict:
    """Per photo, at `threshold`: of the photos with a face >= min_size, the share where at least one
    / every such face was found; the share of all photos whose only detections are false alarms."""
    big = m.face_sizes >= min_size
    with_face = np.unique(m.face_images[big])
    found = m.face_scores >= threshold
    any_found = np.array([found[big & (m.face_images == i)].any() for i in with_face], dtype=bool)
    all_found = np.array([found[big & (m.face_images == i)].all() for i in with_face], dtype=bool)
    kept = m.scores >= threshold
    false_only = [i for i in range(m.images)
                  if (kept & (m.det_images == i)).any() and not (kept & m.hits & (m.det_images == i)).any()]
    return {"photos_with_face": int(len(with_face)),
            "at_least_one_found": float(any_found.mean()) if len(with_face) else float("nan"),
            "all_found": float(all_found.mean()) if len(with_face) else float("nan"),
            "missed_photos": int((~any_found).sum()),
            "false_alarm_only_photos": len(false_only) / max(m.images, 1)}


def average_precision(m: Matched) -> float:
    """All-points AP: area under the precision envelope (VOC 2010+ style)."""
    _, prec, rec = m.curve()
    mrec = np.r_[0.0, rec]
    mpre = np.r_[prec, 0.0]
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]  # envelope: best precision at recall >= r
    return float(np.sum((mrec[1:] - mrec[:-1]) * mpre[:-1]))


def best_recall_at_precision(m: Matched, min_precision: float, min_size: float = 0):
    """(recall of faces >= min_size, threshold, precision) of the threshold with the highest such
    recall among those keeping precision >= min_precision; (0, nan, nan) when none does."""
    thr, prec, _ = m.curve()
    ok = prec >= min_precision
    if not ok.any():
        return 0.0, float("nan"), float("nan")
    sel = np.sort(m.face_scores[m.face_sizes >= min_size])
    n = max(len(sel), 1)
    found = (len(sel) - np.searchsorted(sel, thr, side="left")) / n  # faces scoring >= thr
    i = int(np.argmax(np.where(ok, found, -1)))
    return float(found[i]), float(thr[i]), float(prec[i])


# ----------------------------------------------------------------------------- one detector

@dataclass
class Report:
    detector: str
    run_threshold: float
    op_threshold: float
    min_face: int
    reduce_by: float
    images: int
    figures: dict = field(default_factory=dict)


def build_detector(name: str, threshold: float, args):
    """The product's detector, or with --model the same detector on another ONNX file (e.g. an INT8
    CenterFace from bench/quantize.py), wrapped in the same multi-pass search."""
    from bipacheck.detect.detectors import create_detector

    if args.model is None:
        return create_detector(name, threshold, multipass=not args.single_pass)
    import hashlib

    from bipacheck.detect.centerface import CenterFace
    from bipacheck.detect.passes import MultiPass
    from bipacheck.detect.runtime import default_runtime

    if name != "centerface":
        raise SystemExit("--model replaces CenterFace's weights: use it with --detector centerface")
    sha = hashlib.sha256(args.model.read_bytes()).hexdigest()
    network = CenterFace(str(args.model), sha, threshold=threshold, runtime=default_runtime())
    return network if args.single_pass else MultiPass(network)


def evaluate(name: str, args, samples: list[Sample], face_free) -> Report | None:
    import cv2

    from bipacheck.detect import runtime
    from bipacheck.detect.detectors import create_detector, default_threshold
    from bipacheck.errors import ConfigError
    from bipacheck.scanning.scan import reduction_for

    op = args.operating_threshold if args.operating_threshold is not None else default_threshold(name)
    try:
        detector = build_detector(name, args.threshold, args)
    except ConfigError as exc:
        print(f"\n{name}: skipped ({exc})")
        return None
    if args.threshold > op:
        print(f"warning: run threshold {args.threshold} is above the operating threshold {op}; "
              "figures at the operating threshold are wrong", file=sys.stderr)
    reduce_by = reduction_for(detector, args.min_face) if args.reduce_by is None else args.reduce_by
    report = Report(name, args.threshold, op, args.min_face, reduce_by, len(samples))
    items = [(str(s.path), s.path.read_bytes()) for s in samples]
    print(f"\n{name}: {len(items)} images, run threshold {args.threshold}, operating threshold {op}, "
          f"min-face {args.min_face}, decode reduced by {reduce_by:g}", flush=True)

    # Accuracy: scan_bytes at min_face=1 with the product's decode reduction, min-face applied here
    cv2.setNumThreads(max(args.threads))
    dets, _, skipped = scan_all(detector, items, args.min_face, args.reduce_by, report_min_face=1)
    for line in skipped:
        print(f"  skipped {line}")
    self_check(detector, items[:3], dets[:3], args)

    std = match_all(samples, dets)
    opm = match_all(samples, dets, min_face=args.min_face)
    r90, t90, _ = best_recall_at_precision(std, 0.90)
    r_op, p_op = std.at(op)
    f = report.figures
    f["standard"] = {
        "faces": int(len(std.face_scores)), "ap": average_precision(std),
        "recall_at_p90": r90, "threshold_at_p90": t90, "recall_at_op": r_op, "precision_at_op": p_op,
        "recall_by_size_at_op": {lab: std.recall(op, lo, hi) for lo, hi, lab in SIZE_BINS},
        "recall_by_size_at_p90": {lab: std.recall(t90, lo, hi) for lo, hi, lab in SIZE_BINS},
    }
    r32, p = opm.at(op, BIG_FACE)
    best = best_recall_at_precision(opm, 0.85, BIG_FACE)
    best90 = best_recall_at_precision(opm, 0.90, BIG_FACE)
    f["operating"] = {
        "faces": int(len(opm.face_scores)), "faces_ge32": int((opm.face_sizes >= BIG_FACE).sum()),
        "recall_ge32": r32, "recall_ge_min_face": opm.recall(op), "precision": p,
        "best_recall_ge32_at_p85": best[0], "threshold_best": best[1], "precision_best": best[2],
        "best_recall_ge32_at_p90": best90[0], "threshold_best_p90": best90[1], "ap": average_precision(opm),
        "sweep": {f"{t:g}": dict(zip(("recall_ge32", "precision"), opm.at(t, BIG_FACE)),
                                 recall_ge_min_face=opm.recall(t)) for t in args.sweep},
    }
    f["photo_level"] = photo_level(opm, op)
    if args.size_sweep:
        f["size_sweep"] = size_sweep(detector, samples, args, op)
    if args.orientation_limit:
        f["orientation_sweep"] = orientation_sweep(detector, samples[:args.orientation_limit], args, op)

    # Speed: the product configuration (operating threshold, real min-face), per thread count
    timing_items = items[:args.timing_limit] if args.timing_limit else items
    f["ms_per_image"] = {}
    for n in ([] if args.no_timing else args.threads):
        runtime.set_threads(n)  # ONNX Runtime takes its thread count when a network is built
        timed = build_detector(name, op, args)
        _, ms, _ = scan_all(timed, timing_items, args.min_face, args.reduce_by)
        f["ms_per_image"][str(n)] = {"mean": float(np.mean(ms)), "median": float(np.median(ms)),
                                     "images": len(ms)}

    # False alarms on face-free images: the product path, read at each threshold
    cv2.setNumThreads(max(args.threads))
    fa_dets, _, fa_skipped = scan_all(detector, face_free, args.min_face, args.reduce_by)
    names = [n for n, _ in face_free]
    f["rotated_pass_cost"] = None if args.no_timing else rotated_pass_cost(detector, face_free, args)
    f["face_free"] = {"images": len(names), "skipped": fa_skipped,
                      "photos_with_alarms": sum(len(d[d[:, 4] >= op]) > 0 for d in fa_dets) / max(len(names), 1),
                      **false_alarms(names, fa_dets, op),
                      "sweep": {f"{t:g}": false_alarms(names, fa_dets, t) for t in args.sweep}}
    return report


SWEEP_SIZES = [32, 64, 128, 256, 512, 1024, 2048, "full"]
FULL_FRAME = (4000, 3000)


def sweep_faces(samples: list[Sample], count: int) -> list[tuple[Sample, np.ndarray]]:
    """Up to `count` real faces of at least 64 px, one per photo, each the largest in its photo."""
    picked = []
    for s in samples:
        if len(s.faces):
            face = s.faces[np.argmax(np.maximum(s.faces[:, 2], s.faces[:, 3]))]
            if max(face[2], face[3]) >= 64:
                picked.append((s, face))
    step = max(1, len(picked) // count)
    return picked[::step][:count]


def resized_around(rgb: np.ndarray, face: np.ndarray, size) -> tuple[np.ndarray, np.ndarray]:
    """The photo scaled so the face is `size` px tall (max of w, h), cropped to at most 4000x3000
    around it; "full": cropped around the face to 4:3 and scaled so the face fills a 4000x3000
    frame. Returns (image, the face's box in it)."""
    import cv2

    h, w = rgb.shape[:2]
    x, y, fw, fh = face
    if size == "full":
        ch = min(h, fh * 1.1)
        cw = min(w, ch * 4 / 3)
        ch = cw * 3 / 4
    else:
        f = size / max(fw, fh)
        cw, ch = min(w, FULL_FRAME[0] / f), min(h, FULL_FRAME[1] / f)
    x0 = int(np.clip(x + fw / 2 - cw / 2, 0, w - cw))
    y0 = int(np.clip(y + fh / 2 - ch / 2, 0, h - ch))
    crop = rgb[y0:y0 + int(ch), x0:x0 + int(cw)]
    f = FULL_FRAME[0] / crop.shape[1] if size == "full" else size / max(fw, fh)
    out = cv2.resize(crop, (max(1, round(crop.shape[1] * f)), max(1, round(crop.shape[0] * f))),
                     interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_CUBIC)
    return out, np.array([(x - x0) * f, (y - y0) * f, fw * f, fh * f])


def size_sweep(detector, samples: list[Sample], args, op: float) -> dict:
    """Recall and box IoU of real faces resized to each size (the product path, JPEG q90)."""
    from PIL import Image

    from bipacheck.detect.base import iou

    faces = sweep_faces(samples, args.size_sweep)
    out = {}
    for size in SWEEP_SIZES:
        ious = []
        for sample, face in faces:
            rgb = np.asarray(Image.open(sample.path).convert("RGB"))
            image, box = resized_around(rgb, face, size)
            buf = io.BytesIO()
            Image.fromarray(image).save(buf, "JPEG", quality=90)
            (d,), _, _ = scan_all(detector, [(sample.path.name, buf.getvalue())], args.min_face, args.reduce_by)
            d = d[d[:, 4] >= op]
            ious.append(max((iou(list(r[:4]), list(box)) for r in d), default=0.0))
        ious = np.array(ious)
        out[str(size)] = {"faces": len(ious), "recall": float((ious >= IOU_MATCH).mean()),
                          "mean_iou_found": float(ious[ious >= IOU_MATCH].mean()) if (ious >= IOU_MATCH).any() else 0.0}
        print(f"  size sweep {size}: recall {out[str(size)]['recall']:.3f}", flush=True)
    return out


def orientation_sweep(detector, samples: list[Sample], args, op: float) -> dict:
    """Recall of faces >= 64 px (and photo-level recall) with the photos rotated 90/180/270 in their
    pixels, without an EXIF tag; labels turned with them."""
    from PIL import Image

    from bipacheck.detect.passes import _unrotate

    out = {}
    for turns in (0, 1, 2, 3):
        items, rotated = [], []
        for s in samples:
            rgb = np.asarray(Image.open(s.path).convert("RGB"))
            turned = np.ascontiguousarray(np.rot90(rgb, turns))
            h, w = turned.shape[:2]

            def turn(boxes):
                return np.array([_unrotate(list(b), (4 - turns) % 4, w, h) if turns else b for b in boxes],
                                dtype=float).reshape(-1, 4)
            buf = io.BytesIO()
            Image.fromarray(turned).save(buf, "JPEG", quality=95)
            items.append((s.path.name, buf.getvalue()))
            rotated.append(Sample(s.path, turn(s.faces), turn(s.ignore)))
        dets, ms, _ = scan_all(detector, items, args.min_face, args.reduce_by)
        m = match_all(rotated, dets, min_face=args.min_face)
        out[str(90 * turns)] = {"recall_ge64": m.recall(op, 64), "recall_ge32": m.recall(op, BIG_FACE),
                                "precision": m.at(op)[1], "ms": float(np.mean(ms)), **photo_level(m, op, 64)}
        print(f"  orientation {90 * turns}: recall>=64 {out[str(90 * turns)]['recall_ge64']:.3f}", flush=True)
    return out


def rotated_pass_cost(detector, face_free, args) -> dict | None:
    """ms per face-free photo (where every rotated pass runs) with and without the rotated passes,
    the two interleaved photo by photo so load drift cancels out."""
    from bipacheck.detect.passes import MultiPass

    if not isinstance(detector, MultiPass):
        return None
    upright_only = MultiPass(detector.network, rotate=False)
    with_rot, without = [], []
    for item in face_free:
        without += scan_all(upright_only, [item], args.min_face, args.reduce_by)[1]
        with_rot += scan_all(detector, [item], args.min_face, args.reduce_by)[1]
    return {"ms_with": float(np.mean(with_rot)), "ms_without": float(np.mean(without))}


def false_alarms(names, dets, threshold) -> dict:
    per = {n: d[d[:, 4] >= threshold] for n, d in zip(names, dets)}
    hit = {n: {"count": len(d), "max_score": round(float(d[:, 4].max()), 3)} for n, d in per.items() if len(d)}
    total = sum(v["count"] for v in hit.values())
    return {"detections": total, "per_image": total / max(len(names), 1), "images_with_alarms": hit}


def self_check(detector, items, deferred, args) -> None:
    """The deferred min-face filter must give what scan_bytes itself gives at the real min-face."""
    real, _, _ = scan_all(detector, items, args.min_face, args.reduce_by)
    for (name, _), a, b in zip(items, real, deferred):
        b = min_face_filter(b, args.min_face)
        if sorted(map(tuple, a.round(4))) != sorted(map(tuple, b.round(4))):
            print(f"  WARNING: {name}: deferred min-face filter differs from scan_bytes "
                  f"({len(b)} vs {len(a)} faces)", file=sys.stderr)


# ----------------------------------------------------------------------------- output

def _f(x: float) -> str:
    return "  - " if x != x else f"{x:.3f}".lstrip("0") if 0 <= x < 1 else f"{x:.2f}"


def print_report(r: Report) -> None:
    s, o, ff = r.figures["standard"], r.figures["operating"], r.figures["face_free"]
    ms = " / ".join(f"{k}T {v['mean']:.0f}" for k, v in r.figures["ms_per_image"].items()) or "not timed"
    n_timed = next(iter(r.figures["ms_per_image"].values()), {"images": 0})["images"]
    print(f"  standard  ({s['faces']} faces): AP {_f(s['ap'])} | R@P.90 {_f(s['recall_at_p90'])} "
          f"(thr {_f(s['threshold_at_p90'])}) | at op thr {r.op_threshold:g}: R {_f(s['recall_at_op'])} "
          f"P {_f(s['precision_at_op'])}")
    for key, label in (("recall_by_size_at_op", f"op thr {r.op_threshold:g}"), ("recall_by_size_at_p90", "P.90 thr")):
        sizes = " ".join(f"{k} {_f(v)}" for k, v in s[key].items())
        print(f"  by size at {label}: {sizes}")
    print(f"  operating (min-face {r.min_face}; {o['faces']} faces, {o['faces_ge32']} >= 32 px): "
          f"recall>=32 {_f(o['recall_ge32'])} (all >= {r.min_face}: {_f(o['recall_ge_min_face'])}) "
          f"prec {_f(o['precision'])} at thr {r.op_threshold:g} | best R>=32 @P>=.85 "
          f"{_f(o['best_recall_ge32_at_p85'])} (thr {_f(o['threshold_best'])}, prec {_f(o['precision_best'])}) "
          f"| best R>=32 @P>=.90 {_f(o['best_recall_ge32_at_p90'])} (thr {_f(o['threshold_best_p90'])}) | AP {_f(o['ap'])}")
    print(f"  ms/image (decode included, mean of {n_timed}): {ms}")
    pl = r.figures["photo_level"]
    print(f"  photos ({pl['photos_with_face']} with a face >= 32 px): at least one found {_f(pl['at_least_one_found'])} "
          f"({pl['missed_photos']} reported face-free), all found {_f(pl['all_found'])}; "
          f"photos whose only detections are false: {_f(pl['false_alarm_only_photos'])}")
    if "size_sweep" in r.figures:
        print("  size sweep (face px: recall / mean IoU of found boxes): " + ", ".join(
            f"{k} {_f(v['recall'])}/{_f(v['mean_iou_found'])}" for k, v in r.figures["size_sweep"].items()))
    if "orientation_sweep" in r.figures:
        print("  orientation sweep, no EXIF (deg: recall >= 64 px / >= 32 / precision / photos with a face >= 64 px "
              "where one is found / ms): " + ", ".join(
                  f"{k} {_f(v['recall_ge64'])}/{_f(v['recall_ge32'])}/{_f(v['precision'])}/"
                  f"{_f(v['at_least_one_found'])}/{v['ms']:.0f}" for k, v in r.figures["orientation_sweep"].items()))
    alarms = ", ".join(f"{n} x{v['count']} (max {v['max_score']})" for n, v in ff["images_with_alarms"].items())
    print(f"  face-free ({ff['images']} images): {ff['detections']} false alarms, "
          f"{ff['per_image']:.3f}/image, photos with an alarm {_f(ff['photos_with_alarms'])}"
          f"{': ' + alarms if alarms else ''}")
    for line in ff["skipped"]:
        print(f"  face-free skipped {line}")
    cost = r.figures.get("rotated_pass_cost")
    if cost:
        print(f"  rotated passes on face-free photos (all three run there; bounded by 3 copies of at most 1 MP): "
              f"{cost['ms_with']:.0f} ms per photo with them, {cost['ms_without']:.0f} without "
              f"(+{cost['ms_with'] / cost['ms_without'] - 1:.0%})")
    if o["sweep"]:
        print(f"  {'thr':>6} {'R>=32':>6} {'R>=' + str(r.min_face):>6} {'prec':>6} {'FA':>4}")
        for t, v in o["sweep"].items():
            print(f"  {float(t):>6.2f} {_f(v['recall_ge32']):>6} {_f(v['recall_ge_min_face']):>6} "
                  f"{_f(v['precision']):>6} {ff['sweep'][t]['detections']:>4}")


def print_summary(reports: list[Report]) -> None:
    print("\nsummary")
    for r in reports:
        s, o, ff = r.figures["standard"], r.figures["operating"], r.figures["face_free"]
        ms = "/".join(f"{v['mean']:.0f}" for v in r.figures["ms_per_image"].values())
        threads = "/".join(f"{k}T" for k in r.figures["ms_per_image"])
        sizes = "/".join(_f(v) for v in s["recall_by_size_at_op"].values())
        print(f"{r.detector:<10} AP {_f(s['ap'])} | R@P.90 {_f(s['recall_at_p90'])} (thr {_f(s['threshold_at_p90'])}) "
              f"| op: recall>=32 {_f(o['recall_ge32'])} prec {_f(o['precision'])} (thr {_f(r.op_threshold)}) "
              f"| best R>=32@P.85 {_f(o['best_recall_ge32_at_p85'])} (thr {_f(o['threshold_best'])}) "
              f"| sizes {sizes} | ms {threads} {ms} | FA/face-free img {ff['per_image']:.2f}")


# ----------------------------------------------------------------------------- command line

def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="Timings are wall-clock on a shared machine: compare runs made side by side.")
    p.add_argument("--set", default="wider_s400", choices=["wider_s400", "dlib_faces"], help="evaluation set in ../shared/eval")
    p.add_argument("--labels", default="labels.json", choices=["labels.json", "labels_medium.json", "labels_easy.json"],
                   help="label file of the set (WIDER hard / medium / easy protocol)")
    p.add_argument("--eval-root", type=Path, default=EVAL_ROOT, help="directory holding the sets (default ../shared/eval)")
    p.add_argument("--detector", action="append", choices=["centerface", "yunet", "cascade"],
                   help="detector to measure; repeatable (default: centerface and yunet)")
    p.add_argument("--threshold", type=float, default=0.05,
                   help="detector score threshold for the run; keep it LOW so the whole curve is measured")
    p.add_argument("--operating-threshold", type=float, default=None,
                   help="threshold for the at-threshold figures (default: the detector's threshold in bipacheck.detect.detectors)")
    p.add_argument("--sweep", default="", help="comma-separated operating thresholds to tabulate, e.g. 0.3,0.35,0.4")
    p.add_argument("--min-face", type=int, default=24, help="product min-face size (px, max of w and h)")
    p.add_argument("--no-reduce", action="store_true", help="decode at full resolution (reduce_by forced to 1)")
    p.add_argument("--reduce-by", type=float, default=None,
                   help="force this decode reduction instead of the product's reduction_for (>= 1)")
    p.add_argument("--limit", type=int, default=None, help="only the first N images of the set")
    p.add_argument("--timing-limit", type=int, default=None, help="time only the first N of those images")
    p.add_argument("--threads", default="1,2", help="thread counts to time (OpenCV or ONNX Runtime), comma-separated")
    p.add_argument("--json", type=Path, default=None, help="also write the figures to this JSON file")
    p.add_argument("--model", type=Path, default=None,
                   help="CenterFace weights to measure instead of the registry's (e.g. bench/quantize.py's INT8 model)")
    p.add_argument("--no-timing", action="store_true", help="skip the timing passes (accuracy and false alarms only)")
    p.add_argument("--single-pass", action="store_true",
                   help="the bare network at one scale, without the pyramid, tiles and rotated passes (the old default)")
    p.add_argument("--size-sweep", type=int, default=0, metavar="N",
                   help="size sweep with N real faces resized to 32..2048 px and a full 4000x3000 frame (0: off)")
    p.add_argument("--orientation-limit", type=int, default=0, metavar="N",
                   help="orientation sweep on the first N photos rotated 90/180/270 without EXIF (0: off)")
    args = p.parse_args(argv)
    try:
        args.threads = [int(t) for t in args.threads.split(",") if t.strip()]
        args.sweep = [float(t) for t in args.sweep.split(",") if t.strip()]
    except ValueError:
        p.error("--threads and --sweep take comma-separated numbers")
    if not args.threads or min(args.threads) < 1:
        p.error("--threads needs at least one count >= 1")
    if not 0 < args.threshold < 1:
        p.error("--threshold must be between 0 and 1")
    if args.sweep and min(args.sweep) < args.threshold:
        p.error("--sweep thresholds must not be below the run --threshold")
    if args.no_reduce:
        if args.reduce_by not in (None, 1.0):
            p.error("--no-reduce and --reduce-by contradict each other")
        args.reduce_by = 1.0
    if args.reduce_by is not None and args.reduce_by < 1:
        p.error("--reduce-by must be >= 1")
    args.detector = args.detector or ["centerface", "yunet"]
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    root = args.eval_root / args.set
    if not (root / args.labels).is_file():
        print(f"no evaluation data at {root / args.labels} (../shared/eval is not part of the repository); "
              "nothing to measure, skipping")
        return 0
    samples = load_set(root, args.labels, args.limit)
    face_free = face_free_images(samples)
    print(f"set {args.set}/{args.labels}: {len(samples)} images; {len(face_free)} face-free images; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (timings are noisy on a shared machine)")
    reports = []
    for name in args.detector:
        report = evaluate(name, args, samples, face_free)
        if report:
            print_report(report)
            reports.append(report)
    if reports:
        print_summary(reports)
    if args.json:
        doc = {"set": args.set, "labels": args.labels, "reduce_by": args.reduce_by, "min_face": args.min_face,
               "reports": [r.__dict__ for r in reports]}
        args.json.write_text(json.dumps(doc, indent=1, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
