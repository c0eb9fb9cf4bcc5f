"""Would a second look at low-margin faces turn false violations into `review`? (issue 22)

Each face the default detector reports with a score in [operating threshold, --upper) is scored
again by CenterFace on a square crop twice the box's size, resized to --side px (the cascade's
scorer, bipacheck.detect.cascade). A face whose second score is under --cut would be demoted
to `review` (BIPACHECK-LOW-CONFIDENCE: still reported, never dropped). Tabulated against no
second look, on the same detections:

* recall of faces >= 32 px that stay violations, and their precision (wider_s400, operating
  protocol of bench/detection.py: labelled faces under --min-face are ignore boxes);
* the best such recall at precision >= .90;
* face-free photos (bench/detection.py's set: scenes, animals, crops of people without a
  labelled face) with at least one face left as a violation; each alarm is listed with its
  scores, so a reader can see what the second look removes and what it cannot.

    python bench/second_look.py [--limit N] [--upper 0.4,0.5,0.6] [--side 96,128,192] [--cut 0.1,0.2,0.3]

Exits 0 with a message when ../shared is absent.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import detection  # noqa: E402  (bench/detection.py: the sets and the matching)

DEMOTED = 0.01  # a demoted face's score in the tables: below every operating threshold


def second_scores(rgb: np.ndarray, face, verifier, sides: list[int]) -> list[float]:
    """CenterFace's best score for a box overlapping the face's, on a crop at each side (turned
    back upright first when a turned view found the face)."""
    from bipacheck.detect import cascade
    from bipacheck.detect.base import iou

    scores = []
    for side in sides:
        cascade.CROP_SIDE = side  # _crop reads the module constant
        crop, (x0, y0, scale) = cascade._crop(rgb, face)
        w, h = face.w / scale, face.h / scale
        turns = int(face.found_by.split("-")[1]) // 90 if face.found_by.startswith("rotated") else 0
        if turns:
            crop = np.ascontiguousarray(np.rot90(crop, turns))
            w, h = (h, w) if turns % 2 else (w, h)
        expected = [side / 2 - w / 2, side / 2 - h / 2, w, h]  # the crop is centred on the face
        scores.append(max((f.score for f in verifier.detect(crop) if iou(f.box, expected) >= cascade.MATCH),
                          default=0.0))
    return scores


class Recording:
    """The product's detector, recording the second scores of every face it returns."""

    def __init__(self, inner, verifier, sides: list[int], lowest: float):
        self.inner, self.verifier, self.sides, self.lowest = inner, verifier, sides, lowest
        for name in ("name", "min_reliable_face", "threshold", "runtime", "network"):
            setattr(self, name, getattr(inner, name))
        self.seen: dict[float, list[float]] = {}

    def settings(self) -> dict:
        return self.inner.settings()

    def detect(self, rgb: np.ndarray):
        faces = self.inner.detect(rgb)
        for f in faces:
            if f.score >= self.lowest:  # keyed by score: the scan scales boxes, never scores
                self.seen[round(f.score, 6)] = second_scores(rgb, f, self.verifier, self.sides)
        return faces


def scan(items, recording, min_face: int) -> list[tuple[np.ndarray, dict]]:
    """Per item: the reported faces (x, y, w, h, score) and their second scores by score."""
    from bipacheck.scanning.scan import PhotoScan, ScanSettings, scan_bytes

    out = []
    with detection.decode_reduction(min_face, None):  # decoded as the product decodes at min_face
        for name, data in items:
            recording.seen = {}
            result = scan_bytes(data, name, name, recording, ScanSettings(min_face=1))
            faces = result.faces if isinstance(result, PhotoScan) else []
            out.append((np.array([[*f.box, f.score] for f in faces], float).reshape(-1, 5), dict(recording.seen)))
    return out


def demoted(scanned, op: float, upper: float, side_index: int | None, cut: float) -> list[np.ndarray]:
    rows = []
    for faces, seen in scanned:
        faces = faces.copy()
        if side_index is not None:
            for row in faces:
                again = seen.get(round(row[4], 6))
                if again is not None and op <= row[4] < upper and again[side_index] < cut:
                    row[4] = DEMOTED
        rows.append(faces)
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--limit", type=int, default=None, help="only the first N photos of wider_s400")
    p.add_argument("--min-face", type=int, default=24)
    p.add_argument("--upper", default="0.4,0.5,0.6", help="faces scoring under this get a second look")
    p.add_argument("--side", default="96,128,192", help="crop sides (px) for the second look")
    p.add_argument("--cut", default="0.1,0.2,0.3", help="a second score under this demotes to review")
    args = p.parse_args(argv)
    root = detection.EVAL_ROOT / "wider_s400"
    if not (root / "labels.json").is_file():
        print(f"no evaluation data at {root} (../shared/eval is not part of the repository); skipping")
        return 0
    from bipacheck.detect import centerface
    from bipacheck.detect.detectors import create_detector, default_threshold
    from bipacheck.detect.runtime import default_runtime

    uppers, cuts = [float(x) for x in args.upper.split(",")], [float(x) for x in args.cut.split(",")]
    sides = [int(x) for x in args.side.split(",")]
    op = default_threshold("centerface")
    recording = Recording(create_detector("centerface", 0.05), centerface.build(0.02, default_runtime()), sides, op)
    samples = detection.load_set(root, "labels.json", args.limit)
    face_free = detection.face_free_images(samples)
    start = time.perf_counter()
    free = scan(face_free, recording, args.min_face)
    photos = scan([(str(s.path), s.path.read_bytes()) for s in samples], recording, args.min_face)
    print(f"{len(samples)} photos, {len(face_free)} face-free images, {time.perf_counter() - start:.0f} s; "
          f"CenterFace at {op}, min-face {args.min_face}")

    def figures(upper, side_index, cut):
        m = detection.match_all(samples, demoted(photos, op, upper, side_index, cut),
                                min_face=args.min_face)
        recall, precision = m.at(op, detection.BIG_FACE)
        r90 = detection.best_recall_at_precision(m, 0.90, detection.BIG_FACE)[0]
        alarms = sum(bool(((d[:, 4] >= op) & (np.maximum(d[:, 2], d[:, 3]) >= args.min_face)).any())
                     for d in demoted(free, op, upper, side_index, cut))
        return recall, precision, r90, alarms

    print("\n| second look | recall >= 32 px left as violations / precision | best recall at P >= .90 | "
          "face-free photos with a violation |\n|---|---|---|---|")
    r, pr, r90, fa = figures(0, None, 0)
    print(f"| none | {r:.3f} / {pr:.3f} | {r90:.3f} | {fa} of {len(free)} |")
    for upper in uppers:
        for i, side in enumerate(sides):
            for cut in cuts:
                r, pr, r90, fa = figures(upper, i, cut)
                print(f"| under {upper:g}, {side} px crop, cut {cut:g} | {r:.3f} / {pr:.3f} | {r90:.3f} | "
                      f"{fa} of {len(free)} |")
    print("\nface-free alarms (score; second scores at " + ", ".join(f"{s} px" for s in sides) + "):")
    for (name, _), (faces, seen) in zip(face_free, free):
        for row in faces[(faces[:, 4] >= op) & (np.maximum(faces[:, 2], faces[:, 3]) >= args.min_face)]:
            again = seen.get(round(row[4], 6), [])
            print(f"  {name}: {row[4]:.2f}; " + ", ".join(f"{x:.2f}" for x in again))
    return 0


if __name__ == "__main__":
    sys.exit(main())
