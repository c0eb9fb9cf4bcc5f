"""The metadata a redacted copy may carry: an allow-list, not a list of known dangers.

A copy keeps what describes the photo and cannot hold a picture: the EXIF orientation (the copy
keeps its stored layout), resolution, capture date and time, camera and exposure settings, a
short artist and copyright line; an ICC profile in which no image hides; XMP rebuilt from its
title, creator, rights and dates alone. Every other byte of metadata is left out: thumbnails and
previews (EXIF IFD1, MPF, FlashPix, Photoshop, XMP thumbnails), maker notes, comments, PNG text
chunks and chunks no decoder reads, IPTC, GPS, and anything after the image's end. Text values
are cut to TEXT_LIMIT characters, too short to carry an image a detector could find a face in.
"""

from __future__ import annotations

import io
import struct
import zlib
from html import escape as html_escape

from PIL import ExifTags, Image, PngImagePlugin

from ...imaging.previews import holds_image, image_end
from ...metadata.packets import find_packets
from ...metadata.rdf import RDF, XmpError, parse_packet, text_of, texts_of
from .jpeg import RedactError, segments

TEXT_LIMIT = 256
ICC_LIMIT = 4 * 1024 * 1024
_EXIF_IFD0 = {0x0112, 0x011A, 0x011B, 0x0128, 0x010F, 0x0110, 0x0131, 0x0132, 0x013B, 0x8298, 0x0213}
_EXIF_SUB = {0x9000, 0x9003, 0x9004, 0x9010, 0x9011, 0x9012, 0x829A, 0x829D, 0x8822, 0x8827, 0x9201, 0x9202,
             0x9204, 0x9207, 0x9209, 0x920A, 0xA001, 0xA002, 0xA003, 0xA402, 0xA403, 0xA405, 0xA433, 0xA434}
_DC, _RIGHTS = "http://purl.org/dc/elements/1.1/", "http://ns.adobe.com/xap/1.0/rights/"
_PS, _XMP = "http://ns.adobe.com/photoshop/1.0/", "http://ns.adobe.com/xap/1.0/"
# (namespace, property, prefix, how it is written): "alt" a language alternative, "seq" an ordered list
_XMP_KEPT = [(_DC, "title", "dc", "alt"), (_DC, "creator", "dc", "seq"), (_DC, "rights", "dc", "alt"),
             (_RIGHTS, "Marked", "xmpRights", "text"), (_RIGHTS, "WebStatement", "xmpRights", "text"),
             (_RIGHTS, "UsageTerms", "xmpRights", "alt"), (_PS, "Credit", "photoshop", "text"),
             (_PS, "Source", "photoshop", "text"), (_PS, "DateCreated", "photoshop", "text"),
             (_XMP, "CreateDate", "xmp", "text"), (_XMP, "ModifyDate", "xmp", "text")]


def xml_text(text: str) -> str:
    """Element text escaped for XML (&, <, >), as xml.sax.saxutils would, without its 25 ms import."""
    return html_escape(text, quote=False)


def _short(value) -> bool:
    return not isinstance(value, (str, bytes)) or len(value) <= TEXT_LIMIT


def exif_bytes(exif: Image.Exif, raw: bytes | None = None) -> bytes | None:
    """The allow-listed EXIF (TIFF bytes, as Pillow's `exif=` takes them), None when nothing is left;
    `raw` (the source's own TIFF bytes) as it is when every tag in it is allowed and it has no IFD1."""
    if raw and _only_allowed(exif):
        return raw
    kept = Image.Exif()
    for tag in _EXIF_IFD0:
        if tag in exif and _short(exif[tag]):
            kept[tag] = exif[tag]
    try:
        sub = {tag: value for tag, value in exif.get_ifd(ExifTags.IFD.Exif).items()
               if tag in _EXIF_SUB and _short(value)}
    except Exception:  # noqa: BLE001 - an unreadable Exif IFD gives nothing to keep
        sub = {}
    if sub:
        kept[ExifTags.IFD.Exif] = sub
    return kept.tobytes() if len(kept) else None


def _only_allowed(exif: Image.Exif) -> bool:
    try:
        sub = exif.get_ifd(ExifTags.IFD.Exif)
        ifd1 = exif.get_ifd(ExifTags.IFD.IFD1)
    except Exception:  # noqa: BLE001 - unreadable: rebuilt from what can be read
        return False
    return (not ifd1 and set(exif) <= _EXIF_IFD0 | {ExifTags.IFD.Exif} and set(sub) <= _EXIF_SUB
            and all(_short(v) for v in [*exif.values(), *sub.values()] if not isinstance(v, dict)))


def icc_profile(icc: bytes | None) -> bytes | None:
    """The ICC profile, unless it is too large or an image hides in it."""
    return icc if icc and len(icc) <= ICC_LIMIT and not holds_image(icc) else None


def xmp_packet(data: bytes) -> bytes | None:
    """A new XMP packet with the allow-listed properties of the file's XMP, None when there are none."""
    values: dict[tuple[str, str], list[str]] = {}
    packets, _ = find_packets(data, 16 * 1024 * 1024)
    for packet in packets:
        if packet.too_big:
            continue
        try:
            _, properties = parse_packet(packet.data)
        except XmpError:
            continue
        for name, value in properties:
            for ns, local, _, kind in _XMP_KEPT:
                if name == f"{{{ns}}}{local}":
                    texts = texts_of(value) if kind == "seq" else [t for t in [text_of(value)] if t]
                    values.setdefault((ns, local), [t[:TEXT_LIMIT] for t in texts][:16])
    if not any(values.values()):
        return None
    body = []
    for ns, local, prefix, kind in _XMP_KEPT:
        texts = values.get((ns, local))
        if not texts:
            continue
        tag = f"{prefix}:{local}"
        if kind == "alt":
            body.append(f'<{tag}><rdf:Alt><rdf:li xml:lang="x-default">{xml_text(texts[0])}</rdf:li></rdf:Alt></{tag}>')
        elif kind == "seq":
            items = "".join(f"<rdf:li>{xml_text(t)}</rdf:li>" for t in texts)
            body.append(f"<{tag}><rdf:Seq>{items}</rdf:Seq></{tag}>")
        else:
            body.append(f"<{tag}>{xml_text(texts[0])}</{tag}>")
    namespaces = " ".join(f'xmlns:{p}="{ns}"' for ns, p in sorted({(ns, p) for ns, _, p, _ in _XMP_KEPT}))
    return (f'<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
            f'<rdf:RDF xmlns:rdf="{RDF}"><rdf:Description rdf:about="" {namespaces}>{"".join(body)}'
            f'</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>').encode("utf-8")


class Kept:
    """What a copy of one source may carry, worked out once from the source's bytes."""

    def __init__(self, data: bytes, im: Image.Image):
        raw = im.info.get("exif")
        raw = raw[6:] if isinstance(raw, bytes) and raw.startswith(b"Exif\x00\x00") else raw
        try:
            self.exif = exif_bytes(im.getexif(), raw if isinstance(raw, bytes) else None)
        except Exception:  # noqa: BLE001 - a corrupt EXIF block is left out whole (the orientation too)
            self.exif = None
        self.icc = icc_profile(im.info.get("icc_profile"))
        self.xmp = xmp_packet(data)
        self.dpi = im.info.get("dpi")

    def pillow_options(self, fmt: str) -> dict:
        """Keywords for Image.save writing a copy in `fmt` with exactly this metadata."""
        options: dict = {}
        if self.exif:
            options["exif"] = self.exif
        if self.icc:
            options["icc_profile"] = self.icc
        if fmt == "PNG":
            info = PngImagePlugin.PngInfo()
            if self.xmp:
                info.add_itxt("XML:com.adobe.xmp", self.xmp.decode("utf-8"))
            options["pnginfo"] = info
            if self.dpi:
                options["dpi"] = self.dpi
        elif fmt == "WEBP" and self.xmp:
            options["xmp"] = self.xmp
        elif fmt == "BMP":
            options = {}
        return options

    def jpeg_segments(self, source: bytes) -> tuple[list[bytes], list[str]]:
        """The metadata segments of a JPEG copy: the source's JFIF (without a thumbnail) and Adobe
        segments as they are, then EXIF, ICC and XMP as allowed. Returns (segments, notes)."""
        kept, notes, dropped = [], [], []
        for seg in segments(source)[0]:
            marker, body = seg[1], seg[4:]
            if not (0xE0 <= marker <= 0xEF or marker == 0xFE) or _rebuilt(marker, body):
                continue  # pixels' own segments are the encoder's; EXIF, XMP and ICC are rebuilt below
            if marker == 0xE0 and body[:5] == b"JFIF\x00" and body[12:14] == b"\x00\x00":
                kept.append(seg)
            elif marker == 0xEE and body[:5] == b"Adobe" and len(body) == 12:
                kept.append(seg)  # the colour transform: how the pixels decode
            else:
                dropped.append("comment" if marker == 0xFE else f"APP{marker - 0xE0}")
        if self.exif:
            kept.append(_app(0xE1, b"Exif\x00\x00" + self.exif))
        if self.icc:
            kept += _icc_segments(self.icc)
        if self.xmp:
            kept.append(_app(0xE1, b"http://ns.adobe.com/xap/1.0/\x00" + self.xmp))
        if dropped:
            notes.append(f"metadata left out: {', '.join(sorted(set(dropped)))} (only allow-listed metadata is copied)")
        return kept, notes


def _rebuilt(marker: int, body: bytes) -> bool:
    """EXIF, XMP and ICC segments: written again from what the allow-list keeps of them."""
    return (marker == 0xE1 and body.startswith((b"Exif\x00", b"http://ns.adobe.com/xap/1.0/\x00"))) or \
        (marker == 0xE2 and body.startswith(b"ICC_PROFILE\x00"))


def _app(marker: int, payload: bytes) -> bytes:
    if len(payload) + 2 > 0xFFFF:
        raise RedactError(f"APP{marker - 0xE0} segment too large to write")
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def _icc_segments(icc: bytes) -> list[bytes]:
    chunk = 65519
    parts = [icc[i:i + chunk] for i in range(0, len(icc), chunk)]
    return [_app(0xE2, b"ICC_PROFILE\x00" + bytes([n + 1, len(parts)]) + part) for n, part in enumerate(parts)]


# -- copies that change no pixel: the source's own image data, allow-listed metadata -----------------

_PNG_KEPT = {b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND", b"gAMA", b"cHRM", b"sRGB", b"sBIT", b"cICP", b"pHYs",
             b"bKGD", b"acTL", b"fcTL", b"fdAT"}
_WEBP_KEPT = {b"VP8 ", b"VP8L", b"ALPH", b"ANIM", b"ANMF"}


def copy_bytes(data: bytes, fmt: str) -> tuple[bytes, list[str]]:
    """`data` with only allow-listed metadata and nothing after the image's end, the image data
    itself untouched (the same bytes when there was nothing else). Returns (bytes, notes)."""
    with Image.open(io.BytesIO(data)) as im:
        kept = Kept(data, im)
    end = image_end(data, fmt)
    body = data if end is None else data[:end]
    notes = [f"{len(data) - end} byte(s) after the image's end left out"] if end is not None and end < len(data) else []
    if fmt == "JPEG":
        own, rest = segments(body)
        metadata, more = kept.jpeg_segments(body)
        pixels = [s for s in own if not (0xE0 <= s[1] <= 0xEF or s[1] == 0xFE)]
        out = b"\xff\xd8" + b"".join(metadata) + b"".join(pixels) + rest
        return out, notes + ([] if out == body else more)
    if fmt == "PNG":
        return _png_copy(body, kept, notes)
    if fmt == "WEBP":
        return _webp_copy(body, kept, notes)
    return body, notes


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png_copy(data: bytes, kept: Kept, notes: list[str]) -> tuple[bytes, list[str]]:
    """The pixel chunks as they are; iCCP and eXIf kept as they are when allowed whole (else rebuilt),
    XMP rebuilt; iCCP after IHDR, eXIf before the first IDAT, XMP before IEND."""
    listed, pos = [], 8
    while pos + 12 <= len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        listed.append((data[pos + 4:pos + 8], data[pos:pos + 12 + length]))
        pos += 12 + length
    own = {kind: chunk for kind, chunk in reversed(listed) if kind in (b"iCCP", b"eXIf")}
    chunks, dropped = [], []
    for kind, chunk in listed:
        if kind in (b"iCCP", b"eXIf"):
            continue
        if kind not in _PNG_KEPT:
            dropped.append(kind.decode("latin-1"))
            continue
        if kind == b"IDAT" and kept.exif and not any(c[4:8] == b"eXIf" for c in chunks):
            chunks.append(own[b"eXIf"] if own.get(b"eXIf", b"")[8:-4] == kept.exif else _png_chunk(b"eXIf", kept.exif))
        if kind == b"IEND" and kept.xmp:
            chunks.append(_png_chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + kept.xmp))
        chunks.append(chunk)
        if kind == b"IHDR" and kept.icc:
            chunks.append(own.get(b"iCCP") or _png_chunk(b"iCCP", b"ICC Profile\x00\x00" + zlib.compress(kept.icc)))
    out = data[:8] + b"".join(chunks)
    if out != data:
        notes.append(f"PNG chunks rewritten or left out: {', '.join(sorted(set(dropped)))} (only allow-listed "
                     "metadata is copied)")
    return (data if out == data else out), notes


def _webp_copy(data: bytes, kept: Kept, notes: list[str]) -> tuple[bytes, list[str]]:
    chunks, dropped, vp8x, pos = [], [], None, 12
    while pos + 8 <= len(data):
        kind = data[pos:pos + 4]
        (length,) = struct.unpack("<I", data[pos + 4:pos + 8])
        end = pos + 8 + length + (length & 1)
        if kind == b"VP8X":
            vp8x = bytearray(data[pos:end])
        elif kind in _WEBP_KEPT:
            chunks.append(data[pos:end])
        else:
            dropped.append(kind.decode("latin-1").strip())
        pos = end
    extra = []
    if kept.icc:
        extra.append(_riff_chunk(b"ICCP", kept.icc))
    head = []
    if vp8x is not None:  # the flags say which optional chunks follow
        flags = vp8x[8] & ~0x2C | (0x20 if kept.icc else 0) | (0x08 if kept.exif else 0) | (0x04 if kept.xmp else 0)
        vp8x[8] = flags
        head = [bytes(vp8x)] + extra
        tail = [c for c in ([_riff_chunk(b"EXIF", kept.exif)] if kept.exif else [])] + \
            ([_riff_chunk(b"XMP ", kept.xmp)] if kept.xmp else [])
    else:
        tail = []  # a simple WebP has no room for metadata: none is written
    body = b"WEBP" + b"".join(head + chunks + tail)
    out = b"RIFF" + struct.pack("<I", len(body)) + body
    if out != data:
        notes.append(f"WebP chunks rewritten or left out: {', '.join(sorted(set(dropped)))} (only allow-listed "
                     "metadata is copied)")
    return (data if out == data else out), notes


def _riff_chunk(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("<I", len(body)) + body + (b"\x00" if len(body) & 1 else b"")
