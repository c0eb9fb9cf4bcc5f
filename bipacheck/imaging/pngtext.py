"""Keep a PNG's oversized text chunks away from Pillow, so its pixels are still decoded.

Pillow refuses a whole PNG when one compressed text chunk (tEXt/zTXt/iTXt: comments, XMP)
inflates past PngImagePlugin.MAX_TEXT_CHUNK, or all of them past MAX_TEXT_MEMORY. Text chunks
never change pixels, so the decoder gets a copy without those chunks and the caller warns
about them; bipacheck's own metadata reader reads XMP under its own limit.
"""

from __future__ import annotations

import struct
import zlib

from PIL import PngImagePlugin

SIGNATURE = b"\x89PNG\r\n\x1a\n"
_TEXT = (b"tEXt", b"zTXt", b"iTXt")


def without_oversized_text(data: bytes) -> tuple[bytes, list[str]]:
    """`data` with the text chunks Pillow would refuse left out, and one warning per chunk left out.

    Returns `data` itself when nothing is left out (the common case: no copy)."""
    if not data.startswith(SIGNATURE):
        return data, []
    budget = PngImagePlugin.MAX_TEXT_MEMORY
    dropped: list[tuple[int, int]] = []
    notes: list[str] = []
    pos = len(SIGNATURE)
    while pos + 12 <= len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        ctype, end = data[pos + 4:pos + 8], pos + 12 + length
        if end > len(data) or ctype == b"IEND":
            break  # a broken chunk structure is the decoder's to report
        if ctype in _TEXT:
            keyword, size = _text_size(data[pos + 8:end - 4], ctype)
            if size is None or size > budget:
                dropped.append((pos, end))
                what = "over the decoder's 1 MB limit" if size is None else "past the decoder's text budget"
                notes.append(f"PNG text chunk {keyword!r} expands {what}; not read (pixels still scanned)")
            else:
                budget -= size
        pos = end
    if not dropped:
        return data, []
    kept, start = [], 0
    for begin, end in dropped:
        kept.append(data[start:begin])
        start = end
    kept.append(data[start:])
    return b"".join(kept), notes


def _text_size(body: bytes, ctype: bytes) -> tuple[str, int | None]:
    """The chunk's keyword and inflated text size; None when it inflates past MAX_TEXT_CHUNK."""
    keyword, _, rest = body.partition(b"\x00")
    name = keyword[:79].decode("latin-1")
    if ctype == b"tEXt":
        return name, len(rest)
    if ctype == b"zTXt":
        compressed = rest[1:]
    elif len(rest) >= 2 and rest[0] == 1 and rest[1] == 0:
        parts = rest[2:].split(b"\x00", 2)
        compressed = parts[2] if len(parts) == 3 else b""
    else:
        return name, len(rest)
    inflater = zlib.decompressobj()
    try:
        text = inflater.decompress(compressed, PngImagePlugin.MAX_TEXT_CHUNK)
    except zlib.error:
        return name, 0  # Pillow ignores a chunk it cannot inflate
    return name, None if inflater.unconsumed_tail else len(text)
