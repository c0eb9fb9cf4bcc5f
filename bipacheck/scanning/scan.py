"""One object in, one result out: either the faces found in it or the reason it was skipped."""

from __future__ import annotations

import hashlib
import io
import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from ..detect.base import Detector, Face, iou
from ..errors import ImageError, TooLarge, UnsupportedFormat
from ..imaging import DEFAULT_MAX_FRAMES, DEFAULT_MAX_PIXELS, load_image
from ..metadata import TagRegion, read_face_tags, sidecar_paths
from ..metadata.sidecars import PICASA_NAMES, sidecar_kind
from ..video import FaceTrack, VideoSettings, scan_video, sniff_video
from ..video.decode import SNIFF_BYTES
from .views import embedded_faces, frame_faces, hidden_only

SIDECAR_REASON = "sidecar-metadata"  # an XMP/Takeout/Picasa file: read with its photo, not a photo itself

DEFAULT_MIN_FACE = 24
DEFAULT_VIDEO_INTERVAL = 1.0  # seconds between a video's regular samples (video/sampling.py's guarantee)
# An object larger than this is not read into memory whole: it is opened as a stream (a local file
# in place; a bucket object or git blob spooled to a temporary file in blocks) and, when its first
# bytes name a video, decoded from that stream. A smaller one is read whole, as a photo always is.
WHOLE_READ_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True)
class ScanSettings:
    min_face: int = DEFAULT_MIN_FACE  # faces smaller than this (max of w, h; original pixels) are not reported
    max_pixels: int = DEFAULT_MAX_PIXELS
    max_frames: int = DEFAULT_MAX_FRAMES
    read_tags: bool = True  # face regions in the file's metadata and in sidecars next to it
    video_interval: float = DEFAULT_VIDEO_INTERVAL  # seconds between a video's regular samples

    def as_dict(self) -> dict:
        return {"min_face": self.min_face, "max_pixels": self.max_pixels, "max_frames": self.max_frames,
                "read_tags": self.read_tags, "video_interval": self.video_interval}

    def video_settings(self) -> VideoSettings:
        return VideoSettings(interval_s=self.video_interval, min_face=self.min_face)


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
    unscanned: list[str] = field(default_factory=list)  # parts of the file not scanned (embedded images)
    tags: list[TagRegion] = field(default_factory=list)  # face tags other software wrote
    tag_errors: list[str] = field(default_factory=list)  # unreadable metadata (the pixels were still scanned)
    # the listing's last-modified time (engine attaches it; not part of the scan or the cache)
    modified: datetime | None = field(default=None, compare=False)
    # where the object came from beyond its url (git history), from the listing like `modified`
    provenance: dict | None = field(default=None, compare=False)
    # sidecar name -> (change key it was listed with, what scanning it on its own gives) for the
    # sidecars read with this photo that are not images: the engine hands those on as the sidecars'
    # own results instead of reading them again (not part of the scan or the cache)
    sidecar_skips: dict[str, tuple[str, SkippedFile]] = field(default_factory=dict, compare=False, repr=False)
    kind: str = "image"  # or "video"
    # a video's facts (container, codec, duration, samples, coverage: bipacheck.video.VideoScan.as_dict
    # without its tracks); None for an image
    video: dict | None = None
    # a video's face tracks, one per face on screen, in the order of `faces` (each face is its
    # track's best observation: box and score at best_time_s)
    tracks: list[FaceTrack] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Whether every part of the object was scanned (a video's coverage; frames and embedded
        images are reported apart)."""
        return self.video is None or bool(self.video["coverage"]["complete"])


@dataclass
class SkippedFile:
    url: str
    relpath: str
    reason: str
    message: str
    sha256: str | None = None
    size: int | None = None
    provenance: dict | None = field(default=None, compare=False)


def reduction_for(detector: Detector, min_face: int) -> float:
    """How far a photo may shrink so that a face of `min_face` original pixels stays detectable."""
    return max(1.0, min_face / detector.min_reliable_face)


def scan_bytes(data: bytes, url: str, relpath: str, detector: Detector,
               settings: ScanSettings = ScanSettings(),
               sibling: Callable[[str], bytes | None] | None = None) -> PhotoScan | SkippedFile:
    """sibling: reads a file next to this one by name (for XMP/Takeout/Picasa sidecars)."""
    sha = hashlib.sha256(data).hexdigest()
    if sniff_video(data[:SNIFF_BYTES]):
        return scan_video_file(io.BytesIO(data), url, relpath, sha, len(data), detector, settings)
    image = _load(data, url, relpath, sha, detector, settings)
    if isinstance(image, SkippedFile):
        return image
    try:
        faces = _merge_frames(frame_faces(detector, image), image.scale)
        embedded = embedded_faces(image, detector, settings.max_pixels, settings.max_frames)
    except MemoryError:
        return SkippedFile(url, relpath, TooLarge.reason, f"{image.width}x{image.height} {image.format}: ran out of "
                           "memory during detection; lower --max-pixels or give each worker more memory",
                           sha, len(data))
    faces = [f for f in faces + hidden_only(embedded.faces, faces) if max(f.w, f.h) >= settings.min_face]
    faces.sort(key=lambda f: (f.y, f.x))
    scan = PhotoScan(url, relpath, sha, len(data), image.format, image.width, image.height, faces,
                     len(image.frames), image.frame_count, image.warnings + embedded.warnings, embedded.unscanned)
    if settings.read_tags:
        _read_tags(scan, data, sibling)
    return scan


def scan_video_file(stream, url: str, relpath: str, sha: str, size: int | None, detector: Detector,
                    settings: ScanSettings = ScanSettings()) -> PhotoScan | SkippedFile:
    """A video (a seekable binary file object, read as a stream) -> one face per track, with the
    tracks and the coverage; a video nothing could be scanned of (or without PyAV) -> a skip."""
    try:
        found = scan_video(stream, detector, settings.video_settings())
    except ImageError as exc:
        return SkippedFile(url, relpath, exc.reason, f"video: {exc.message}", sha, size)
    except MemoryError:
        return SkippedFile(url, relpath, TooLarge.reason, "video: ran out of memory decoding it", sha, size)
    faces = [Face(*t.best_box, t.best_score, t.best.found_by) for t in found.tracks]
    facts = found.as_dict()
    del facts["tracks"]
    return PhotoScan(url, relpath, sha, size, found.format, found.width, found.height, faces,
                     frames_scanned=found.frames_decoded, frame_count=found.frames_decoded,
                     warnings=list(found.warnings), kind="video", video=facts, tracks=list(found.tracks))


def _load(data: bytes, url: str, relpath: str, sha: str, detector: Detector, settings: ScanSettings):
    """The decoded image, or the skip that says why there is none."""
    try:
        return load_image(data, max_pixels=settings.max_pixels, max_frames=settings.max_frames,
                          reduce_by=reduction_for(detector, settings.min_face), embedded=True)
    except UnsupportedFormat as exc:
        if sidecar_kind(relpath):
            return SkippedFile(url, relpath, SIDECAR_REASON, f"metadata sidecar, read with its photo ({exc.message})",
                               sha, len(data))
        return SkippedFile(url, relpath, exc.reason, exc.message, sha, len(data))
    except ImageError as exc:
        return SkippedFile(url, relpath, exc.reason, exc.message, sha, len(data))


def _read_tags(scan: PhotoScan, data: bytes, sibling) -> None:
    sidecars, errors = {}, []
    if sibling is not None:
        for candidate in sidecar_paths(scan.relpath):
            name = posixpath.basename(candidate)
            try:
                content = sibling(name)
            except (ImageError, ValueError) as exc:
                errors.append(f"sidecar {name}: {exc}")
                continue
            if content is not None:
                sidecars[name] = content
    tags = read_face_tags(data, sidecars=sidecars, photo_name=posixpath.basename(scan.relpath))
    scan.tags = list(tags.regions)
    scan.tag_errors = errors + list(tags.errors)


def _scan_stream(stream, obj, detector: Detector, settings: ScanSettings) -> PhotoScan | SkippedFile | bytes:
    """A video's scan from an open stream (hashed in one pass, then decoded in another); the whole
    bytes when the stream is not a video (scanned as any photo, without fetching the object again)."""
    head = stream.read(SNIFF_BYTES)
    stream.seek(0)
    if not sniff_video(head):
        return stream.read()
    digest = hashlib.file_digest(stream, "sha256")
    size = stream.tell()
    stream.seek(0)
    return scan_video_file(stream, obj.url, obj.relpath, digest.hexdigest(), size, detector, settings)


def _merge_frames(per_frame: list[list[Face]], scale: float) -> list[Face]:
    """Faces of all frames (and views of them) in full-resolution pixels; a face at the same place in
    several frames of an animation, or views of a frame, is one face (the best-scoring box is kept)."""
    faces = [f.scaled(scale) if scale != 1 else f for frame in per_frame for f in frame]
    if len(per_frame) <= 1:
        return faces
    kept: list[Face] = []
    for face in sorted(faces, key=lambda f: -f.score):
        if all(iou(face.box, k.box) < 0.5 for k in kept):
            kept.append(face)
    return kept


def scan_object(obj, detector: Detector, settings: ScanSettings = ScanSettings()) -> PhotoScan | SkippedFile:
    """Read a source object (bipacheck.sources.SourceObject) and scan it. An object larger than
    WHOLE_READ_BYTES is opened as a stream; a video in it is decoded from the stream, never read whole."""
    try:
        if obj.size is not None and obj.size > WHOLE_READ_BYTES and hasattr(obj, "consume"):
            streamed = obj.consume(lambda stream: _scan_stream(stream, obj, detector, settings))
            if not isinstance(streamed, bytes):
                return streamed
            data = streamed
        else:
            data = obj.read()
    except ImageError as exc:
        return SkippedFile(obj.url, obj.relpath, exc.reason, exc.message, None, obj.size)
    if not hasattr(obj, "sibling"):
        return scan_bytes(data, obj.url, obj.relpath, detector, settings)
    read: dict[str, bytes] = {}

    def sibling(name: str) -> bytes | None:
        found = read[name] = obj.sibling(name)
        return found

    scan = scan_bytes(data, obj.url, obj.relpath, detector, settings, sibling)
    if isinstance(scan, PhotoScan):
        listed = dict(getattr(obj, "sidecars", None) or ())
        for name, content in read.items():
            if content is None or name not in listed or name in PICASA_NAMES:
                continue  # a folder's Picasa file: hashing it for every photo costs more than one read
            folder = posixpath.dirname(obj.relpath)
            skip = _load(content, name, posixpath.join(folder, name), hashlib.sha256(content).hexdigest(),
                         detector, settings)
            if isinstance(skip, SkippedFile):  # an image in a sidecar's name is scanned on its own
                scan.sidecar_skips[name] = (listed[name], skip)
    return scan
