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
# JPEG, PNG, GIF, WebP, and a BMP file header (its reserved zeros and DIB header size, not "BM" alone)
_SIGNATURES = re.compile(rb"\xff\xd8\xff|\x89PNG\r\n\x1a\n|GIF8[79]a|RIFF....WEBP"
                         rb"|BM....\x00\x00\x00\x00....[\x0c\x28\x34\x38\x40\x6c\x7c]\x00\x00\x00", re.S)
# base64 of at least ~100 bytes, line breaks (also as XML character references) allowed inside: the
# breaks are removed from the whole block first, then runs are found by a byte search (linear: a
# regular expression that fails near the end of each of many 135-character runs takes quadratic time)
_BASE64_MIN = 136
_BASE64_NOISE = re.compile(rb"\s|&#x?[0-9A-Fa-f]{1,2};")
# (not "=": padding ends a run, so an image's text never runs on into the next one's once breaks are gone)
_BASE64_CHARS = bytes(1 if chr(b) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/" else 0
                      for b in range(256))
# how the signatures above start in base64 (JPEG, PNG, GIF, RIFF, BMP with its reserved zeros, TIFF):
# wherever the encoding begins in a run (a TIFF signature is looked for only in encoded text: raw, it is
# the start of every EXIF block)
_BASE64_IMAGE = re.compile(rb"/9j/|iVBORw0KGgo|R0lGOD[dl]h|UklGR|Qk[A-Za-z0-9+/]{6}AAAA|SUkqA|TU0AKg")
# the same images as hexadecimal text (an XMP value, a text chunk such as ImageMagick's "Raw profile
# type exif"): at least ~100 bytes; not TIFF, which every hex-encoded EXIF block starts with
_HEX_MIN = 200
_HEX_CHARS = bytes(1 if chr(b) in "0123456789ABCDEFabcdef" else 0 for b in range(256))
_HEX_IMAGE = re.compile(rb"ffd8ff|89504e470d0a1a0a|47494638[79]61|52494646.{8}57454250|424d.{8}00000000", re.I | re.S)
MAX_CANDIDATES = 256  # possible embedded images looked at per file: real files hold a handful; more is an attack
HEAD = 1 << 20  # what a decoder needs to tell an image's header from chance bytes


@dataclass(frozen=True)
class Preview:
    """A possible embedded image: the bytes from its signature on (trailing bytes are the decoder's to
    ignore), or base64 text from where the encoded signature starts. Views, not copies: a file full of
    signatures costs no memory until one is decoded."""

    where: str  # where in the file: "exif", "xmp", "png-text:Thumb", "after-end", "jpeg-app13"...
    raw: memoryview
    encoded: bool | str = False  # raw is base64 text (True), or "hex" text
    # found by the file's structure (a thumbnail's IFD, a TIFF SubIFD, an icon's entry), not by a
    # signature: an image for certain, so one that cannot be decoded is not scanned, never passed over
    certain: bool = False

    def head(self, size: int = HEAD) -> bytes:
        """The first `size` bytes of the image (enough to read its header)."""
        if not self.encoded:
            return bytes(self.raw[:size])
        if self.encoded == "hex":
            return _hex(bytes(self.raw[:size * 2]))
        return _b64(bytes(self.raw[:(size + 2) // 3 * 4]))

    @property
    def data(self) -> bytes:
        """The whole embedded image file."""
        if self.encoded == "hex":
            return _hex(bytes(self.raw))
        return _b64(bytes(self.raw)) if self.encoded else bytes(self.raw)


def _hex(text: bytes) -> bytes:
    try:
        return bytes.fromhex(text[:len(text) // 2 * 2].decode("ascii"))
    except ValueError:
        return b""


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
    end = _ENDS[fmt](data) if fmt in _ENDS else None
    if end is not None and end < len(data):
        blocks.found.append(("after-end", data[end:]))
    found: list[Preview] = []
    seen: set[bytes] = set()
    subifds = _tiff_subifds(data, (info or {}).get("tiff_tags", {})) if fmt == "TIFF" else []
    candidates = (*subifds, *(preview for where, block in blocks.found
                              for preview in (*_stored_thumbnails(where, block), *_images_in(where, block))))
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


def _stored_thumbnails(where: str, block: bytes) -> Iterator[Preview]:
    """Thumbnails stored as bare pixels, with no signature to find: an EXIF IFD1 thumbnail that is not a
    JPEG (uncompressed strips: given as a TIFF file whose first image is IFD1), and a JFIF/JFXX
    thumbnail of RGB or palette pixels (given as a PPM file)."""
    if where == "exif":
        tiff = _exif_ifd1_tiff(block[6:] if block.startswith(b"Exif\x00\x00") else block)
        if tiff:
            yield Preview("exif-ifd1", memoryview(tiff), certain=True)
    elif where == "jpeg-app0" and len(block) >= 16:
        if block.startswith(b"JFIF\x00"):
            width, height, pixels = block[12], block[13], block[14:]
        elif block.startswith(b"JFXX\x00") and block[5] in (0x11, 0x13):
            width, height, pixels = block[6], block[7], block[8:]
            if block[5] == 0x11:  # palette: 256 RGB entries, then one index per pixel
                palette, indices = pixels[:768], pixels[768:768 + width * height]
                pixels = b"".join(palette[3 * i:3 * i + 3] for i in indices)
        else:
            return
        if width and height and len(pixels) >= 3 * width * height:
            yield Preview("jfif-thumbnail", memoryview(b"P6 %d %d 255\n" % (width, height)
                                                         + pixels[:3 * width * height]), certain=True)


def _tiff_subifds(data: bytes, tags: dict) -> list[Preview]:
    """The images of a TIFF's SubIFDs (tag 330: reduced-resolution images, a DNG's raw data), which
    Pillow never reads as pages: each as the TIFF file opened at that IFD."""
    offsets = tags.get(330, ())
    offsets = offsets if isinstance(offsets, tuple) else (offsets,)
    order = "<" if data[:2] == b"II" else ">"
    return [Preview(f"tiff-subifd:{index + 1}", memoryview(data[:4] + struct.pack(order + "I", offset) + data[8:]),
                    certain=True)
            for index, offset in enumerate(offsets) if isinstance(offset, int) and 8 <= offset < len(data)]


def _exif_ifd1_tiff(tiff: bytes) -> bytes | None:
    """The EXIF block as a TIFF file that opens at its IFD1, when IFD1 is a thumbnail other than a JPEG
    (a JPEG thumbnail is found by its signature), else None."""
    if tiff[:4] not in (b"II*\x00", b"MM\x00*"):
        return None
    order = "<" if tiff[:2] == b"II" else ">"
    try:
        (ifd0,) = struct.unpack_from(order + "I", tiff, 4)
        (count,) = struct.unpack_from(order + "H", tiff, ifd0)
        (ifd1,) = struct.unpack_from(order + "I", tiff, ifd0 + 2 + 12 * count)
        (count,) = struct.unpack_from(order + "H", tiff, ifd1)
        tags = {}
        for index in range(count):
            tag, kind, _, value = struct.unpack_from(order + "HHI4s", tiff, ifd1 + 2 + 12 * index)
            tags[tag] = struct.unpack(order + "H", value[:2])[0] if kind == 3 else struct.unpack(order + "I", value)[0]
    except struct.error:
        return None
    if ifd1 == 0 or 0x111 not in tags or 0x201 in tags or tags.get(0x103) in (6, 7):
        return None
    return tiff[:4] + struct.pack(order + "I", ifd1) + tiff[8:]


def _images_in(where: str, block: bytes) -> Iterator[Preview]:
    """Possible images in a block: at each image signature in it, and in each base64 run that encodes
    one (from wherever in the run the encoding of a signature starts)."""
    view = memoryview(block)
    for match in _SIGNATURES.finditer(block):
        yield Preview(where, view[match.start():])
    for encoded, text, chars, minimum, starts in (
            (True, _BASE64_NOISE.sub(b"", block), _BASE64_CHARS, _BASE64_MIN, _BASE64_IMAGE),
            ("hex", re.sub(rb"\s", b"", block), _HEX_CHARS, _HEX_MIN, _HEX_IMAGE)):
        for begin, end in _runs(text, chars, minimum):
            run = memoryview(text)[begin:end]
            for start in starts.finditer(text, begin, end):
                yield Preview(where, run[start.start() - begin:], encoded=encoded)


def _runs(text: bytes, chars: bytes, minimum: int) -> Iterator[tuple[int, int]]:
    """Where `text` has at least `minimum` bytes in a row that `chars` (a 256-entry table) allows."""
    marked = text.translate(chars)
    needle, pos = b"\x01" * minimum, 0
    while (begin := marked.find(needle, pos)) != -1:
        end = marked.find(b"\x00", begin + minimum)
        end = len(text) if end == -1 else end
        yield begin, end
        pos = end


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
        if key in ("tiff_tags", "exif_ifd"):
            # every text or byte value of a TIFF tag (a maker note, a private tag), not only the named ones
            for tag, tag_value in value.items():
                if isinstance(tag_value, (bytes, str)) and (tag in _TIFF_TAGS or len(tag_value) >= 64):
                    yield _TIFF_TAGS.get(tag, f"tiff-tag:{tag}"), _as_bytes(tag_value)
        elif isinstance(value, (bytes, str)) and len(value) >= 64:
            yield printable(str(key)), _as_bytes(value)


def _as_bytes(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8", "surrogateescape")


_WALKERS = {"JPEG": _jpeg, "PNG": _png, "WEBP": _webp}


# -- GIF and BMP: where the image ends (their metadata is what Pillow reads); what follows is looked into


def _gif_end(data: bytes) -> int | None:
    """The offset after a GIF's trailer, or None when its blocks run past the end of the data."""
    pos = 13 + (3 << ((data[10] & 7) + 1) if len(data) > 10 and data[10] & 0x80 else 0)
    while pos < len(data):
        kind = data[pos]
        if kind == 0x3B:
            return pos + 1
        if kind == 0x21:
            pos += 2
        elif kind == 0x2C and pos + 10 <= len(data):
            flags = data[pos + 9]
            pos += 10 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0) + 1  # local colour table, LZW size
        else:
            return None
        while pos < len(data) and data[pos]:  # data sub-blocks, up to the empty one
            pos += data[pos] + 1
        pos += 1
    return None


def _bmp_end(data: bytes) -> int | None:
    """The file size a BMP's header declares (a BMP may not say it: then None)."""
    size = struct.unpack("<I", data[2:6])[0] if len(data) >= 6 else 0
    return size if 14 < size <= len(data) else None


_ENDS = {"GIF": _gif_end, "BMP": _bmp_end}
