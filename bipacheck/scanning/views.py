"""Every way a face in a file can be seen, searched: a frame's colours, its transparency over a light
and a dark background and its alpha plane on its own (a face drawn only in alpha shows on any page),
and the images embedded in the file (thumbnails, previews: imaging/previews.py).

Faces found anywhere but the frame's own colours carry `found_in`, naming the view or the place in
the file. An embedded image's faces are mapped to the photo's upright pixels (an embedded image is
taken to show the photo, scaled); one at the place of a face the photo shows is that face. An
embedded image that could not be decoded, or the budget of pixels and images running out, is named
in `unscanned`: the audit reports it as not scanned, never as clean.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import cv2
import numpy as np
from PIL import Image

from ..detect.base import Detector, Face, iou
from ..errors import ImageError, TooLarge
from ..imaging import LoadedImage, apply_orientation, load_image
from ..imaging.guard import pixels_allowed
from ..imaging.previews import HEAD

MAX_EMBEDDED = 16  # embedded images scanned per photo (nested ones included)
# Embedded images together decode at most this share of --max-pixels, while the photo's own frames
# are still held: the memory a worker needs stays within the photo's bound (README: Bad input).
EMBEDDED_SHARE = 4
MAX_DEPTH = 2  # an embedded image's own embedded images are searched; theirs are not
# An embedded image this large that shows the photo itself (within SAME_LEVELS of the photo scaled down
# to its size, both blurred) holds no face the photo's own, full-resolution search did not see:
# it is not searched again (a camera's 2 MP MPF preview would double the detector's time). Smaller ones
# (EXIF thumbnails) are always searched: it costs little.
SAME_PICTURE_MIN_PIXELS = 160_000
# Compared after a Gaussian blur of SAME_BLUR preview pixels (resampling and JPEG noise cancel out),
# every pixel within SAME_LEVELS grey levels: a face added to a copy of the photo at 6 levels of contrast,
# which the detector finds, differs by 3.5 to 4; a resized, re-encoded camera preview by 1.3 to 2.3
# (measured; the old test, 16 x 16 block means within 12 levels, passed faces up to 24 levels of contrast)
SAME_BLUR = 2.0
SAME_LEVELS = 2.5
_BAND_ROWS_PIXELS = 4_000_000


def alpha_views(frame: np.ndarray, alpha: np.ndarray) -> Iterator[tuple[str, np.ndarray]]:
    """The frame as shown over white and over black, and its alpha plane as grey: one at a time."""
    yield "alpha-over-light", _composite(frame, alpha, 255)
    yield "alpha-over-dark", _composite(frame, alpha, 0)
    yield "alpha-plane", np.repeat(alpha[..., None], 3, axis=2)


def _composite(frame: np.ndarray, alpha: np.ndarray, background: int) -> np.ndarray:
    """frame over a flat background, in bands of rows (no whole-frame 16-bit copy)."""
    out = np.empty_like(frame)
    band = max(1, _BAND_ROWS_PIXELS // max(frame.shape[1], 1))
    for y in range(0, frame.shape[0], band):
        colour = frame[y:y + band].astype(np.uint16)
        weight = alpha[y:y + band, :, None].astype(np.uint16)
        out[y:y + band] = (colour * weight + background * (255 - weight) + 127) // 255
    return out


def frame_faces(detector: Detector, image: LoadedImage) -> list[list[Face]]:
    """Faces per view of every frame (frame pixels; each alpha view's faces labelled)."""
    per_view = []
    shown = image.shown or [None] * len(image.frames)
    for frame, alpha, managed in zip(image.frames, image.alphas or [None] * len(image.frames), shown):
        per_view.append(detector.detect(frame))
        if managed is not None:  # its ICC profile or PNG gamma applied, as a browser shows it
            per_view.append([replace(f, found_in="colour-managed") for f in detector.detect(managed)])
        if alpha is not None:
            for label, view in alpha_views(frame, alpha):
                per_view.append([replace(f, found_in=label) for f in detector.detect(view)])
    return per_view


@dataclass
class Embedded:
    faces: list[Face] = field(default_factory=list)  # in the photo's upright full-resolution pixels
    warnings: list[str] = field(default_factory=list)
    unscanned: list[str] = field(default_factory=list)


def embedded_faces(image: LoadedImage, detector: Detector, max_pixels: int, max_frames: int) -> Embedded:
    """Faces in the images embedded in the file, mapped to the photo (image: loaded with embedded=True)."""
    out = Embedded(unscanned=list(image.unexamined))
    queue = [(preview, 1) for preview in image.previews]
    budget, scanned = max_pixels // EMBEDDED_SHARE, 0
    while queue:
        preview, depth = queue.pop(0)
        if scanned == MAX_EMBEDDED:
            out.unscanned.append(f"{len(queue) + 1} more embedded image(s) not scanned (at most {MAX_EMBEDDED} "
                                 "per photo)")
            break
        where = f"embedded:{preview.where}"
        if not _shows_image(preview):
            continue  # a signature by chance in binary data: not an image anyone can show
        scanned += 1
        try:
            loaded = load_image(preview.data, max_pixels=budget, max_frames=max_frames, embedded=True)
        except TooLarge as exc:
            out.unscanned.append(f"an embedded image ({preview.where}) is over the pixel budget left "
                                 f"({budget:,}): {exc.message}")
            continue
        except ImageError as exc:
            out.unscanned.append(f"an embedded image ({preview.where}) could not be decoded: {exc.message}")
            continue
        budget -= sum(f.shape[0] * f.shape[1] for f in loaded.frames)
        if depth < MAX_DEPTH:
            queue += [(p, depth + 1) for p in loaded.previews]
        elif any(_shows_image(p) for p in loaded.previews):  # past the bound: not searched, and said so
            out.unscanned.append(f"an embedded image ({preview.where}) holds images nested more than {MAX_DEPTH} "
                                 "levels deep: they were not searched")
        out.unscanned += [f"{preview.where}: {note}" for note in loaded.unexamined]
        views = [_upright(f, loaded.orientation, image.orientation) for f in loaded.frames]
        if loaded.frame_count > len(loaded.frames):
            out.unscanned.append(f"an embedded image ({preview.where}): only {len(loaded.frames)} of "
                                 f"{loaded.frame_count} frames scanned")
        if (len(views) == 1 and views[0].shape[0] * views[0].shape[1] >= SAME_PICTURE_MIN_PIXELS
                and not any(a is not None for a in loaded.alphas) and same_picture(views[0], image.frames[0])):
            out.warnings.append(f"embedded image ({preview.where}, {views[0].shape[1]}x{views[0].shape[0]}) shows "
                                "the photo itself: its faces are the photo's")
            continue
        upright = LoadedImage(views, 1.0, views[0].shape[1], views[0].shape[0], loaded.format, 1,
                              alphas=[_upright(a[..., None], loaded.orientation, image.orientation)[..., 0]
                                      if a is not None else None for a in loaded.alphas],
                              shown=[None if v is None else _upright(v, loaded.orientation, image.orientation)
                                     for v in loaded.shown])
        for faces in frame_faces(detector, upright):
            for face in faces:
                out.faces.append(_mapped(face, views[0].shape, image, where))
    return out


def _shows_image(preview) -> bool:
    """Is a possible embedded image one a viewer could show (found by structure, or a header a decoder
    takes), not a signature by chance in binary data?"""
    return preview.certain or _is_image(preview.head()) or (len(preview.raw) > HEAD and _is_image(preview.data))


def _is_image(data: bytes) -> bool:
    """Does a decoder take the header for an image's? (A carved signature in binary data does not.)"""
    try:
        with warnings.catch_warnings(), pixels_allowed(None):
            warnings.simplefilter("ignore")
            Image.open(io.BytesIO(data)).close()
    except Exception:  # noqa: BLE001 - any header a decoder rejects is not an image a viewer shows
        return False
    return True


def _upright(pixels: np.ndarray, own: int, photo: int) -> np.ndarray:
    """An embedded image in the photo's upright orientation: one without an orientation of its own
    (an EXIF thumbnail) is stored as the photo's pixels are, so the photo's orientation turns it."""
    return pixels if own != 1 else apply_orientation(pixels, photo)


def same_picture(preview: np.ndarray, frame: np.ndarray) -> bool:
    """Is `preview` the photo's frame, scaled (blurred by SAME_BLUR, every pixel within SAME_LEVELS)?"""
    ph, pw = preview.shape[:2]
    fh, fw = frame.shape[:2]
    if abs(pw / ph - fw / fh) > 0.02 * (fw / fh):
        return False
    small = cv2.resize(frame, (pw, ph), interpolation=cv2.INTER_AREA)
    grey = [cv2.GaussianBlur(cv2.cvtColor(np.ascontiguousarray(p), cv2.COLOR_RGB2GRAY).astype(np.float32), (0, 0),
                             SAME_BLUR) for p in (small, preview)]
    return float(np.abs(grey[0] - grey[1]).max()) <= SAME_LEVELS


def _mapped(face: Face, shape, image: LoadedImage, where: str) -> Face:
    """A face of an embedded image, in the photo's upright full-resolution pixels."""
    sy, sx = image.height / shape[0], image.width / shape[1]
    label = where if face.found_in is None else f"{where}:{face.found_in}"
    return replace(face, x=round(face.x * sx), y=round(face.y * sy), w=max(1, round(face.w * sx)),
                   h=max(1, round(face.h * sy)), found_in=label)


def hidden_only(embedded: list[Face], seen: list[Face], match_iou: float = 0.3) -> list[Face]:
    """The embedded images' faces the photo does not show at the same place (one per place)."""
    kept: list[Face] = []
    for face in sorted(embedded, key=lambda f: -f.score):
        if all(iou(face.box, other.box) < match_iou for other in seen + kept):
            kept.append(face)
    return kept
