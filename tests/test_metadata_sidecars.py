"""Face tags kept next to the photo: XMP sidecars, Google Takeout JSON, Picasa .picasa.ini."""

from __future__ import annotations

import json
import os

import pytest

from bipacheck.metadata import TagRegion, read_face_tags, sidecar_paths
from test_metadata_support import encode, mwg_face, mwg_regions, packet, stored_image, upright_red_box


def _rect64(square, size) -> str:
    """Picasa's packing, done by hand: four 16-bit fractions of 65535, left/top/right/bottom."""
    (x0, y0, x1, y1), (w, h) = square, size
    parts = [round(x0 / w * 65535), round(y0 / h * 65535), round(x1 / w * 65535), round(y1 / h * 65535)]
    return "rect64(%x)" % ((parts[0] << 48) | (parts[1] << 32) | (parts[2] << 16) | parts[3])


def test_sidecar_paths_cover_the_common_writers():
    paths = sidecar_paths(os.path.join("photos", "IMG_1(2).jpg"))
    names = [os.path.basename(p) for p in paths]
    for expected in ["IMG_1(2).xmp", "IMG_1(2).jpg.xmp", "IMG_1(2).jpg.json",
                     "IMG_1(2).jpg.supplemental-metadata.json", "IMG_1.jpg(2).json", ".picasa.ini"]:
        assert expected in names
    assert "IMG_1(2).jpg" not in names
    assert all(os.path.dirname(p) == "photos" for p in paths)
    assert len(set(paths)) == len(paths)


def test_takeout_json_names_are_cut_to_46_characters():
    name = "a" * 50 + ".jpg"
    names = [os.path.basename(p) for p in sidecar_paths(name)]
    assert name[:46] + ".json" in names


def test_xmp_sidecar_regions_are_rotated_with_the_photo():
    photo = encode(stored_image((120, 80)), "JPEG", orientation=6)
    # Centre (0.5, 0.25), 0.2 x 0.25 of 120x80: stored x 48..72, y 10..30.
    # Shown after a clockwise turn (x' = 80 - y, y' = x): x' 50..70, y' 48..72.
    sidecar = packet(mwg_regions([mwg_face(0.5, 0.25, 0.2, 0.25, "Alice")]))
    tags = read_face_tags(photo, sidecars={"/photos/IMG_1.jpg.xmp": sidecar})
    assert tags.regions == [TagRegion([50, 48, 20, 24], "Alice", True, "mwg", "IMG_1.jpg.xmp")]


def test_takeout_people_are_names_without_boxes():
    doc = {"title": "IMG_1.jpg", "people": [{"name": "Alice"}, {"name": " "}, {"role": "x"}]}
    tags = read_face_tags(encode(stored_image(), "JPEG"),
                          sidecars={"IMG_1.jpg.json": json.dumps(doc).encode()})
    assert tags.regions == [
        TagRegion(None, "Alice", True, "google-takeout", "IMG_1.jpg.json"),
        TagRegion(None, None, False, "google-takeout", "IMG_1.jpg.json"),
        TagRegion(None, None, False, "google-takeout", "IMG_1.jpg.json"),
    ]


@pytest.mark.parametrize("content, message", [
    (b"{not json", "not valid JSON"),
    (b'{"people": "Alice"}', "'people' is not a list"),
    (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),
])
def test_bad_takeout_json_is_reported(content, message):
    tags = read_face_tags(encode(stored_image(), "JPEG"), sidecars={"IMG_1.jpg.json": content})
    assert tags.regions == []
    assert len(tags.errors) == 1 and message in tags.errors[0]


def test_takeout_json_without_people_has_no_tags():
    tags = read_face_tags(encode(stored_image(), "JPEG"),
                          sidecars={"IMG_1.jpg.json": b'{"title": "IMG_1.jpg", "geoData": {}}'})
    assert tags.regions == [] and tags.errors == []


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_picasa_faces_and_contacts(orientation):
    size, square = (200, 100), (120, 20, 160, 70)
    photo = encode(stored_image(size, square), "PNG", orientation=orientation)
    ini = (
        "[Picasa]\nname=Holiday\n"
        "[IMG_1.JPG]\n"
        f"faces={_rect64(square, size)},8e62398ebda8c1a5;"
        f"{_rect64((0, 0, 20, 20), size)},ffffffffffffffff;"
        f"{_rect64((20, 0, 40, 20), size)},1234abcd\n"
        "backuphash=1234\n"
        "[other.jpg]\nfaces=rect64(1000100020002000),8e62398ebda8c1a5\n"
        "[Contacts2]\n8e62398ebda8c1a5=Alice Example;;\n"
    ).encode()
    tags = read_face_tags(photo, sidecars={".picasa.ini": ini}, photo_name="img_1.jpg")
    assert tags.errors == []
    alice, unknown, uncatalogued = tags.regions
    assert (alice.name, alice.named, alice.tool, alice.where) == ("Alice Example", True, "picasa", ".picasa.ini")
    oracle = upright_red_box(photo)  # rect64 is 16-bit, so allow one pixel of rounding
    assert all(abs(a - b) <= 1 for a, b in zip(alice.box, oracle)), (alice.box, oracle)
    assert (unknown.name, unknown.named) == (None, False)  # Picasa's id for "not yet named"
    assert (uncatalogued.name, uncatalogued.named) == (None, True)  # a contact id still identifies


def test_picasa_needs_the_photo_name():
    tags = read_face_tags(encode(stored_image(), "JPEG"), sidecars={".picasa.ini": b"[a.jpg]\nfaces=\n"})
    assert tags.regions == []
    assert tags.errors == ["sidecar .picasa.ini: photo_name is needed to find the photo's section; ignored"]


def test_unknown_and_oversized_sidecars_are_reported():
    tags = read_face_tags(encode(stored_image(), "JPEG"), max_packet_bytes=100, sidecars={
        "notes.txt": b"Alice is in this photo",
        "IMG_1.xmp": packet(mwg_regions([mwg_face(0.5, 0.5, 0.1, 0.1, "Alice")])),
    })
    assert tags.regions == []
    assert tags.errors == [
        "sidecar notes.txt: not a known sidecar kind (.xmp, .json, .picasa.ini); ignored",
        "sidecar IMG_1.xmp: over 0.0001 MB ignored",
    ]


def test_files_found_with_sidecar_paths_are_all_read(tmp_path):
    photo_path = tmp_path / "IMG_1.jpg"
    photo_path.write_bytes(encode(stored_image((200, 100)), "JPEG",
                                  packet(mwg_regions([mwg_face(0.5, 0.5, 0.1, 0.2, "Embedded Ed")]))))
    (tmp_path / "IMG_1.xmp").write_bytes(packet(mwg_regions([mwg_face(0.25, 0.5, 0.1, 0.2, "Lightroom Lea")])))
    (tmp_path / "IMG_1.jpg.json").write_text(json.dumps({"people": [{"name": "Takeout Tom"}]}))
    (tmp_path / ".picasa.ini").write_text(f"[IMG_1.jpg]\nfaces={_rect64((0, 0, 50, 50), (200, 100))},aa\n"
                                          "[Contacts2]\naa=Picasa Pat;;\n")
    found = {p: open(p, "rb").read() for p in sidecar_paths(str(photo_path)) if os.path.isfile(p)}
    tags = read_face_tags(photo_path.read_bytes(), sidecars=found, photo_name=photo_path.name)
    assert tags.errors == []
    assert sorted((r.name, r.where) for r in tags.regions) == [
        ("Embedded Ed", "embedded"), ("Lightroom Lea", "IMG_1.xmp"),
        ("Picasa Pat", ".picasa.ini"), ("Takeout Tom", "IMG_1.jpg.json"),
    ]
