"""Images embedded in an image file: the places a face can hide that the main pixels do not show.

A viewer, a file browser or a photo library may show an embedded image instead of the main one:
the EXIF thumbnail (IFD1) and a camera's maker-note previews, XMP thumbnails (`xmp:Thumbnails`,
`xmpGImg:image`: base64 JPEGs), MPF secondary images and anything else stored after the image's
end, JPEG APP segments (Photoshop, FlashPix) and comments, PNG text chunks (a base64 JPEG in a
tEXt chunk), PNG and WebP chunks no decoder reads, ICC profiles. This module finds them, by the
container's structure (JPEG segments, PNG and RIFF chunks, what follows the end of the image) and
by content: an image signature inside a block (JPEG, PNG, GIF, WebP), or a long base64 run that
decodes to one. It never scans the main image's own pixel data for signatures (compressed pixels
hold any byte pattern). Decoding and scanning them is the scanner's job (scanning/views.py).
"""

from __future__ import annotations

import base64
import binascii
import re
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from ..names import printable

MAX_INFLATED = 64 * 1024 * 1024  # compressed text and profiles are inflated this far per file, no further
_SIGNATURES = re.compile(rb"\xff\xd8\xff|\x89PNG\r\n\x1a\n|GIF8[79]a|RIFF....WEBP", re.S)
# base64 of at least ~100 bytes, line breaks (also as XML character references) allowed inside
_BASE64_RUN = re.compile(rb"(?:[A-Za-z0-9+/]|\s|&#x?[0-9A-Fa-f]{1,2};){136,}={0,2}")
_BASE64_NOISE = re.compile(rb"\s|&#x?[0-9A-Fa-f]{1,2};")
# how the signatures above start in base64 (JPEG, PNG, GIF, RIFF): wherever the encoding begins in a run
_BASE64_IMAGE = re.compile(rb"/9j/|iVBORw0KGgo|R0lGOD[dl]h|UklGR")
MAX_CANDIDATES = 256  # possible embedded images looked at per file: real files hold a handful; more is an attack
HEAD = 1 << 20  # what a decoder needs to tell an image's header from chance bytes


@dataclass(frozen=True)
class Preview:
    """A possible embedded image: the bytes from its signature on (trailing bytes are the decoder's to
    ignore), or base64 text from where the encoded signature starts. Views, not copies: a file full of
    signatures costs no memory until one is decoded."""

    where: str  # where in the file: "exif", "xmp", "png-text:Thumb", "after-end", "jpeg-app13"...
    raw: memoryview
    encoded: bool = False  # raw is base64 text

    def head(self, size: int = HEAD) -> bytes:
        """The first `size` bytes of the image (enough to read its header)."""
        if not self.encoded:
            return bytes(self.raw[:size])
        return _b64(bytes(self.raw[:(size + 2) // 3 * 4]))

    @property
    def data(self) -> bytes:
        """The whole embedded image file."""
        return _b64(bytes(self.raw)) if self.encoded else bytes(self.raw)


def _b64(text: bytes) -> bytes:
    text = text.rstrip(b"=")
    text = text[:-1] if len(text) % 4 == 1 else text  # a stray last character
    try:
        return base64.b64decode(text + b"=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return b""


@dataclass
class Blocks:
    """The non-pixel blocks of a file, by where they are, and what could not be looked into."""

    found: list[tuple[str, bytes]]
    notes: list[str]


def find_previews(data: bytes, fmt: str, info: dict | None = None) -> tuple[list[Preview], list[str]]:
    """Every embedded image in `data` (a file of format `fmt`), and notes on blocks that could not be
    examined. info: Pillow's metadata of the opened file, for formats walked no further here."""
    walker = _WALKERS.get(fmt)
    blocks = walker(data) if walker else Blocks(list(_pillow_blocks(info or {})), [])
    found: list[Preview] = []
    seen: set[bytes] = set()
    candidates = (preview for where, block in blocks.found for preview in _images_in(where, block))
    for count, preview in enumerate(candidates):
        if count == MAX_CANDIDATES:
            blocks.notes.append(f"more than {MAX_CANDIDATES} possible embedded images: the rest were not looked at")
            break
        key = preview.head(4096)
        if key not in seen:  # the same image reached twice (a nested thumbnail, a duplicate block)
            seen.add(key)
            found.append(preview)
    return found, blocks.notes


def holds_image(block: bytes) -> bool:
    """Does a block (an ICC profile, a text) hold an image signature or a base64-encoded image?"""
    return next(_images_in("", block), None) is not None


def image_end(data: bytes, fmt: str) -> int | None:
    """Where the image data of a JPEG, PNG or WebP file ends (what follows is not the image), or None."""
    if fmt == "JPEG":
        header = _jpeg(data)
        return next((len(data) - len(block) for where, block in header.found if where == "after-end"), len(data))
    if fmt == "PNG":
        pos = len(_PNG_SIGNATURE)
        while pos + 12 <= len(data):
            (length,) = struct.unpack(">I", data[pos:pos + 4])
            if data[pos + 4:pos + 8] == b"IEND":
                return pos + 12 + length
            pos += 12 + length
        return None
    if fmt == "WEBP":
        return min(len(data), 8 + struct.unpack("<I", data[4:8])[0])
    return None


def _images_in(where: str, block: bytes) -> Iterator[Preview]:
    """Possible images in a block: at each image signature in it, and in each base64 run that encodes
    one (from wherever in the run the encoding of a signature starts)."""
    view = memoryview(block)
    for match in _SIGNATURES.finditer(block):
        yield Preview(where, view[match.start():])
    for run in _BASE64_RUN.finditer(block):
        text = _BASE64_NOISE.sub(b"", run.group())
        text_view = memoryview(text)
        for start in _BASE64_IMAGE.finditer(text):
            yield Preview(where, text_view[start.start():], encoded=True)


# -- JPEG: every segment before the scan, and whatever follows the end of the image ---------------

_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")  # a marker inside entropy-coded data (not a stuffed 0xFF)


def _jpeg(data: bytes) -> Blocks:
    found, notes, xmp = [], [], []
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            notes.append("JPEG marker structure is broken before the image data: embedded images after it "
                         "were not looked for")
            return Blocks(found, notes)
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        if marker in (0xDA, 0xD9):
            break
        length = struct.unpack(">H", data[pos + 2:pos + 4])[0]
        body = data[pos + 4:pos + 2 + length]
        if 0xE0 <= marker <= 0xEF or marker == 0xFE:
            if marker == 0xE1 and body.startswith((b"http://ns.adobe.com/xap/1.0/\x00",
                                                   b"http://ns.adobe.com/xmp/extension/\x00")):
                xmp.append(body)  # extended XMP is split over segments: looked at as one text
            else:
                found.append((_app_name(marker, body), body))
        pos += 2 + length
    if xmp:
        found.append(("xmp", b"".join(xmp)))
    end = _jpeg_end(data, pos)
    if end is not None and end < len(data):
        found.append(("after-end", data[end:]))
    return Blocks(found, notes)


def _app_name(marker: int, body: bytes) -> str:
    if marker == 0xFE:
        return "jpeg-comment"
    if marker == 0xE1 and body.startswith(b"Exif\x00"):
        return "exif"
    if marker == 0xE2 and body.startswith(b"MPF\x00"):
        return "mpf"
    return f"jpeg-app{marker - 0xE0}"


def _jpeg_end(data: bytes, pos: int) -> int | None:
    """The offset just after the image's EOI marker (progressive images have several scans), or None
    when the data ends first (a truncated file: nothing follows it)."""
    while pos + 4 <= len(data):
        marker = data[pos + 1]
        if marker == 0xD9:
            return pos + 2
        if data[pos] != 0xFF:
            return None
        length = struct.unpack(">H", data[pos + 2:pos + 4])[0]
        pos += 2 + length
        if marker == 0xDA:  # entropy-coded data runs to the next real marker
            found = _MARKER.search(data, pos)
            if found is None:
                return None
            pos = found.start()
    return None


# -- PNG: chunks (text inflated, within a budget), and whatever follows IEND ---------------------------

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_PIXELS = {b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"fdAT", b"fcTL", b"acTL", b"gAMA", b"cHRM", b"sRGB",
               b"sBIT", b"bKGD", b"hIST", b"pHYs", b"sPLT", b"tIME", b"cICP", b"mDCV", b"cLLI", b"oFFs", b"sCAL"}


def _png(data: bytes) -> Blocks:
    found, notes = [], []
    budget = [MAX_INFLATED]
    pos = len(_PNG_SIGNATURE)
    while pos + 12 <= len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body, end = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length], pos + 12 + length
        if end > len(data):
            notes.append(f"PNG chunk {printable(kind.decode('latin-1'))} runs past the end of the file: its "
                         "contents were not looked into")
            break
        if kind == b"IEND":
            if end < len(data):
                found.append(("after-end", data[end:]))
            break
        if kind in (b"tEXt", b"zTXt", b"iTXt"):
            keyword, text = _png_text(kind, body, budget, notes)
            found.append((f"png-text:{printable(keyword)}", text))
        elif kind == b"iCCP":
            found.append(("icc-profile", _inflate(body.partition(b"\x00")[2][1:], budget, notes, "iCCP")))
        elif kind == b"eXIf":
            found.append(("exif", body))
        elif kind not in _PNG_PIXELS:
            found.append((f"png-chunk:{printable(kind.decode('latin-1'))}", body))
        pos = end
    return Blocks(found, notes)


def _png_text(kind: bytes, body: bytes, budget: list[int], notes: list[str]) -> tuple[str, bytes]:
    keyword, _, rest = body.partition(b"\x00")
    name = keyword[:79].decode("latin-1")
    if kind == b"tEXt":
        return name, rest
    if kind == b"zTXt":
        return name, _inflate(rest[1:], budget, notes, name)
    compressed, rest = rest[:1] == b"\x01", rest[2:]
    text = rest.split(b"\x00", 2)[-1]  # after the language tag and the translated keyword
    return name, _inflate(text, budget, notes, name) if compressed else text


def _inflate(compressed: bytes, budget: list[int], notes: list[str], what: str) -> bytes:
    inflater = zlib.decompressobj()
    try:
        text = inflater.decompress(compressed, budget[0] + 1)
    except zlib.error:
        return b""  # decoders skip a chunk they cannot inflate; so does every viewer
    if len(text) > budget[0]:
        notes.append(f"PNG chunk {printable(what)!r} inflates past {MAX_INFLATED // 2**20} MB for the file: "
                     "the rest of it was not looked into")
        text = text[:budget[0]]
    budget[0] -= len(text)
    return text


# -- WebP: RIFF chunks other than the pixels, and whatever follows the RIFF ------------------------

_WEBP_PIXELS = {b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF"}


def _webp(data: bytes) -> Blocks:
    found, notes = [], []
    (riff_size,) = struct.unpack("<I", data[4:8])
    end = min(len(data), 8 + riff_size)
    pos = 12
    while pos + 8 <= end:
        kind = data[pos:pos + 4]
        (length,) = struct.unpack("<I", data[pos + 4:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind not in _WEBP_PIXELS:
            names = {b"EXIF": "exif", b"XMP ": "xmp", b"ICCP": "icc-profile"}
            found.append((names.get(kind, f"webp-chunk:{printable(kind.decode('latin-1'))}"), body))
        pos += 8 + length + (length & 1)
    if end < len(data):
        found.append(("after-end", data[end:]))
    return Blocks(found, notes)


# -- anything else Pillow opens: the metadata it exposes ------------------------------------------

_TIFF_TAGS = {700: "xmp", 34377: "photoshop", 34675: "icc-profile", 33723: "iptc", 37510: "user-comment"}


def _pillow_blocks(info: dict) -> Iterator[tuple[str, bytes]]:
    for key, value in info.items():
        if key == "tiff_tags":
            for tag, name in _TIFF_TAGS.items():
                if isinstance(value.get(tag), (bytes, str)):
                    yield name, _as_bytes(value[tag])
        elif isinstance(value, (bytes, str)) and len(value) >= 64:
            yield printable(str(key)), _as_bytes(value)


def _as_bytes(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8", "surrogateescape")


_WALKERS = {"JPEG": _jpeg, "PNG": _png, "WEBP": _webp}
