"""Image formats, by name: how each is recognised from its first bytes, the file suffixes it goes
by, and whether `redact` can write a copy of it. The loader sniffs with it, the hook and
`strip-face-tags` pick files by its suffixes, `redact` refuses what it cannot write. Adding a
format is one entry here (plus its decoder, if Pillow lacks one). Beyond these, every raster
format Pillow can open counts as an image, by content and by name: a PPM named `.dat` is scanned."""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath

from PIL import Image

from .guard import pixels_allowed

_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}


def _starts(*magics: bytes) -> Callable[[bytes], bool]:
    return lambda data: any(data.startswith(m) for m in magics)


def _iso_brand(brands: set[bytes]) -> Callable[[bytes], bool]:
    return lambda data: data[4:8] == b"ftyp" and data[8:12] in brands


@dataclass(frozen=True)
class ImageFormat:
    name: str  # as reports name it
    suffixes: tuple[str, ...]
    sniff: Callable[[bytes], bool] | None  # None: known by name only, not decoded (camera raw, PSD...)
    redactable: bool = False  # `redact` writes a copy keeping every pixel outside the faces
    extra: str | None = None  # the optional package that decodes it


FORMATS: tuple[ImageFormat, ...] = (
    ImageFormat("JPEG", (".jpg", ".jpeg", ".jpe", ".jfif"), _starts(b"\xff\xd8\xff"), redactable=True),
    ImageFormat("PNG", (".png",), _starts(b"\x89PNG\r\n\x1a\n"), redactable=True),
    ImageFormat("GIF", (".gif",), _starts(b"GIF87a", b"GIF89a")),
    ImageFormat("TIFF", (".tif", ".tiff"), _starts(b"II*\x00", b"MM\x00*")),
    ImageFormat("BMP", (".bmp",), _starts(b"BM"), redactable=True),
    ImageFormat("WEBP", (".webp",), lambda data: data[:4] == b"RIFF" and data[8:12] == b"WEBP", redactable=True),
    ImageFormat("AVIF", (".avif",), _iso_brand(_AVIF_BRANDS)),
    ImageFormat("HEIF", (".heic", ".heif"), _iso_brand(_HEIF_BRANDS), extra="pillow-heif (the [heif] extra)"),
    # images by name that are not decoded: a file named so is never passed over as "not an image"
    ImageFormat("RAW", (".dng", ".cr2", ".cr3", ".nef", ".arw", ".orf", ".rw2", ".raf", ".raw"), None),
    ImageFormat("PSD", (".psd",), None),
    ImageFormat("JXL", (".jxl",), None),
    ImageFormat("SVG", (".svg",), None),
)
BY_NAME = {f.name: f for f in FORMATS}
DECODED = tuple(f.name for f in FORMATS if f.sniff is not None)


# What Pillow opens or names but bipacheck does not take for a photo: documents (PDF, PostScript),
# scientific data (HDF5, BUFR, GRIB), video (MPEG) and vector metafiles (WMF/EMF). Pillow only
# identifies most of them (or needs Ghostscript), so a committed PDF or .h5 file passes the hook as
# source code does, instead of blocking it as an image nobody could scan. (Faces inside documents
# and videos are outside what bipacheck checks; README says so.)
NOT_PHOTOS = frozenset({"PDF", "EPS", "HDF5", "BUFR", "GRIB", "MPEG", "WMF"})


def pillow_format(data: bytes) -> str | None:
    """The raster format one of Pillow's plugins recognises in the file's header (Pillow checks the
    header, so text and other files are not mistaken for images), or None."""
    try:
        # the declared size is checked by the loader with --max-pixels; here no size is refused
        with warnings.catch_warnings(), pixels_allowed(None):
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as im:
                name = im.format
    except Exception:  # noqa: BLE001 - whatever a plugin raises on a header it rejects: not its format
        return None
    return None if name in NOT_PHOTOS else name


def sniff_format(data: bytes) -> str | None:
    """The image format named by the file's leading bytes (ours first, then any of Pillow's), or None."""
    for fmt in FORMATS:
        if fmt.sniff is not None and fmt.sniff(data):
            return fmt.name
    return pillow_format(data)


def image_suffixes() -> frozenset[str]:
    return frozenset(s for f in FORMATS for s in f.suffixes)


def named_like_image(name: str) -> bool:
    """Does the file name say "image": one of ours, or a raster format Pillow can open (not a format
    it only writes, such as PDF, nor one of NOT_PHOTOS)?"""
    suffix = PurePosixPath(name.lower()).suffix
    if not suffix:
        return False
    if suffix in image_suffixes():
        return True
    Image.init()  # every plugin registered, not just the common ones
    pillow = Image.registered_extensions().get(suffix)
    return pillow is not None and pillow not in NOT_PHOTOS and (pillow in Image.OPEN or pillow == "MPO")


def redactable(name: str | None) -> bool:
    return name in BY_NAME and BY_NAME[name].redactable


def redactable_names() -> tuple[str, ...]:
    return tuple(f.name for f in FORMATS if f.redactable)
