"""One object in, one result out: either the faces found in it or the reason it was skipped."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from .detect.base import Detector, Face, iou
from .errors import ImageError
from .imaging import DEFAULT_MAX_FRAMES, DEFAULT_MAX_PIXELS, load_image

DEFAULT_MIN_FACE = 24


@dataclass(frozen=True)
class ScanSettings:
    min_face: int = DEFAULT_MIN_FACE  # faces smaller than this (max of w, h; original pixels) are not reported
    max_pixels: int = DEFAULT_MAX_PIXELS
    max_frames: int = DEFAULT_MAX_FRAMES

    def as_dict(self) -> dict:
        return {"min_face": self.min_face, "max_pixels": self.max_pixels, "max_frames": self.max_frames}


@dataclass
class PhotoScan:
    url: str
    relpath: str
    sha256: str
    size: int
    format: str
    width: int
    height: int
    faces: list[Face]
    frames_scanned: int = 1
    frame_count: int = 1
    warnings: list[str] = field(default_factory=list)


@dataclass
class SkippedFile:
    url: str
    relpath: str
    reason: str
    message: str
    sha256: str | None = None
    size: int | None = None


def reduction_for(detector: Detector, min_face: int) -> float:
    """How far a photo may shrink so that a face of `min_face` original pixels stays detectable."""
    return max(1.0, min_face / detector.min_reliable_face)


def scan_bytes(data: bytes, url: str, relpath: str, detector: Detector,
               settings: ScanSettings = ScanSettings()) -> PhotoScan | SkippedFile:
    sha = hashlib.sha256(data).hexdigest()
    try:
        image = load_image(data, max_pixels=settings.max_pixels, max_frames=settings.max_frames,
                           reduce_by=reduction_for(detector, settings.min_face))
    except ImageError as exc:
        return SkippedFile(url, relpath, exc.reason, exc.message, sha, len(data))
    faces = _merge_frames([detector.detect(frame) for frame in image.frames], image.scale)
    faces = [f for f in faces if max(f.w, f.h) >= settings.min_face]
    faces.sort(key=lambda f: (f.y, f.x))
    return PhotoScan(url, relpath, sha, len(data), image.format, image.width, image.height, faces,
                     len(image.frames), image.frame_count, image.warnings)


def _merge_frames(per_frame: list[list[Face]], scale: float) -> list[Face]:
    """Faces of all frames in full-resolution pixels; a face at the same place in several frames
    of an animation is one face (the best-scoring box is kept)."""
    faces = [f.scaled(scale) if scale != 1 else f for frame in per_frame for f in frame]
    if len(per_frame) <= 1:
        return faces
    kept: list[Face] = []
    for face in sorted(faces, key=lambda f: -f.score):
        if all(iou(face.box, k.box) < 0.5 for k in kept):
            kept.append(face)
    return kept


def scan_object(obj, detector: Detector, settings: ScanSettings = ScanSettings()) -> PhotoScan | SkippedFile:
    """Read a source object (bipacheck.sources.SourceObject) and scan it."""
    try:
        data = obj.read()
    except ImageError as exc:
        return SkippedFile(obj.url, obj.relpath, exc.reason, exc.message, None, obj.size)
    return scan_bytes(data, obj.url, obj.relpath, detector, settings)
