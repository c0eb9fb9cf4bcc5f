"""Find XMP packets inside image files and write edited packets back in place.

Structured lookup for JPEG (APP1, including Extended XMP), PNG (iTXt/tEXt/zTXt
"XML:com.adobe.xmp"), WebP ("XMP " chunk) and TIFF (tag 700), then a raw search for
<x:xmpmeta> ... </x:xmpmeta> anywhere else (HEIF, GIF, PSD, raw formats, odd writers).

Every edit keeps the packet's byte length (stripping blanks bytes with spaces, which XMP allows
as padding), so no offset or segment length in the file moves. The exceptions are compressed PNG
text chunks, which are rebuilt, and Extended XMP, whose GUID (the MD5 of the packet) is updated.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from dataclasses import dataclass, field

XMP_NS = b"http://ns.adobe.com/xap/1.0/\x00"
EXT_NS = b"http://ns.adobe.com/xmp/extension/\x00"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_KEYWORD = b"XML:com.adobe.xmp"
_RAW_STARTS = (b"<x:xmpmeta", b"<x:xapmeta")
_RAW_MAX = 16


@dataclass(eq=False)
class Packet:
    data: bytes
    kind: str  # jpeg, jpeg-ext, png, png-z, webp, tiff, raw
    offset: int = -1  # file offset of `data` when it is stored contiguously and uncompressed
    covers: list[tuple[int, int]] = field(default_factory=list)  # file ranges it occupies
    extra: dict = field(default_factory=dict)
    too_big: bool = False


def find_packets(data: bytes, max_bytes: int) -> tuple[list[Packet], list[str]]:
    """Every XMP packet in the file. Packets over max_bytes are returned with too_big set."""
    errors: list[str] = []
    if data[:2] == b"\xff\xd8":
        packets = _jpeg(data, max_bytes, errors)
    elif data[:8] == PNG_SIGNATURE:
        packets = _png(data, max_bytes, errors)
    elif data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        packets = _webp(data, errors)
    elif data[:4] in (b"II*\x00", b"MM\x00*"):
        packets = _tiff(data, errors)
    else:
        packets = []
    packets += _raw(data, packets)
    for packet in packets:
        if len(packet.data) > max_bytes:
            packet.too_big = True
    return packets, errors


def _contiguous(data: bytes, start: int, end: int, kind: str, **extra) -> Packet:
    return Packet(data[start:end], kind, start, [(start, end)], dict(extra))


def _jpeg(data: bytes, max_bytes: int, errors: list[str]) -> list[Packet]:
    packets: list[Packet] = []
    extended: dict[bytes, list[tuple[int, int, int, int, int]]] = {}
    pos, n = 2, len(data)
    while pos + 4 <= n:
        if data[pos] != 0xFF:
            errors.append("JPEG marker structure is broken; stopped looking for XMP segments")
            break
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        if marker in (0xDA, 0xD9):  # scan data follows: no more metadata segments
            break
        length = struct.unpack(">H", data[pos + 2:pos + 4])[0]
        start, end = pos + 4, pos + 2 + length
        if length < 2 or end > n:
            errors.append("JPEG segment runs past the end of the file")
            break
        if marker == 0xE1:
            if data.startswith(XMP_NS, start):
                packets.append(_contiguous(data, start + len(XMP_NS), end, "jpeg"))
            elif data.startswith(EXT_NS, start) and end - start >= len(EXT_NS) + 40:
                head = start + len(EXT_NS)
                guid = data[head:head + 32]
                full, part_offset = struct.unpack(">II", data[head + 32:head + 40])
                extended.setdefault(guid, []).append((head, full, part_offset, head + 40, end))
        pos = end
    for guid, parts in extended.items():
        packet = _assemble_extended(data, guid, parts, max_bytes, errors)
        if packet:
            packets.append(packet)
    return packets


def _assemble_extended(data, guid, parts, max_bytes, errors) -> Packet | None:
    full = parts[0][1]
    covers = [(p[3], p[4]) for p in parts]
    if full > max_bytes:
        return Packet(b"", "jpeg-ext", covers=covers, too_big=True)
    buf = bytearray(full)
    filled = 0
    chunks = []
    for guid_at, _full, part_offset, data_at, end in parts:
        size = min(end - data_at, max(full - part_offset, 0))
        buf[part_offset:part_offset + size] = data[data_at:data_at + size]
        filled += size
        chunks.append((guid_at, data_at, part_offset, size))
    if filled < full:
        errors.append(f"Extended XMP {guid.decode('ascii', 'replace')} is incomplete; ignored")
        return None
    return Packet(bytes(buf), "jpeg-ext", covers=covers, extra={"guid": guid, "chunks": chunks})


def _png(data: bytes, max_bytes: int, errors: list[str]) -> list[Packet]:
    packets = []
    pos = 8
    while pos + 12 <= len(data):
        length = struct.unpack(">I", data[pos:pos + 4])[0]
        ctype = data[pos + 4:pos + 8]
        body, end = pos + 8, pos + 12 + length
        if end > len(data):
            errors.append("PNG chunk runs past the end of the file")
            break
        if ctype in (b"iTXt", b"tEXt", b"zTXt") and data.startswith(PNG_KEYWORD + b"\x00", body):
            packet = _png_text(data, ctype, pos, body, end - 4, max_bytes, errors)
            if packet:
                packets.append(packet)
        if ctype == b"IEND":
            break
        pos = end
    return packets


def _png_text(data, ctype, chunk, body, body_end, max_bytes, errors) -> Packet | None:
    at = body + len(PNG_KEYWORD) + 1
    if ctype == b"tEXt":
        return _contiguous(data, at, body_end, "png", chunk=chunk)
    if ctype == b"zTXt":
        header_end, compressed = at + 1, True
    else:
        compressed = data[at] == 1
        lang_end = data.find(b"\x00", at + 2, body_end)
        trans_end = data.find(b"\x00", lang_end + 1, body_end) if lang_end >= 0 else -1
        if trans_end < 0:
            errors.append("PNG iTXt XMP chunk is malformed; ignored")
            return None
        header_end = trans_end + 1
    if not compressed:
        return _contiguous(data, header_end, body_end, "png", chunk=chunk)
    try:
        inflater = zlib.decompressobj()
        text = inflater.decompress(data[header_end:body_end], max_bytes + 1)
    except zlib.error as exc:
        errors.append(f"PNG compressed XMP cannot be inflated: {exc}")
        return None
    return Packet(text, "png-z", covers=[(chunk, body_end + 4)],
                  extra={"chunk": chunk, "header": data[body:header_end], "ctype": ctype})


def _webp(data: bytes, errors: list[str]) -> list[Packet]:
    packets = []
    pos = 12
    while pos + 8 <= len(data):
        fourcc = data[pos:pos + 4]
        size = struct.unpack("<I", data[pos + 4:pos + 8])[0]
        start, end = pos + 8, pos + 8 + size
        if end > len(data):
            errors.append("WebP chunk runs past the end of the file")
            break
        if fourcc == b"XMP ":
            packets.append(_contiguous(data, start, end, "webp"))
        pos = end + (size & 1)
    return packets


def _tiff(data: bytes, errors: list[str]) -> list[Packet]:
    endian = "<" if data[:2] == b"II" else ">"
    try:
        (ifd,) = struct.unpack(endian + "I", data[4:8])
        (count,) = struct.unpack(endian + "H", data[ifd:ifd + 2])
        for i in range(count):
            entry = ifd + 2 + 12 * i
            tag, typ, n, value = struct.unpack(endian + "HHII", data[entry:entry + 12])
            if tag == 700 and typ in (1, 2, 7):
                start = entry + 8 if n <= 4 else value
                if start + n > len(data):
                    errors.append("TIFF XMP tag points past the end of the file")
                    return []
                return [_contiguous(data, start, start + n, "tiff")]
    except struct.error:
        errors.append("TIFF directory is truncated; XMP tag not read")
    return []


def _raw(data: bytes, known: list[Packet]) -> list[Packet]:
    covered = [span for p in known for span in p.covers]
    found: list[Packet] = []
    for opener in _RAW_STARTS:
        closer = b"</" + opener[1:] + b">"
        pos = 0
        while len(found) < _RAW_MAX:
            start = data.find(opener, pos)
            if start < 0:
                break
            end = data.find(closer, start)
            if end < 0:
                break
            end += len(closer)
            pos = end
            if not any(s < end and start < e for s, e in covered):
                found.append(_contiguous(data, start, end, "raw"))
    return found


def write_packets(data: bytes, packets: list[Packet], edits: list[tuple[Packet, bytes]]) -> bytes:
    """The file with each edited packet replaced (same length, except png-z rebuilds).

    `packets` is every packet of the file: a main JPEG packet names its Extended XMP by GUID, and
    that name must follow the Extended XMP's new digest even when the main packet was not edited.
    """
    buf = bytearray(data)
    guid_changes: list[tuple[bytes, bytes]] = []
    rebuilds: list[tuple[Packet, bytes]] = []
    for packet, new in edits:
        if packet.kind == "png-z":
            rebuilds.append((packet, new))
            continue
        if len(new) != len(packet.data):
            raise ValueError("an in-place XMP edit must keep the packet length")
        if packet.kind == "jpeg-ext":
            guid = hashlib.md5(new).hexdigest().upper().encode("ascii")
            for guid_at, data_at, part_offset, size in packet.extra["chunks"]:
                buf[data_at:data_at + size] = new[part_offset:part_offset + size]
                buf[guid_at:guid_at + 32] = guid
            guid_changes.append((packet.extra["guid"], guid))
            continue
        buf[packet.offset:packet.offset + len(new)] = new
        if packet.kind == "png":
            chunk = packet.extra["chunk"]
            (length,) = struct.unpack(">I", buf[chunk:chunk + 4])
            crc = zlib.crc32(buf[chunk + 4:chunk + 8 + length]) & 0xFFFFFFFF
            buf[chunk + 8 + length:chunk + 12 + length] = struct.pack(">I", crc)
    for packet in packets:
        if packet.kind == "jpeg":
            for old, new_guid in guid_changes:
                at = bytes(buf[packet.offset:packet.offset + len(packet.data)]).find(old)
                if at >= 0:
                    buf[packet.offset + at:packet.offset + at + 32] = new_guid
    for packet, new in sorted(rebuilds, key=lambda e: -e[0].extra["chunk"]):
        chunk = packet.extra["chunk"]
        (length,) = struct.unpack(">I", buf[chunk:chunk + 4])
        body = packet.extra["header"] + zlib.compress(new)
        ctype = packet.extra["ctype"]
        rebuilt = struct.pack(">I", len(body)) + ctype + body + \
            struct.pack(">I", zlib.crc32(ctype + body) & 0xFFFFFFFF)
        buf[chunk:chunk + 12 + length] = rebuilt
    return bytes(buf)
