"""Property-based tests on hostile inputs grown from real files: real photos encoded in every format
the loader reads, and real XMP packets and sidecars in every schema the metadata reader knows, with
bytes flipped, cut, repeated and spliced. Whatever comes in, the loader gives pixels or a typed
ImageError, a scan gives a result or a typed skip, and the metadata parsers give tags or listed
problems, never a surprise exception. Bounded for CI: few examples, a deadline per example, no
example database written into the checkout."""

from __future__ import annotations

import io
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, PngImagePlugin

from bipacheck.errors import ImageError
from bipacheck.imaging import load_image
from bipacheck.metadata import read_face_tags
from bipacheck.metadata.packets import find_packets
from bipacheck.metadata.rdf import XmpError, parse_packet
from bipacheck.metadata.schemas import find_face_tags
from bipacheck.scanning.scan import PhotoScan, SkippedFile, scan_bytes
from tests.images import encode, rgb, stored_with_orientation
from tests.test_audit_tags import ASTRONAUT_TAG
from tests.test_metadata_support import (
    iptc_person_in_image,
    iptc_region,
    iptc_regions,
    ms_person,
    ms_regions,
    mwg_face,
    mwg_regions,
    packet,
    rb_rect,
)

# BIPACHECK_FUZZ_EXAMPLES=5000 explores further (random, not the fixed CI sequence)
LONG = int(os.environ.get("BIPACHECK_FUZZ_EXAMPLES", "0"))
FUZZ = settings(max_examples=LONG or 80, deadline=5000, database=None, derandomize=not LONG,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])
MAX_PIXELS = 4_000_000  # a mutated header may declare anything: keep each example's memory small

XMP_PACKETS = [
    packet(mwg_regions([mwg_face(**ASTRONAUT_TAG, name="Ann Example"), mwg_face(0.8, 0.8, 0.1, 0.1)],
                       applied=(512, 512))),
    packet(mwg_regions([mwg_face(0.5, 0.5, 0.2, 0.3, name="Bo", form="attributes")], form="attributes")),
    packet(ms_regions([ms_person(0.1, 0.2, 0.3, 0.4, name="Cy Example", digest="ab" * 20)])),
    packet(iptc_person_in_image("Di Example"),
           iptc_regions([iptc_region(rb_rect(0.1, 0.1, 0.2, 0.2), person="Ed Example")])),
]
SIDECARS = {
    "photo.jpg.json": b'{"title": "photo.jpg", "people": [{"name": "Fay Example"}, {"name": ""}]}',
    ".picasa.ini": b"[Contacts2]\n1a2b=Gus Example;;\n[photo.jpg]\nfaces=rect64(3f845bcb59418507),1a2b;"
                   b"rect64(0),ffffffffffffffff\n",
}


def _photo_files() -> list[bytes]:
    small = rgb("astronaut")[::4, ::4]  # 128 x 128: each example decodes in milliseconds
    frames = [Image.fromarray(rgb(name)[::8, ::8]) for name in ("coffee", "chelsea")]
    gif = io.BytesIO()
    frames[0].save(gif, "GIF", save_all=True, append_images=frames[1:])
    tiff = io.BytesIO()
    frames[0].save(tiff, "TIFF", save_all=True, append_images=frames[1:])
    xmp = XMP_PACKETS[0]
    text = PngImagePlugin.PngInfo()
    text.add_itxt("XML:com.adobe.xmp", xmp.decode(), zip=True)
    text.add_text("Comment", "x" * 5000, zip=True)
    return [
        encode(small, "PNG", pnginfo=text),
        encode(small, "JPEG", quality=80, xmp=xmp),
        encode(small, "JPEG", progressive=True),
        stored_with_orientation(small, 6, "JPEG"),
        stored_with_orientation(small, 3, "PNG"),
        encode(Image.fromarray(small).convert("P"), "PNG"),
        encode(small, "WEBP", quality=70, xmp=xmp),
        gif.getvalue(),
        tiff.getvalue(),
        encode(small, "BMP"),
    ]


PHOTOS = _photo_files()


@st.composite
def mutated(draw, seeds: list[bytes]) -> bytes:
    """A real file with a few edits: bytes overwritten, a cut, a repeated or a spliced-in run."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(0, 6))):
        edit = draw(st.sampled_from(["flip", "cut", "repeat", "splice", "truncate"]))
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        if edit == "flip":
            data[at] = draw(st.integers(0, 255))
        elif edit == "cut":
            del data[at:at + draw(st.integers(1, 64))]
        elif edit == "repeat":
            data[at:at] = data[at:at + draw(st.integers(1, 64))] * draw(st.integers(1, 8))
        elif edit == "splice":
            other = draw(st.sampled_from(seeds))
            start = draw(st.integers(0, len(other) - 1))
            data[at:at] = other[start:start + draw(st.integers(1, 256))]
        else:
            del data[at:]
    return bytes(data)


@FUZZ
@given(mutated(PHOTOS))
def test_the_loader_gives_pixels_or_a_typed_error(data):
    try:
        image = load_image(data, max_pixels=MAX_PIXELS)
    except ImageError as exc:
        assert exc.reason and exc.message
        return
    assert image.frames and image.scale >= 1 and image.width > 0 and image.height > 0
    for frame in image.frames:
        assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3


@pytest.fixture(scope="module")
def detector():
    from bipacheck.detect.detectors import create_detector

    return create_detector("yunet", multipass=False)  # the fastest: the property is about the pipeline, not recall


@FUZZ
@given(data=mutated(PHOTOS))
def test_a_scan_gives_a_result_or_a_typed_skip(detector, data):
    from bipacheck.scanning.scan import ScanSettings

    result = scan_bytes(data, "f", "photo.jpg", detector, ScanSettings(max_pixels=MAX_PIXELS))
    assert isinstance(result, (PhotoScan, SkippedFile))
    if isinstance(result, SkippedFile):
        assert result.reason and result.message and result.sha256
    else:
        assert all(face.w > 0 and face.h > 0 for face in result.faces)
        assert not [e for e in result.tag_errors if "not fully read" in e], result.tag_errors


@FUZZ
@given(mutated(XMP_PACKETS))
def test_the_xmp_parser_gives_properties_or_an_xmp_error(packet_bytes):
    try:
        _, props = parse_packet(packet_bytes)
    except XmpError:
        return
    for found in find_face_tags(props, None):
        assert found.tool


@FUZZ
@given(mutated(PHOTOS), st.sampled_from(XMP_PACKETS + list(SIDECARS.values())).flatmap(lambda s: mutated([s])),
       st.sampled_from(["photo.jpg.xmp", *SIDECARS]))
def test_the_metadata_reader_lists_problems_and_never_gives_up(photo, sidecar, sidecar_name):
    assert find_packets(photo, 2_000_000) is not None
    tags = read_face_tags(photo, sidecars={sidecar_name: sidecar}, photo_name="photo.jpg")
    # the reader's last guard turns a surprise into "not fully read": no input may need it
    assert not [e for e in tags.errors if "not fully read" in e], tags.errors
    for region in tags.regions:
        assert region.box is None or (len(region.box) == 4 and region.box[2] > 0 and region.box[3] > 0)
