"""strip_face_tags: no face tags when re-read, pixels and other metadata kept byte for byte."""

from __future__ import annotations

import hashlib
import io
import struct

import defusedxml.ElementTree as SafeET
import pytest
from PIL import Image

from bipacheck.metadata import read_face_tags, strip_face_tags, strip_face_tags_report
from test_metadata_hostile import BILLION_LAUGHS
from test_metadata_support import (
    TITLE,
    encode,
    iptc_person_in_image,
    iptc_region,
    iptc_regions,
    jpeg_scan,
    ms_person,
    ms_regions,
    mwg_face,
    mwg_regions,
    packet,
    pixels,
    rb_rect,
    stored_image,
)
from tests.requirements import require_module

EXT_NS = b"http://ns.adobe.com/xmp/extension/\x00"
EVERYTHING = packet(
    TITLE,
    mwg_regions([mwg_face(0.5, 0.5, 0.2, 0.2, "Alice"), mwg_face(0.2, 0.2, 0.1, 0.1, kind="Focus")], (120, 80)),
    ms_regions([ms_person(0.1, 0.1, 0.2, 0.2, "Bob")]),
    iptc_person_in_image("Carol"),
    iptc_regions([
        iptc_region(rb_rect(0.1, 0.1, 0.2, 0.3), person="Dave"),
        iptc_region(rb_rect(0.6, 0.1, 0.2, 0.2), ctype="http://cv.iptc.org/newscodes/imageregiontype/artwork",
                    name="Mural"),
    ]),
)
PEOPLE = [b"Alice", b"Bob", b"Carol", b"Dave"]


def _xmp_texts(data: bytes) -> bytes:
    """All XMP bytes of a file as stored (uncompressed formats) for keep/remove checks."""
    start = data.index(b"<x:xmpmeta")
    return data[start:data.index(b"</x:xmpmeta>", start) + 12]


def _title(xmp: bytes) -> str:
    root = SafeET.fromstring(xmp)
    return root.find(".//{http://purl.org/dc/elements/1.1/}title//{http://www.w3.org/1999/02/22-rdf-syntax-ns#}li").text


def test_jpeg_strip_removes_every_face_tag_and_keeps_the_rest():
    original = encode(stored_image((120, 80), (10, 10, 50, 50)), "JPEG", EVERYTHING, orientation=6)
    assert len(read_face_tags(original).regions) == 4
    result = strip_face_tags_report(original)
    stripped = result.data
    assert read_face_tags(stripped).regions == []
    assert read_face_tags(stripped).errors == []
    assert dict(result.removed) == {"mwg": 1, "microsoft": 1, "iptc": 2}
    # Pixels: the entropy-coded scan is byte-identical, and so is everything else's length.
    assert jpeg_scan(stripped) == jpeg_scan(original)
    assert len(stripped) == len(original)
    xmp = _xmp_texts(stripped)
    assert _title(xmp) == "Harbour at dusk"
    assert b"Focus" in xmp and b"Mural" in xmp  # non-face regions stay
    assert not any(name in stripped for name in PEOPLE)
    with Image.open(io.BytesIO(stripped)) as im:
        assert im.getexif()[0x0112] == 6


@pytest.mark.parametrize("fmt, png_zip", [("PNG", False), ("PNG", True), ("WEBP", False), ("TIFF", False)])
def test_other_containers_are_stripped_with_pixels_kept(fmt, png_zip):
    original = encode(stored_image((120, 80), (10, 10, 50, 50)), fmt, EVERYTHING, orientation=3, png_zip=png_zip)
    assert len(read_face_tags(original).regions) == 4
    stripped = strip_face_tags(original)
    assert read_face_tags(stripped).regions == []
    assert read_face_tags(stripped).errors == []
    assert (pixels(stripped) == pixels(original)).all()
    with Image.open(io.BytesIO(stripped)) as im:
        im.verify()  # chunk CRCs and structure still valid
    with Image.open(io.BytesIO(stripped)) as im:
        assert _title(im.info["xmp"] if "xmp" in im.info else im.tag_v2[700]) == "Harbour at dusk"
        assert im.getexif()[0x0112] == 3
    if not png_zip:
        assert not any(name in stripped for name in PEOPLE)


def _with_extended_xmp(main_props: list[str], extended: bytes) -> bytes:
    guid = hashlib.md5(extended).hexdigest().upper()
    main = packet(*main_props, attrs=f'xmpNote:HasExtendedXMP="{guid}"')
    base = encode(stored_image((120, 80), (10, 10, 50, 50)), "JPEG", main)
    segments = b""
    for offset in range(0, len(extended), 60000):
        part = extended[offset:offset + 60000]
        body = EXT_NS + guid.encode() + struct.pack(">II", len(extended), offset) + part
        segments += b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body
    return base[:2] + segments + base[2:]


def _extended_chunks(data: bytes) -> tuple[set[bytes], bytes]:
    """GUIDs and reassembled payload of the Extended XMP segments, read by hand."""
    guids, parts, pos = set(), {}, 2
    while data[pos + 1] != 0xDA:
        length = struct.unpack(">H", data[pos + 2:pos + 4])[0]
        body = data[pos + 4:pos + 2 + length]
        if body.startswith(EXT_NS):
            head = len(EXT_NS)
            guids.add(body[head:head + 32])
            parts[struct.unpack(">I", body[head + 36:head + 40])[0]] = body[head + 40:]
        pos += 2 + length
    return guids, b"".join(parts[k] for k in sorted(parts))


def test_extended_xmp_is_read_and_stripped_with_its_guid_updated():
    filler = "<dc:description><rdf:Alt><rdf:li xml:lang='x-default'>" + "long caption " * 8000 + \
        "</rdf:li></rdf:Alt></dc:description>"
    extended = packet(filler, mwg_regions([mwg_face(0.5, 0.5, 0.2, 0.2, "Alice")]), wrapper=False)
    assert len(extended) > 65000  # really split over several APP1 segments
    original = _with_extended_xmp([TITLE], extended)
    assert [r.name for r in read_face_tags(original).regions] == ["Alice"]

    stripped = strip_face_tags(original)
    assert read_face_tags(stripped).regions == []
    assert jpeg_scan(stripped) == jpeg_scan(original)
    guids, payload = _extended_chunks(stripped)
    new_guid = hashlib.md5(payload).hexdigest().upper().encode()
    assert guids == {new_guid}
    assert b'xmpNote:HasExtendedXMP="' + new_guid + b'"' in stripped
    assert b"long caption" in payload and b"Alice" not in payload


def test_unreadable_packet_is_blanked_whole():
    original = encode(stored_image((120, 80), (10, 10, 50, 50)), "JPEG", BILLION_LAUGHS)
    result = strip_face_tags_report(original)
    assert result.notes == ["XMP packet unreadable (entity declarations refused): blanked whole"]
    assert read_face_tags(result.data).errors == []
    assert b"lol" not in result.data
    assert jpeg_scan(result.data) == jpeg_scan(original)


def test_person_written_as_an_attribute_is_removed_alone():
    xmp = packet(attrs='xmp:CreatorTool="Camera 1.0" Iptc4xmpExt:PersonInImage="Alice"')
    original = encode(stored_image(), "JPEG", xmp)
    assert [r.name for r in read_face_tags(original).regions] == ["Alice"]
    stripped = strip_face_tags(original)
    assert read_face_tags(stripped).regions == []
    assert b'xmp:CreatorTool="Camera 1.0"' in stripped and b"Alice" not in stripped


def test_file_without_face_tags_is_returned_unchanged():
    original = encode(stored_image(), "JPEG", packet(TITLE))
    assert strip_face_tags(original) == original


def test_strip_is_idempotent():
    once = strip_face_tags(encode(stored_image(), "PNG", EVERYTHING))
    assert strip_face_tags(once) == once


def test_packet_in_an_unknown_container_is_stripped_in_place():
    out = io.BytesIO()
    stored_image().save(out, "BMP")
    original = out.getvalue() + packet(TITLE, mwg_regions([mwg_face(0.5, 0.5, 0.2, 0.2, "Alice")]), wrapper=False)
    stripped = strip_face_tags(original)
    assert read_face_tags(stripped).regions == []
    assert stripped[:len(out.getvalue())] == out.getvalue()
    assert _title(_xmp_texts(stripped)) == "Harbour at dusk"


def test_heif_packet_is_stripped_in_place():
    require_module("pillow_heif")
    out = io.BytesIO()
    stored_image((120, 80), (10, 10, 50, 50)).save(out, "HEIF", quality=-1, xmp=EVERYTHING)
    original = out.getvalue()
    assert len(read_face_tags(original).regions) == 4
    stripped = strip_face_tags(original)
    assert read_face_tags(stripped).regions == []
    assert len(stripped) == len(original)
    assert (pixels(stripped) == pixels(original)).all()
