"""Detections in successive samples linked into face tracks: boxes, times and scores only.

No appearance is compared (no crops, templates or embeddings: bipacheck never derives face
geometry): a detection continues a track when its box overlaps the track's predicted box
(IoU >= `min_iou`) or, failing that, when its centre is near the predicted centre (within
`max_centre_distance` of the larger box side) and its size is within a factor of 2. The prediction
moves the track's last box with the velocity of its last two observations. Pairs are taken greedily,
best first. A track survives `max_gap_s` of samples without its face (a blink of the detector, a
head turned away) and never spans a scene cut (`Sample.shot`). Two people crossing may swap tracks:
that changes which record a box belongs to, never whether a face is reported.

Times: `first_seen_s`/`last_seen_s` are the first and last samples the face was found in.
`start_s`/`end_s` estimate when it came on and went off screen: halfway to the neighbouring sample
where it was not found (so the estimate is off by at most half the gap between samples, interval / 4
with the default sampling, when the detector finds the face in every frame it is in), clamped to the
scanned range. `may_start_s`/`may_end_s` are the neighbouring samples themselves: the face may be on
screen anywhere in between, and redaction obscures that whole span (`box_at(t, envelope=True)`).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..detect.base import Face, iou


@dataclass(frozen=True)
class TrackPoint:
    time_s: float
    box: tuple[int, int, int, int]  # x, y, w, h in upright full-resolution video pixels
    score: float
    found_by: str = "upright"


@dataclass
class FaceTrack:
    track_id: int
    shot: int
    points: list[TrackPoint] = field(default_factory=list)
    # filled by finish(): neighbouring sample times where the face was not found (None: scan edge)
    start_s: float = 0.0
    end_s: float = 0.0
    may_start_s: float = 0.0
    may_end_s: float = 0.0

    @property
    def first_seen_s(self) -> float:
        return self.points[0].time_s

    @property
    def last_seen_s(self) -> float:
        return self.points[-1].time_s

    @property
    def samples(self) -> int:
        return len(self.points)

    @property
    def best(self) -> TrackPoint:
        """The highest-scoring observation (the earliest among equals)."""
        return max(self.points, key=lambda p: (p.score, -p.time_s))

    @property
    def best_time_s(self) -> float:
        return self.best.time_s

    @property
    def best_box(self) -> tuple[int, int, int, int]:
        return self.best.box

    @property
    def best_score(self) -> float:
        return self.best.score

    def box_at(self, t: float, envelope: bool = False) -> tuple[int, int, int, int] | None:
        """The face's box at time t: interpolated linearly between the samples it was found in, the
        nearest observed box before the first and after the last. None outside [first_seen, last_seen],
        or with envelope=True outside [may_start_s, may_end_s] (the span redaction must cover)."""
        lo, hi = (self.may_start_s, self.may_end_s) if envelope else (self.first_seen_s, self.last_seen_s)
        if not lo <= t <= hi:
            return None
        pts = self.points
        if t <= pts[0].time_s:
            return pts[0].box
        if t >= pts[-1].time_s:
            return pts[-1].box
        times = [p.time_s for p in pts]
        i = bisect.bisect_right(times, t)
        a, b = pts[i - 1], pts[i]
        span = b.time_s - a.time_s
        f = 0.0 if span <= 0 else (t - a.time_s) / span
        return tuple(round(u + (v - u) * f) for u, v in zip(a.box, b.box))  # type: ignore[return-value]

    def as_dict(self) -> dict:
        best = self.best
        return {"track": self.track_id, "start_s": round(self.start_s, 3), "end_s": round(self.end_s, 3),
                "first_seen_s": round(self.first_seen_s, 3), "last_seen_s": round(self.last_seen_s, 3),
                "may_start_s": round(self.may_start_s, 3), "may_end_s": round(self.may_end_s, 3),
                "best_time_s": round(best.time_s, 3), "box": list(best.box), "score": round(best.score, 4),
                "found_by": best.found_by, "samples": self.samples}

    def to_record(self) -> dict:
        """Everything the track holds (its observations too), as JSON-ready values: what a scan cache
        stores. `from_record` gives the same track back."""
        return {"track": self.track_id, "shot": self.shot, "start_s": self.start_s, "end_s": self.end_s,
                "may_start_s": self.may_start_s, "may_end_s": self.may_end_s,
                "points": [[p.time_s, *p.box, p.score, p.found_by] for p in self.points]}

    @classmethod
    def from_record(cls, data: dict) -> "FaceTrack":
        points = [TrackPoint(float(t), (int(x), int(y), int(w), int(h)), float(score), str(found_by))
                  for t, x, y, w, h, score, found_by in data["points"]]
        return cls(int(data["track"]), int(data["shot"]), points, float(data["start_s"]), float(data["end_s"]),
                   float(data["may_start_s"]), float(data["may_end_s"]))


@dataclass(frozen=True)
class TrackerSettings:
    min_iou: float = 0.2
    max_centre_distance: float = 0.75  # of the larger box side, measured from the predicted centre
    max_size_ratio: float = 2.0
    max_gap_s: float = 1.0  # a track ends when its face is missing for longer than this


class Tracker:
    """Feed each sample's detections in time order (`add`), then `finish` with the scanned range."""

    def __init__(self, settings: TrackerSettings = TrackerSettings()):
        self.settings = settings
        self._active: list[FaceTrack] = []
        self._done: list[FaceTrack] = []
        self._times: list[float] = []  # every sample time, faces or not
        self._next_id = 0

    def add(self, time_s: float, faces: Sequence[Face], shot: int = 0) -> None:
        s = self.settings
        self._times.append(time_s)
        still = []
        for track in self._active:
            if track.shot != shot or time_s - track.last_seen_s > s.max_gap_s:
                self._done.append(track)
            else:
                still.append(track)
        self._active = still
        pairs = []
        for ti, track in enumerate(self._active):
            pred = _predict(track, time_s)
            for fi, face in enumerate(faces):
                cost = _cost(pred, face.box, s)
                if cost is not None:
                    pairs.append((cost, ti, fi))
        pairs.sort()
        used_t, used_f = set(), set()
        for _, ti, fi in pairs:
            if ti in used_t or fi in used_f:
                continue
            used_t.add(ti)
            used_f.add(fi)
            self._active[ti].points.append(_point(time_s, faces[fi]))
        for fi, face in enumerate(faces):
            if fi not in used_f:
                track = FaceTrack(self._next_id, shot, [_point(time_s, face)])
                self._next_id += 1
                self._active.append(track)

    def finish(self, scanned_from_s: float, scanned_to_s: float) -> list[FaceTrack]:
        """All tracks, by start time, with their start/end estimates inside [scanned_from_s, scanned_to_s]."""
        tracks = sorted(self._done + self._active, key=lambda t: (t.first_seen_s, t.track_id))
        self._done, self._active = [], []
        times = self._times
        for new_id, track in enumerate(tracks):
            track.track_id = new_id
            i = bisect.bisect_left(times, track.first_seen_s)
            j = bisect.bisect_right(times, track.last_seen_s)
            before = times[i - 1] if i > 0 else None
            after = times[j] if j < len(times) else None
            track.may_start_s = scanned_from_s if before is None else before
            track.may_end_s = scanned_to_s if after is None else after
            # an edge sample: the face is in the first (last) frame scanned, so on screen from (to) the edge
            track.start_s = scanned_from_s if before is None else (before + track.first_seen_s) / 2
            track.end_s = max(track.last_seen_s, scanned_to_s) if after is None else (track.last_seen_s + after) / 2
        return tracks


def _point(time_s: float, face: Face) -> TrackPoint:
    return TrackPoint(time_s, (face.x, face.y, face.w, face.h), float(face.score), face.found_by)


def _predict(track: FaceTrack, t: float) -> tuple[float, float, float, float]:
    last = track.points[-1]
    if len(track.points) < 2:
        return last.box
    prev = track.points[-2]
    dt = last.time_s - prev.time_s
    if dt <= 0:
        return last.box
    ahead = min(t - last.time_s, 2 * dt)  # extrapolate no further than twice the observed step
    x, y, w, h = last.box
    vx = ((last.box[0] + last.box[2] / 2) - (prev.box[0] + prev.box[2] / 2)) / dt
    vy = ((last.box[1] + last.box[3] / 2) - (prev.box[1] + prev.box[3] / 2)) / dt
    return (x + vx * ahead, y + vy * ahead, w, h)


def _cost(pred, box, s: TrackerSettings) -> float | None:
    """Lower is better; None when the detection cannot continue the track."""
    overlap = iou(list(pred), list(box))
    if overlap >= s.min_iou:
        return 1.0 - overlap
    side_p, side_b = max(pred[2], pred[3]), max(box[2], box[3])
    if side_p <= 0 or side_b <= 0 or max(side_p, side_b) / min(side_p, side_b) > s.max_size_ratio:
        return None
    cx_p, cy_p = pred[0] + pred[2] / 2, pred[1] + pred[3] / 2
    cx_b, cy_b = box[0] + box[2] / 2, box[1] + box[3] / 2
    distance = math.hypot(cx_p - cx_b, cy_p - cy_b) / max(side_p, side_b)
    if distance > s.max_centre_distance:
        return None
    return 1.0 + distance
