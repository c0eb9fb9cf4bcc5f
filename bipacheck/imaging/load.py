"""Bytes in, upright RGB pixels out, or a typed error saying why not.

The format is sniffed from content (upload buckets store extension-less keys), the EXIF
orientation is applied (phones store photos sideways), a pixel limit guards against
decompression bombs, and large JPEGs are decoded at reduced scale when the minimum face size
allows it. Boxes found on the returned frames map back to full-resolution upright pixels by
multiplying with `LoadedImage.scale`. A frame with transparency also gives its alpha plane (a face
can be drawn in alpha alone), and with `embedded=True` the images embedded in the file (EXIF and
XMP thumbnails, MPF images, base64 images in text...) are found (imaging/previews.py).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field

import cv2
import numpy as np
from PIL import Image, ImageCms, ImageSequence, UnidentifiedImageError

from ..errors import CorruptImage, EmptyFile, TooLarge, TruncatedImage, UnsupportedFormat
from .formats import DECODED, sniff_format
from .guard import pixels_allowed
from .pngtext import without_oversized_text
from .previews import MAX_CANDIDATES, Preview, find_previews

DEFAULT_MAX_PIXELS = 200_000_000  # a 200 MP phone photo is legitimate; a 1 GP PNG is an attack
DEFAULT_MAX_FRAMES = 16
# the images a file holds besides its frames (icon sizes, PSD layers) decode at most this share of
# --max-pixels together, as embedded images do (scanning/views.py)
EMBEDDED_SHARE = 4

def _describe_non_image(data: bytes) -> str:
    head = data[:512]
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and all(c.isprintable() or c in "\r\n\t" for c in text):
        return "not an image: the file is text"
    if head[:4] == b"%PDF":
        return "not an image: the file is a PDF document"
    if head[:2] == b"PK":
        return "not an image: the file is a ZIP archive"
    return f"not a recognised image format ({', '.join(DECODED)}, or any raster format Pillow reads)"


_heif_registered = False


def _register_heif() -> bool:
    global _heif_registered
    if not _heif_registered:
        try:
            import pillow_heif
        except ImportError:
            return False
        pillow_heif.register_heif_opener()
        _heif_registered = True
    return True


@dataclass
class LoadedImage:
    frames: list[np.ndarray]  # upright RGB uint8, possibly reduced in size
    scale: float  # full-resolution pixels per returned pixel (>= 1)
    width: int  # upright full-resolution size
    height: int
    format: str
    frame_count: int  # frames in the file; more than len(frames) when capped
    warnings: list[str] = field(default_factory=list)
    # per frame: its alpha plane (uint8, same size and orientation as the frame), None when opaque
    alphas: list[np.ndarray | None] = field(default_factory=list)
    orientation: int = 1  # the EXIF orientation that turned the stored pixels upright
    previews: list[Preview] = field(default_factory=list)  # embedded images (with embedded=True)
    unexamined: list[str] = field(default_factory=list)  # blocks that could hold an embedded image, not looked into
    # per frame: the frame as a colour-managed viewer shows it (its ICC profile or PNG gamma applied),
    # None when that looks the same as the frame's own values (SHOWN_LEVELS)
    shown: list[np.ndarray | None] = field(default_factory=list)


def load_image(
    data: bytes,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    reduce_by: float = 1.0,
    max_frames: int = DEFAULT_MAX_FRAMES,
    embedded: bool = False,
) -> LoadedImage:
    """Decode `data` into upright RGB frames.

    reduce_by: how much smaller than full resolution the frames may be (the caller derives it from
    the minimum face size and the detector's smallest reliable face). JPEGs use the codec's own
    reduced decode (DCT scaling, much cheaper than decoding and resizing); other formats are
    resized after decoding. embedded: also find the images embedded in the file (previews).
    """
    if not data:
        raise EmptyFile("empty file (0 bytes)")
    fmt = sniff_format(data)
    if fmt is None:
        raise UnsupportedFormat(_describe_non_image(data))
    if fmt == "HEIF" and not _register_heif():
        raise UnsupportedFormat("HEIC/HEIF image: install pillow-heif (the [heif] extra): pip install pillow-heif")
    try:
        # our limit is explicit and checked on the declared size before decoding; Pillow's own
        # (process-wide, the host program's) only widens while this image is open
        with warnings.catch_warnings(), pixels_allowed(max_pixels):
            warnings.simplefilter("ignore")  # Pillow warns on odd EXIF; we report what matters
            return _decode(data, fmt, max_pixels, max(1.0, reduce_by), max_frames, embedded)
    except (TooLarge, CorruptImage, TruncatedImage, UnsupportedFormat):
        raise
    except Image.DecompressionBombError as exc:
        raise TooLarge(f"decompression bomb: {exc}") from None
    except UnidentifiedImageError:
        raise CorruptImage(f"{fmt} signature but the header cannot be parsed (corrupt file)") from None
    except MemoryError:
        raise TooLarge(f"{fmt} image too large to decode within this worker's memory; lower --max-pixels "
                       "or give each worker more memory") from None
    except Exception as exc:  # noqa: BLE001 - Pillow's plugins raise many types on hostile input
        # (OSError, SyntaxError, ValueError, TypeError for a TIFF without dimensions, struct.error...):
        # whatever it is, this file was not scanned, and the audit goes on to report that
        msg = str(exc) or type(exc).__name__
        if "truncated" in msg or isinstance(exc, EOFError) or "premature end" in msg.lower():
            raise TruncatedImage(f"truncated {fmt}: {msg}") from None
        raise CorruptImage(f"corrupt {fmt}: {msg}") from None


def _decode(data: bytes, fmt: str, max_pixels: int, reduce_by: float, max_frames: int,
            embedded: bool) -> LoadedImage:
    notes: list[str] = []
    original = data
    if fmt == "PNG":
        data, notes = without_oversized_text(data)
    im = Image.open(io.BytesIO(data))
    previews, unexamined = find_previews(original, fmt, _metadata(im)) if embedded else ([], [])
    if embedded and im.format in ("ICO", "ICNS"):
        entries, notes_on_entries = _icon_entries(im, max_pixels // EMBEDDED_SHARE)
        previews, unexamined = entries + previews, unexamined + notes_on_entries
    if embedded and im.format == "PSD":
        layers, notes_on_layers = _psd_layers(data, max_pixels // EMBEDDED_SHARE)
        previews, unexamined = layers + previews, unexamined + notes_on_layers
    full_w, full_h = im.size
    if full_w <= 0 or full_h <= 0:
        raise CorruptImage(f"{fmt} declares an empty size {full_w}x{full_h}")
    if full_w * full_h > max_pixels:
        raise TooLarge(
            f"{full_w}x{full_h} = {full_w * full_h:,} pixels exceeds the limit of {max_pixels:,} "
            "(possible decompression bomb; raise --max-pixels to scan it)"
        )
    orientation = exif_orientation(im, notes)
    # a JPEG's MPF images (previews, a stereo pair) are embedded images, not frames of the photo; so
    # are a PSD's layers (Pillow's frame sequence of a PSD skips its first layer: _psd_layers)
    frame_count = 1 if im.format in ("MPO", "PSD") else getattr(im, "n_frames", 1)
    if frame_count > max_frames:
        notes.append(f"only the first {max_frames} of {frame_count} frames were scanned")

    if fmt == "JPEG" and reduce_by >= 2:
        # draft() picks the largest DCT scale (1/2, 1/4, 1/8) not above full // requested, so ask for
        # exactly the floor size: one pixel more and the 1/2 scale is refused
        im.draft("RGB", (max(1, int(full_w // reduce_by)), max(1, int(full_h // reduce_by))))

    frames, alphas = [], []
    decoded_pixels = 0
    for index, frame in enumerate(ImageSequence.Iterator(im)):
        if index >= min(max_frames, frame_count):
            break
        # pages of a TIFF declare their own sizes: a small first page can hide a bomb behind it
        page_w, page_h = frame.size
        if page_w * page_h > max_pixels:
            raise TooLarge(f"frame {index + 1} is {page_w}x{page_h} = {page_w * page_h:,} pixels, over the limit "
                           f"of {max_pixels:,} (possible decompression bomb; raise --max-pixels to scan it)")
        decoded_pixels += page_w * page_h
        if frames and decoded_pixels > max_pixels:
            notes.append(f"only the first {index} of {frame_count} frames were scanned: together they reach "
                         f"the --max-pixels budget of {max_pixels:,}")
            break
        frames.append(_to_rgb_array(frame))
        alphas.append(_alpha_plane(frame))
    if not frames:
        raise CorruptImage(f"{fmt} holds no frames")

    decoded_w = frames[0].shape[1]
    target_w = max(1, round(full_w / reduce_by))
    if decoded_w > target_w * 1.05:
        target_h = max(1, round(full_h / reduce_by))
        frames = [cv2.resize(f, (target_w, target_h), interpolation=cv2.INTER_AREA) for f in frames]
        alphas = [None if a is None else cv2.resize(a, (target_w, target_h), interpolation=cv2.INTER_AREA)
                  for a in alphas]
    scale = full_w / frames[0].shape[1]
    shown = [_as_shown(f, im.info, im.mode) for f in frames]
    shown = [None if v is None else apply_orientation(v, orientation) for v in shown]
    frames = [apply_orientation(f, orientation) for f in frames]
    alphas = [None if a is None else apply_orientation(a[..., None], orientation)[..., 0] for a in alphas]
    if orientation in (5, 6, 7, 8):
        full_w, full_h = full_h, full_w
    return LoadedImage(frames, scale, full_w, full_h, fmt, frame_count, notes, alphas, orientation, previews,
                       unexamined, shown)


def _icon_entries(im: Image.Image, budget: int) -> tuple[list[Preview], list[str]]:
    """The images of an icon file other than the one Pillow opens (the largest): a file browser shows
    whichever size fits, so each is an embedded image (as PNG; the decoder checked its declared size)."""
    if im.format == "ICO":  # every entry, two of the same size too (Pillow's sizes() keeps one per size)
        keys, get = list(range(len(im.ico.entry))), im.ico.frame
        shown = im.ico.getentryindex(im.size)
    else:
        keys, get = sorted(im.icns.itersizes(), reverse=True), im.icns.getimage
        shown = next((k for k in keys if (k[0] * k[2], k[1] * k[2]) == im.size), None)
    keys = [k for k in keys if k != shown]  # the one Pillow opens is the frame, searched already
    out, notes = [], []
    for index, key in enumerate(keys):
        if index == MAX_CANDIDATES:
            notes.append(f"more than {MAX_CANDIDATES} icon images: the rest were not looked at")
            break
        name = f"icon:{key + 1}" if isinstance(key, int) else f"icon:{'x'.join(map(str, key))}"
        try:
            entry = get(key)  # a PNG entry is not decoded yet: its declared size is checked first
            budget -= entry.width * entry.height
            if budget < 0:
                notes.append(f"{name} and the icon images after it are over the pixel budget for the file's "
                             "images: not decoded")
                break
            buffer = io.BytesIO()
            entry.save(buffer, "PNG")
        except Exception as exc:  # noqa: BLE001 - a broken entry is an image nobody checked
            notes.append(f"{name} could not be decoded: {str(exc) or type(exc).__name__}")
            continue
        out.append(Preview(name, memoryview(buffer.getvalue()), certain=True))
    return out, notes


def _psd_layers(data: bytes, budget: int) -> tuple[list[Preview], list[str]]:
    """Each layer of a Photoshop file (the frame is the merged image; a layer hidden or covered in it is
    still in the file, and an editor shows it), as PNG on the canvas. Each is decoded from a fresh
    open: Pillow's PSD starts "at layer 1" while showing the merged image, so seek(1) never reads it."""
    first = Image.open(io.BytesIO(data))
    count, canvas = len(first.layers), first.width * first.height
    out, notes = [], []
    for layer in range(1, min(count, MAX_CANDIDATES) + 1):
        budget -= canvas  # each layer decodes to the whole canvas
        if budget < 0:
            notes.append(f"PSD layer {layer} and the layers after it are over the pixel budget for the file's "
                         "images: not decoded")
            break
        try:
            im = Image.open(io.BytesIO(data))
            im.frame = 0
            im.seek(layer)
            buffer = io.BytesIO()
            im.save(buffer, "PNG")
        except Exception as exc:  # noqa: BLE001 - a layer that cannot be read is a layer nobody checked
            notes.append(f"PSD layer {layer} could not be decoded: {str(exc) or type(exc).__name__}")
            continue
        out.append(Preview(f"psd-layer:{layer}", memoryview(buffer.getvalue()), certain=True))
    if count > MAX_CANDIDATES:
        notes.append(f"more than {MAX_CANDIDATES} PSD layers: the rest were not looked at")
    return out, notes


SHOWN_BLOCK = 16
SHOWN_LEVELS = 12.0  # a colour-managed view within this many grey levels of the frame in every block adds nothing
_DISPLAY_GAMMA = 2.2


def _as_shown(frame: np.ndarray, info: dict, mode: str) -> np.ndarray | None:
    """The frame as a colour-managed viewer shows it: through its RGB ICC profile to sRGB, or with its PNG
    gamma (gAMA, without a profile) undone for a 2.2 display. A profile or gamma can make values the
    detector sees as flat show a face (browsers apply both). None when there is neither, or the view
    looks the same as the frame (the frame scaled to one pixel per SHOWN_BLOCK block, converted, is
    within SHOWN_LEVELS grey levels of itself everywhere). Memory: one more frame, converted in bands."""
    icc, gamma = info.get("icc_profile"), info.get("gamma")
    if icc and icc[16:20] == b"RGB " and mode in ("RGB", "RGBA", "RGBX", "P", "PA"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            transform = ImageCms.buildTransform(source, _SRGB, "RGB", "RGB")
        except Exception:  # noqa: BLE001 - a profile nothing can read: viewers show the values as they are
            return None
        def convert(pixels):  # noqa: E306
            return np.asarray(ImageCms.applyTransform(Image.fromarray(pixels), transform))
    elif isinstance(gamma, (int, float)) and gamma > 0 and not icc and "srgb" not in info:
        lut = np.clip(np.round(255 * (np.arange(256) / 255.0) ** (1 / (gamma * _DISPLAY_GAMMA))), 0, 255)
        def convert(pixels):  # noqa: E306
            return lut.astype(np.uint8)[pixels]
    else:
        return None
    # first on the frame scaled to one pixel per block: the usual profile (sRGB, Display P3, Adobe RGB)
    # changes little, and then the frame itself is never converted
    h, w = frame.shape[:2]
    small = cv2.resize(frame, (max(1, w // SHOWN_BLOCK), max(1, h // SHOWN_BLOCK)), interpolation=cv2.INTER_AREA)
    if _most_changed(small, convert(small)) <= SHOWN_LEVELS:
        return None
    view = np.empty_like(frame)  # converted in bands of rows: no whole-frame intermediate copy
    band = max(1, _CONVERT_BAND_PIXELS // max(w, 1))
    for y in range(0, h, band):
        view[y:y + band] = convert(np.ascontiguousarray(frame[y:y + band]))
    return view


def _most_changed(a: np.ndarray, b: np.ndarray) -> float:
    """The largest grey-level difference between two (small) RGB pictures."""
    diff = np.abs(cv2.cvtColor(np.ascontiguousarray(a), cv2.COLOR_RGB2GRAY).astype(np.float32)
                  - cv2.cvtColor(np.ascontiguousarray(b), cv2.COLOR_RGB2GRAY).astype(np.float32))
    return float(diff.max())


def _metadata(im: Image.Image) -> dict:
    """What Pillow read of the file's metadata (for formats whose blocks previews.py does not walk)."""
    info = dict(im.info)
    tags = getattr(im, "tag_v2", None)
    if tags is not None:
        info["tiff_tags"] = dict(tags)
        try:
            info["exif_ifd"] = dict(im.getexif().get_ifd(0x8769))  # the EXIF IFD: maker notes, comments
        except Exception:  # noqa: BLE001 - a broken EXIF IFD hides nothing a decoder shows
            pass
    return info


_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
_ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")


def _alpha_plane(frame: Image.Image) -> np.ndarray | None:
    """The frame's alpha (uint8, converted in bands like the colour), None when it has none or it is
    opaque everywhere: then nothing can hide in it."""
    mode = frame.mode
    if mode not in _ALPHA_MODES and "transparency" not in frame.info:
        return None
    transparent = frame.info.get("transparency") if mode in _HIGH_DEPTH else None
    if mode in _HIGH_DEPTH and not isinstance(transparent, int):
        return None
    w, h = frame.size
    out = np.empty((h, w), np.uint8)
    band = max(1, _CONVERT_BAND_PIXELS // max(w, 1))
    for y in range(0, h, band):
        part = frame.crop((0, y, w, min(h, y + band)))
        if transparent is not None:  # a 16-bit grey level shown as transparent (PNG tRNS): a shape in it is seen
            out[y:y + band] = np.where(np.asarray(part) == transparent, 0, 255).astype(np.uint8)
        else:
            out[y:y + band] = np.asarray(part.convert("RGBA"), dtype=np.uint8)[..., 3]
    return None if out.min() == 255 else out


def exif_orientation(im: Image.Image, notes: list[str]) -> int:
    try:
        value = im.getexif().get(0x0112, 1)
    except Exception as exc:  # a corrupt EXIF block must not cost us the pixels
        notes.append(f"EXIF block unreadable ({type(exc).__name__}); orientation assumed upright")
        return 1
    if isinstance(value, (tuple, list)):
        value = value[0] if value else 1
    try:
        value = int(value)
    except (TypeError, ValueError):
        value = 1
    if value not in range(1, 9):
        notes.append(f"invalid EXIF orientation {value!r}; assumed upright")
        return 1
    return value


# Frames are converted to RGB in bands of rows this large, so a huge frame exists only once in its
# own mode and once as the result (never also as an RGBA/RGB Pillow copy or as float64).
_CONVERT_BAND_PIXELS = 4_000_000
_HIGH_DEPTH = ("I;16", "I;16B", "I;16L", "I;16N", "I", "F")


def _to_rgb_array(frame: Image.Image) -> np.ndarray:
    mode = frame.mode
    if mode == "RGB":
        return np.asarray(frame, dtype=np.uint8)
    # 16/32-bit greyscale: stretched to 8 bits by the frame's own range, not clipped at 255
    lo, hi = (float(v) for v in frame.getextrema()) if mode in _HIGH_DEPTH else (0.0, 0.0)
    w, h = frame.size
    out = np.empty((h, w, 3), np.uint8)
    band = max(1, _CONVERT_BAND_PIXELS // max(w, 1))
    for y in range(0, h, band):
        part = frame.crop((0, y, w, min(h, y + band)))
        if mode in _HIGH_DEPTH:
            arr = np.asarray(part, dtype=np.float64)
            grey = np.zeros(arr.shape, np.uint8) if hi <= lo else ((arr - lo) * (255.0 / (hi - lo))).astype(np.uint8)
            out[y:y + band] = grey[..., None]
        else:
            rgb = part.convert("RGBA").convert("RGB") if mode in ("P", "PA", "LA") else part.convert("RGB")
            out[y:y + band] = np.asarray(rgb, dtype=np.uint8)
    return out


def apply_orientation(arr: np.ndarray, orientation: int) -> np.ndarray:
    """Rotate/flip stored pixels into the upright view that EXIF orientation describes."""
    if orientation == 2:
        arr = arr[:, ::-1]
    elif orientation == 3:
        arr = arr[::-1, ::-1]
    elif orientation == 4:
        arr = arr[::-1, :]
    elif orientation == 5:
        arr = arr.transpose(1, 0, 2)
    elif orientation == 6:
        arr = np.rot90(arr, k=-1)
    elif orientation == 7:
        arr = arr.transpose(1, 0, 2)[::-1, ::-1]
    elif orientation == 8:
        arr = np.rot90(arr, k=1)
    return np.ascontiguousarray(arr)
