"""read_face_tags on real files carrying each kind of embedded face region."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageFile

from bipacheck.metadata import FaceTags, TagRegion, read_face_tags
from test_metadata_support import (
    TITLE,
    encode,
    iptc_person_in_image,
    iptc_region,
    iptc_regions,
    ms_person,
    ms_regions,
    mwg_face,
    mwg_regions,
    packet,
    rb_rect,
    stored_image,
    upright_red_box,
)
from tests.requirements import require_module

SIZE = (120, 80)
SQUARE = (70, 10, 100, 50)  # stored pixels x0, y0, x1, y1 of the red "face"


def _mwg_for(square, size=SIZE, name="Alice"):
    x0, y0, x1, y1 = square
    w, h = size
    return mwg_regions([mwg_face((x0 + x1) / 2 / w, (y0 + y1) / 2 / h, (x1 - x0) / w, (y1 - y0) / h, name)])


def _ms_for(square, size=SIZE, name="Bob"):
    x0, y0, x1, y1 = square
    w, h = size
    return ms_regions([ms_person(x0 / w, y0 / h, (x1 - x0) / w, (y1 - y0) / h, name)])


def _iptc_relative_for(square, size=SIZE):
    x0, y0, x1, y1 = square
    w, h = size
    return iptc_regions([iptc_region(rb_rect(x0 / w, y0 / h, (x1 - x0) / w, (y1 - y0) / h), person="Carol")])


def _iptc_pixel_for(square, size=SIZE):
    x0, y0, x1, y1 = square
    return iptc_regions([iptc_region(rb_rect(x0, y0, x1 - x0, y1 - y0, unit="pixel"), person="Dave")])


SCHEMAS = {
    "mwg": (_mwg_for, "Alice"),
    "microsoft": (_ms_for, "Bob"),
    "iptc-relative": (_iptc_relative_for, "Carol"),
    "iptc-pixel": (_iptc_pixel_for, "Dave"),
}


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "TIFF"])
def test_mwg_face_is_read_from_every_container(fmt):
    # Square 30..54 x 20..56 in a 120x80 image, orientation 1: the box is the square itself.
    data = encode(stored_image(SIZE), fmt, packet(TITLE, _mwg_for((30, 20, 54, 56))))
    tags = read_face_tags(data)
    assert tags.errors == []
    assert tags.regions == [TagRegion([30, 20, 24, 36], "Alice", True, "mwg", "embedded")]


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("schema", sorted(SCHEMAS))
def test_regions_follow_every_exif_orientation(schema, orientation):
    build, name = SCHEMAS[schema]
    data = encode(stored_image(SIZE, SQUARE), "PNG", packet(build(SQUARE)), orientation=orientation)
    tags = read_face_tags(data)
    assert tags.errors == []
    [region] = tags.regions
    assert region.name == name and region.named
    # The oracle: Pillow's exif_transpose of the pixels, then wherever the red square landed.
    assert region.box == upright_red_box(data)


@pytest.mark.parametrize("orientation, expected", [
    (3, [20, 30, 30, 40]),  # 180 degrees: x' = 120 - x, y' = 80 - y
    (6, [30, 70, 40, 30]),  # displayed after a clockwise turn: x' = 80 - y, y' = x
    (8, [10, 20, 40, 30]),  # displayed after a counter-clockwise turn: x' = y, y' = 120 - x
])
def test_rotated_jpeg_boxes_by_hand(orientation, expected):
    data = encode(stored_image(SIZE, SQUARE), "JPEG", packet(_mwg_for(SQUARE)), orientation=orientation)
    [region] = read_face_tags(data).regions
    assert region.box == expected
    oracle = upright_red_box(data)  # JPEG blurs the edges by a pixel at most
    assert all(abs(a - b) <= 1 for a, b in zip(region.box, oracle))


def test_mwg_attribute_form_apple_faces_and_non_face_regions():
    items = [
        mwg_face(0.25, 0.5, 0.1, 0.2, "Alice", form="attributes"),
        mwg_face(0.5, 0.5, 0.2, 0.2, form="attributes",
                 extra='<mwg-rs:Extensions apple-fi:FaceID="7" apple-fi:AngleInfoYaw="0"/>'),
        mwg_face(0.75, 0.5, 0.1, 0.1, kind="Focus", form="attributes"),
        mwg_face(0.75, 0.25, 0.1, 0.1, "Rex", kind="Pet", form="attributes"),
    ]
    data = encode(stored_image((200, 100)), "JPEG", packet(mwg_regions(items, (200, 100), form="attributes")))
    tags = read_face_tags(data)
    assert tags.errors == []
    # Centre 0.25, 0.5 with size 0.1 x 0.2 of 200x100: left 40, top 40, 20 x 20.
    assert tags.regions == [
        TagRegion([40, 40, 20, 20], "Alice", True, "mwg"),
        TagRegion([80, 40, 40, 20], None, False, "apple"),
    ]


def test_mwg_pixel_areas_scale_from_applied_dimensions():
    # Tagged when the image was 240x160; it is now 120x80, so every pixel value halves:
    # centre (100, 60) size 40x80 becomes centre (50, 30) size 20x40 -> left 40, top 10.
    items = [mwg_face(100, 60, 40, 80, "Alice", unit="pixel")]
    data = encode(stored_image(SIZE), "JPEG", packet(mwg_regions(items, (240, 160))))
    assert read_face_tags(data).regions[0].box == [40, 10, 20, 40]


def test_mwg_applied_dimensions_written_in_display_order_still_scale_right():
    # Stored 120x80 shown with orientation 6, AppliedToDimensions written as the displayed 80x120.
    # Stored-frame area: centre (60, 40) size 20x20 -> x 50..70, y 30..50;
    # rotated clockwise (x' = 80 - y, y' = x): x' 30..50, y' 50..70.
    items = [mwg_face(60, 40, 20, 20, "Alice", unit="pixel")]
    data = encode(stored_image(SIZE), "JPEG", packet(mwg_regions(items, (80, 120))), orientation=6)
    assert read_face_tags(data).regions[0].box == [30, 50, 20, 20]


def test_microsoft_regions_in_both_forms():
    items = [
        ms_person(0.1, 0.2, 0.25, 0.5, "Bob"),
        ms_person(0.5, 0.2, 0.25, 0.5, digest="2A3F9C", form="attributes"),
        ms_person(0.7, 0.0, 0.1, 0.1, "ffffffffffffffff"),  # a face the user chose to ignore
    ]
    data = encode(stored_image((200, 100)), "JPEG", packet(ms_regions(items)))
    tags = read_face_tags(data)
    # "x, y, w, h" with x, y the top-left corner: 0.1*200 = 20, 0.2*100 = 20, 50 x 50.
    assert tags.regions == [
        TagRegion([20, 20, 50, 50], "Bob", True, "microsoft"),
        TagRegion([100, 20, 50, 50], None, True, "microsoft"),
        TagRegion([140, 0, 20, 10], None, False, "microsoft"),
    ]


def test_iptc_people_and_image_regions():
    circle = ("<Iptc4xmpExt:rbShape>circle</Iptc4xmpExt:rbShape><Iptc4xmpExt:rbUnit>relative</Iptc4xmpExt:rbUnit>"
              "<Iptc4xmpExt:rbX>0.5</Iptc4xmpExt:rbX><Iptc4xmpExt:rbY>0.5</Iptc4xmpExt:rbY>"
              "<Iptc4xmpExt:rbRx>0.1</Iptc4xmpExt:rbRx>")
    vertices = "".join(
        f'<rdf:li rdf:parseType="Resource"><Iptc4xmpExt:rbX>{x}</Iptc4xmpExt:rbX>'
        f"<Iptc4xmpExt:rbY>{y}</Iptc4xmpExt:rbY></rdf:li>"
        for x, y in [(0.1, 0.1), (0.3, 0.05), (0.2, 0.4)]
    )
    polygon = ("<Iptc4xmpExt:rbShape>polygon</Iptc4xmpExt:rbShape><Iptc4xmpExt:rbUnit>relative</Iptc4xmpExt:rbUnit>"
               f"<Iptc4xmpExt:rbVertices><rdf:Seq>{vertices}</rdf:Seq></Iptc4xmpExt:rbVertices>")
    details = ('<Iptc4xmpExt:PersonInImageWDetails><rdf:Bag><rdf:li rdf:parseType="Resource">'
               "<Iptc4xmpExt:PersonId><rdf:Bag><rdf:li>https://example.org/people/42</rdf:li></rdf:Bag>"
               "</Iptc4xmpExt:PersonId></rdf:li></rdf:Bag></Iptc4xmpExt:PersonInImageWDetails>")
    regions = iptc_regions([
        iptc_region(rb_rect(10, 20, 30, 40, unit="pixel"), person="Dave"),
        iptc_region(circle),
        iptc_region(polygon, ctype=None, person="Erin"),
        iptc_region(rb_rect(0.6, 0.1, 0.2, 0.2), ctype="http://cv.iptc.org/newscodes/imageregiontype/artwork",
                    name="Mural"),
        iptc_region(rb_rect(0, 0, 1, 1), person="Frank"),
        iptc_region(rb_rect(0.8, 0.5, 0.1, 0.2), name="Gina"),
    ])
    data = encode(stored_image((200, 100)), "PNG", packet(iptc_person_in_image("Carol"), details, regions))
    tags = read_face_tags(data)
    assert tags.errors == []
    assert tags.regions == [
        TagRegion(None, "Carol", True, "iptc"),
        TagRegion(None, None, True, "iptc"),  # identified by PersonId alone
        TagRegion([10, 20, 30, 40], "Dave", True, "iptc"),
        # radius 0.1 of the width = 20 px around (100, 50); the circle is round in pixels
        TagRegion([80, 30, 40, 40], None, False, "iptc"),
        # vertices span x 0.1..0.3 (20..60 px) and y 0.05..0.4 (5..40 px)
        TagRegion([20, 5, 40, 35], "Erin", True, "iptc"),
        # the whole-image boundary means "somewhere in the picture": a name without a box
        TagRegion(None, "Frank", True, "iptc"),
        TagRegion([160, 50, 20, 20], "Gina", True, "iptc"),
    ]


def test_one_person_in_two_schemas_is_reported_per_schema():
    # digiKam writes the same face as MWG and as Microsoft regions.
    xmp = packet(_mwg_for((30, 20, 54, 56)), _ms_for((30, 20, 54, 56), name="Alice"))
    tags = read_face_tags(encode(stored_image(SIZE), "JPEG", xmp))
    assert [(r.tool, r.name, r.box) for r in tags.regions] == [
        ("mwg", "Alice", [30, 20, 24, 36]), ("microsoft", "Alice", [30, 20, 24, 36])]


def test_regions_are_clamped_to_the_image():
    # Centre (0.95, 0.5), 0.2 wide: x 0.85..1.05 of 100 px -> 85..105, clamped to 85..100.
    xmp = packet(mwg_regions([mwg_face(0.95, 0.5, 0.2, 0.2, "Alice")]))
    [region] = read_face_tags(encode(stored_image((100, 100)), "JPEG", xmp)).regions
    assert region.box == [85, 40, 15, 20]


def test_region_wholly_outside_the_image_keeps_the_name_without_a_box():
    xmp = packet(mwg_regions([mwg_face(1.5, 0.5, 0.2, 0.2, "Alice")]))
    tags = read_face_tags(encode(stored_image((100, 100)), "JPEG", xmp))
    assert tags.regions == [TagRegion(None, "Alice", True, "mwg")]
    assert any("outside the image" in e for e in tags.errors)


def test_packet_found_by_raw_search_in_an_unknown_container():
    # BMP has no XMP slot; writers still append packets. Pillow reads the size from the header.
    out = io.BytesIO()
    stored_image((200, 100)).save(out, "BMP")
    data = out.getvalue() + packet(_mwg_for((20, 10, 60, 50), size=(200, 100)), wrapper=False)
    assert read_face_tags(data).regions == [TagRegion([20, 10, 40, 40], "Alice", True, "mwg")]


def test_region_names_in_a_foreign_namespace_are_reported_not_read():
    xmp = packet(mwg_regions([mwg_face(0.5, 0.5, 0.2, 0.2, "Alice")])).replace(
        b'xmlns:mwg-rs="http://www.metadataworkinggroup.com/schemas/regions/"',
        b'xmlns:mwg-rs="http://example.com/not-mwg/"')
    tags = read_face_tags(encode(stored_image((100, 100)), "JPEG", xmp))
    assert tags.regions == []
    assert any("'Regions' in unexpected namespace 'http://example.com/not-mwg/'" in e for e in tags.errors)


def test_image_without_metadata_has_nothing():
    assert read_face_tags(encode(stored_image(SIZE), "JPEG")) == FaceTags([], [])


def test_to_dict_is_json_ready():
    tags = read_face_tags(encode(stored_image(SIZE), "JPEG", packet(_mwg_for((30, 20, 54, 56)))))
    assert tags.to_dict() == {"regions": [{"box": [30, 20, 24, 36], "name": "Alice", "named": True,
                                           "tool": "mwg", "where": "embedded"}], "errors": []}


def test_header_is_read_without_decoding_pixels(monkeypatch):
    data = encode(stored_image(SIZE), "JPEG", packet(_mwg_for((30, 20, 54, 56))), orientation=6)

    def refuse(*_a, **_k):
        raise AssertionError("pixels decoded")
    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)
    assert read_face_tags(data).regions[0].box == [24, 30, 36, 24]  # x' = 80 - y, y' = x


def test_heif_regions_use_the_stored_frame_before_its_rotation():
    require_module("pillow_heif")
    out = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6
    stored_image(SIZE, SQUARE).save(out, "HEIF", quality=-1, exif=exif.tobytes(), xmp=packet(_mwg_for(SQUARE)))
    data = out.getvalue()
    [region] = read_face_tags(data).regions
    assert region.box == [30, 70, 40, 30]  # as for the JPEG with orientation 6 above
    oracle = upright_red_box(data)
    assert all(abs(a - b) <= 2 for a, b in zip(region.box, oracle)), (region.box, oracle)


def test_person_details_written_as_bare_names_still_count():
    sloppy = "<Iptc4xmpExt:PersonInImageWDetails><rdf:Bag><rdf:li>Hana</rdf:li></rdf:Bag></Iptc4xmpExt:PersonInImageWDetails>"
    tags = read_face_tags(encode(stored_image(SIZE), "JPEG", packet(sloppy)))
    assert tags.regions == [TagRegion(None, "Hana", True, "iptc")]
