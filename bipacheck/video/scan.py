"""One video in, its face tracks and a statement of what was scanned out.

    scan = scan_video("clip.mp4", detector, VideoSettings(interval_s=1.0))
    scan.tracks      # one FaceTrack per face on screen: start_s, end_s, best time, box and score
    scan.coverage    # what part of the video was scanned; `complete` is False when any part was not

A video that cannot be scanned at all raises an ImageError subclass with a stable `reason`
(bipacheck.video.errors). A video scanned in part (a cap, a truncated or damaged stream, a time
budget) returns normally with `coverage.complete == False`, `coverage.stopped_by` a stable code
and `coverage.unscanned` the time ranges never seen: the product fails closed, so a caller must
report those ranges as unscanned, never as free of faces.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass, field

import cv2

from ..detect.base import Detector, Face
from .decode import DecodeLimits, open_video
from .sampling import Sampler, sample_frames
from .tracks import FaceTrack, Tracker, TrackerSettings

DEFAULT_MIN_FACE = 24  # the photo scan's default (smallest face reported, max of w and h, in video pixels)


@dataclass(frozen=True)
class VideoSettings:
    interval_s: float = 1.0  # a face on screen longer than this is sampled at least twice (sampling.py)
    max_pixels: int = 40_000_000  # per frame (8K UHD is 33 MP)
    max_duration_s: float | None = 3600.0  # presentation time scanned; the rest is reported unscanned
    max_samples: int | None = 10_000  # detector runs; about 80 minutes at the default interval
    # a cut: consecutive frames' 64-px grey thumbnails differ by more than this share of full scale on
    # average (test scenes: a hard cut .13, panning .03-.04, a face appearing .07)
    scene_threshold: float | None = 0.1
    min_face: int = DEFAULT_MIN_FACE
    max_gap_s: float | None = None  # a track survives this long unseen; None: interval_s
    time_budget_s: float | None = 7200.0  # wall clock for the whole scan, decode and detection
    threads: int = 1  # decoder threads

    def __post_init__(self):
        if not (isinstance(self.interval_s, (int, float)) and math.isfinite(self.interval_s) and self.interval_s > 0):
            raise ValueError(f"interval_s must be a positive number of seconds, got {self.interval_s!r}")
        if self.max_samples is not None and self.max_samples < 1:
            raise ValueError("max_samples must be at least 1")
        if self.max_duration_s is not None and not self.max_duration_s > 0:
            raise ValueError("max_duration_s must be positive")

    def limits(self) -> DecodeLimits:
        return DecodeLimits(max_pixels=self.max_pixels, max_duration_s=self.max_duration_s,
                            time_budget_s=self.time_budget_s, threads=self.threads)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Coverage:
    scanned_from_s: float
    scanned_to_s: float
    duration_s: float | None  # declared; None when the file does not say
    complete: bool  # the whole video was scanned: every frame decoded, sampled by the rule below
    stopped_by: str  # "end", or why decoding stopped early (bipacheck.video.decode.VideoReader)
    detail: str
    # time ranges never decoded, (from_s, to_s or None for "to the end", reason)
    unscanned: tuple[tuple[float, float | None, str], ...]
    unscanned_streams: int  # further video streams not decoded
    interval_s: float  # the sampling guarantee's interval
    max_sample_gap_s: float  # largest gap between samples that are not adjacent frames (<= interval / 2)

    @property
    def statement(self) -> str:
        whole = f" of {self.duration_s:.2f} s" if self.duration_s is not None else ""
        text = (f"scanned {self.scanned_from_s:.2f}-{self.scanned_to_s:.2f} s{whole}; samples at most "
                f"{self.interval_s / 2:g} s apart (measured {self.max_sample_gap_s:.2f} s; frames further apart "
                f"are each a sample): a face on screen for more than {self.interval_s / 2:g} s is in at least one "
                f"sample, for more than {self.interval_s:g} s in two")
        if self.complete:
            return text + "; complete"
        gaps = "; ".join(f"{a:.2f}-{'end' if b is None else f'{b:.2f}'} s ({why})" for a, b, why in self.unscanned)
        text += f"; INCOMPLETE ({self.stopped_by}: {self.detail})"
        if gaps:
            text += f"; not scanned: {gaps}"
        if self.unscanned_streams:
            text += f"; {self.unscanned_streams} further video stream(s) not scanned"
        return text

    def as_dict(self) -> dict:
        return {"scanned_from_s": round(self.scanned_from_s, 3), "scanned_to_s": round(self.scanned_to_s, 3),
                "duration_s": None if self.duration_s is None else round(self.duration_s, 3),
                "complete": self.complete, "stopped_by": self.stopped_by, "detail": self.detail,
                "unscanned": [{"from_s": round(a, 3), "to_s": None if b is None else round(b, 3), "reason": why}
                              for a, b, why in self.unscanned],
                "unscanned_streams": self.unscanned_streams, "interval_s": self.interval_s,
                "max_sample_gap_s": round(self.max_sample_gap_s, 3), "statement": self.statement}


@dataclass
class VideoScan:
    format: str
    codec: str
    width: int  # upright, after the display rotation
    height: int
    rotation: int  # degrees clockwise the stored pixels were turned
    duration_s: float | None
    size: int | None
    frames_decoded: int
    samples: int
    tracks: list[FaceTrack]
    coverage: Coverage
    samples_by_reason: dict[str, int] = field(default_factory=dict)
    cuts: list[float] = field(default_factory=list)  # scene-change times
    warnings: list[str] = field(default_factory=list)
    settings: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"format": self.format, "codec": self.codec, "width": self.width, "height": self.height,
                "rotation": self.rotation, "duration_s": self.duration_s, "size": self.size,
                "frames_decoded": self.frames_decoded, "samples": self.samples,
                "samples_by_reason": dict(self.samples_by_reason), "cuts": [round(c, 3) for c in self.cuts],
                "tracks": [t.as_dict() for t in self.tracks], "coverage": self.coverage.as_dict(),
                "warnings": list(self.warnings), "settings": dict(self.settings)}


def reduction_for(detector: Detector, min_face: int) -> float:
    """How far a frame may shrink so that a face of `min_face` video pixels stays detectable
    (the photo scan's rule)."""
    return max(1.0, min_face / detector.min_reliable_face)


def scan_video(source, detector: Detector, settings: VideoSettings = VideoSettings()) -> VideoScan:
    """Scan a video: a path, bytes, or a binary file object (read as a stream, never whole).

    Raises an ImageError subclass when nothing could be scanned; otherwise returns a VideoScan
    whose coverage says what was (and was not) scanned."""
    sampler = Sampler(settings.interval_s, settings.scene_threshold)
    tracker = Tracker(TrackerSettings(max_gap_s=settings.interval_s if settings.max_gap_s is None
                                      else settings.max_gap_s))
    reduce_by = reduction_for(detector, settings.min_face)
    reasons: Counter[str] = Counter()
    stopped_by, detail = None, ""
    last_sample_s = 0.0
    with open_video(source, settings.limits()) as reader:
        for sample in sample_frames(reader.frames(), sampler):
            try:
                faces = _detect(detector, sample.frame.rgb(), reduce_by, settings.min_face)
            except MemoryError:
                stopped_by, detail = "too-large", f"out of memory detecting faces at {sample.time_s:.2f} s"
                break
            finally:
                sample.frame.release()
            tracker.add(sample.time_s, faces, sample.shot)
            reasons[sample.why] += 1
            last_sample_s = sample.time_s
            if settings.max_samples is not None and sum(reasons.values()) >= settings.max_samples:
                if sample.why != "last":
                    stopped_by, detail = "max-samples", f"stopped at the cap of {settings.max_samples:,} samples"
                break
        info = reader.info
        if stopped_by is None:
            stopped_by, detail = reader.stop, reader.stop_detail
            scanned_to = reader.end_s
        else:
            scanned_to = last_sample_s
        if stopped_by == "end" and info.duration_s is not None:
            scanned_to = max(scanned_to, info.duration_s) if info.duration_s - scanned_to < 1.0 else scanned_to
        unscanned = list(reader.unscanned)
        if stopped_by != "end":
            end = info.duration_s if info.duration_s is not None and info.duration_s > scanned_to else None
            unscanned.append((scanned_to, end, stopped_by))
        warnings = list(reader.warnings)
        frames_decoded = reader.frames_decoded
    tracks = tracker.finish(0.0, scanned_to)
    coverage = Coverage(0.0, scanned_to, info.duration_s,
                        stopped_by == "end" and not unscanned and not info.other_video_streams,
                        stopped_by, detail, tuple(unscanned), info.other_video_streams,
                        settings.interval_s, sampler.max_gap_s)
    return VideoScan(info.format, info.codec, info.width, info.height, info.rotation, info.duration_s, info.size,
                     frames_decoded, sum(reasons.values()), tracks, coverage, dict(reasons), list(sampler.cuts),
                     warnings, {**settings.as_dict(), "detector": detector.settings()})


def _detect(detector: Detector, rgb, reduce_by: float, min_face: int) -> list[Face]:
    h, w = rgb.shape[:2]
    if reduce_by > 1:
        small = cv2.resize(rgb, (max(1, round(w / reduce_by)), max(1, round(h / reduce_by))),
                           interpolation=cv2.INTER_AREA)
        faces = [f.scaled(w / small.shape[1]) for f in detector.detect(small)]
    else:
        faces = detector.detect(rgb)
    kept = []
    for f in faces:
        x, y = max(0, min(f.x, w - 1)), max(0, min(f.y, h - 1))
        fw, fh = min(f.w, w - x), min(f.h, h - y)
        if max(fw, fh) >= min_face:
            kept.append(Face(x, y, fw, fh, f.score, f.found_by))
    return kept
