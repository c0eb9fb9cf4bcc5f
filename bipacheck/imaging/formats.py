"""Image formats, by name: how each is recognised from its first bytes, the file suffixes it goes
by, and whether `redact` can write a copy of it. The loader sniffs with it, the hook and
`strip-face-tags` pick files by its suffixes, `redact` refuses what it cannot write. Adding a
format is one entry here (plus its decoder, if Pillow lacks one)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath

from PIL import Image

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


def sniff_format(data: bytes) -> str | None:
    """The image format named by the file's leading bytes, or None."""
    for fmt in FORMATS:
        if fmt.sniff is not None and fmt.sniff(data):
            return fmt.name
    return None


def image_suffixes() -> frozenset[str]:
    return frozenset(s for f in FORMATS for s in f.suffixes)


def named_like_image(name: str) -> bool:
    """Does the file name say "image" (ours, or any format Pillow registers)?"""
    suffix = PurePosixPath(name.lower()).suffix
    return bool(suffix) and (suffix in image_suffixes() or suffix in Image.registered_extensions())


def redactable(name: str | None) -> bool:
    return name in BY_NAME and BY_NAME[name].redactable


def redactable_names() -> tuple[str, ...]:
    return tuple(f.name for f in FORMATS if f.redactable)
