"""Bad and hostile metadata is reported in FaceTags.errors, never raised, and never stops the
other sources from being read."""

from __future__ import annotations

import time

import pytest

from bipacheck.metadata import TagRegion, read_face_tags
from test_metadata_support import encode, ms_person, ms_regions, mwg_face, mwg_regions, packet, stored_image

GOOD_SIDECAR = packet(ms_regions([ms_person(0.1, 0.2, 0.25, 0.5, "Bob")]))
GOOD_REGION = TagRegion([20, 20, 50, 50], "Bob", True, "microsoft", "photo.jpg.xmp")

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE x:xmpmeta [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description xmlns:mwg-rs="http://www.metadataworkinggroup.com/schemas/regions/"
 mwg-rs:Name="&lol9;"/></rdf:RDF></x:xmpmeta>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE x:xmpmeta [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>&secret;</dc:title>
</rdf:Description></rdf:RDF></x:xmpmeta>"""


def _read_with_good_sidecar(embedded_packet: bytes, fmt: str = "JPEG"):
    data = encode(stored_image((200, 100)), fmt, embedded_packet)
    return read_face_tags(data, sidecars={"photo.jpg.xmp": GOOD_SIDECAR})


def test_billion_laughs_is_refused_quickly_and_the_sidecar_still_read():
    started = time.monotonic()
    tags = _read_with_good_sidecar(BILLION_LAUGHS)
    assert time.monotonic() - started < 30  # refused before any expansion (expanded, it would not finish)
    assert tags.regions == [GOOD_REGION]
    assert tags.errors == ["embedded XMP: entity declarations refused"]


def test_external_entity_is_refused_and_nothing_is_fetched():
    tags = _read_with_good_sidecar(EXTERNAL_ENTITY)
    assert tags.regions == [GOOD_REGION]
    assert tags.errors == ["embedded XMP: entity declarations refused"]
    assert "root:" not in repr(tags)


def test_dtd_without_entities_is_refused():
    doctype = b'<!DOCTYPE x:xmpmeta SYSTEM "http://example.com/x.dtd">' + packet(wrapper=False)
    tags = _read_with_good_sidecar(doctype)
    assert tags.errors == ["embedded XMP: DTD refused"]
    assert tags.regions == [GOOD_REGION]


@pytest.mark.parametrize("broken", [
    packet(mwg_regions([mwg_face(0.5, 0.5, 0.1, 0.1, "Alice")])).replace(b"</mwg-rs:Regions>", b""),
    packet().replace(b'xmlns:mwg-rs="http://www.metadataworkinggroup.com/schemas/regions/"', b"")
    .replace(b"</rdf:Description>", b"<mwg-rs:Regions/></rdf:Description>"),  # unbound prefix
    b"<x:xmpmeta xmlns:x='adobe:ns:meta/'>\x00\xff\xfe</x:xmpmeta>",
])
def test_broken_xml_is_reported(broken):
    tags = _read_with_good_sidecar(broken)
    assert tags.regions == [GOOD_REGION]
    assert len(tags.errors) == 1
    assert tags.errors[0].startswith("embedded XMP: XMP packet is not well-formed XML: ")


def test_five_megabyte_packet_is_ignored_unparsed():
    # WebP chunks have 32-bit lengths, so the whole 5 MB packet really sits in the file.
    huge = packet(mwg_regions([mwg_face(0.5, 0.5, 0.1, 0.1, "Alice")]), "<!--" + "x" * 5_000_000 + "-->")
    tags = _read_with_good_sidecar(huge, fmt="WEBP")
    assert tags.regions == [GOOD_REGION]
    assert tags.errors == ["embedded XMP: XMP packet over 2 MB ignored"]


def test_packet_limit_is_configurable():
    small = packet(mwg_regions([mwg_face(0.5, 0.5, 0.1, 0.1, "Alice")]))
    data = encode(stored_image((100, 100)), "JPEG", small)
    assert read_face_tags(data, max_packet_bytes=len(small) - 1).regions == []
    assert read_face_tags(data, max_packet_bytes=len(small)).regions[0].name == "Alice"


def test_deep_nesting_is_refused():
    deep = packet("<dc:x>" + "<dc:y>" * 2000 + "</dc:y>" * 2000 + "</dc:x>")
    tags = _read_with_good_sidecar(deep)
    assert tags.errors == ["embedded XMP: XMP packet nests too deeply"]
    assert tags.regions == [GOOD_REGION]


@pytest.mark.parametrize("junk", [
    b"",
    b"not an image at all",
    b"\xff\xd8\xff\xe1\xff\xff" + b"\x00" * 10,  # a JPEG segment longer than the file
    b"\x89PNG\r\n\x1a\n\x00\x00\xff\xffiTXt",  # a PNG chunk longer than the file
    b"II*\x00\xff\xff\xff\x7f",  # a TIFF directory far past the end
    b"RIFF\x10\x00\x00\x00WEBPXMP \xff\xff\xff\x00",
])
def test_truncated_or_garbage_files_never_raise(junk):
    tags = read_face_tags(junk, sidecars={"photo.jpg.xmp": GOOD_SIDECAR})
    assert tags.errors  # at least: the header cannot be read
    # Without the image size there is no box, but the sidecar's named person is still found.
    assert tags.regions == [TagRegion(None, "Bob", True, "microsoft", "photo.jpg.xmp")]


def test_nonsense_numbers_give_no_box_but_keep_the_name():
    items = [mwg_face("NaN", "0.5", "wide", "0.1", "Alice"), mwg_face("0.5", "0.5", "-1", "0.1", "Bea")]
    tags = read_face_tags(encode(stored_image((100, 100)), "JPEG", packet(mwg_regions(items))))
    assert tags.regions == [TagRegion(None, "Alice", True, "mwg"), TagRegion(None, "Bea", True, "mwg")]


def test_orientation_out_of_range_is_reported_and_read_as_upright():
    xmp = packet(mwg_regions([mwg_face(0.25, 0.5, 0.1, 0.2, "Alice")]))
    tags = read_face_tags(encode(stored_image((200, 100)), "JPEG", xmp, orientation=9))
    assert tags.regions[0].box == [40, 40, 20, 20]
    assert tags.errors == ["Exif orientation 9 is not 1..8; read as 1"]
