"""A face the photo's colours do not show is still a face: one drawn only in the alpha channel, or one
in an image embedded in the file (the EXIF thumbnail, an XMP thumbnail, a base64 JPEG in a PNG text
chunk, an image after the end of the JPEG as MPF stores it). Found, labelled where it was found, at
least `review`; an embedded image that cannot be decoded is never a clean bill of health."""

from __future__ import annotations

import base64
import io
import json
import struct
import time
import zlib

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image, PngImagePlugin

from bipacheck.cli import cli
from bipacheck.ledger import Ledger
from tests.images import encode, rgb

pytestmark = pytest.mark.usefixtures("operator")  # tests/conftest.py: an attested Illinois operator

FACE = rgb("astronaut")[:300, 100:400]  # one face, about 100 px
SCENE = rgb("coffee")  # no face


def run(*args) -> tuple[int, str]:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    return result.exit_code, result.output


def scan_json(path) -> dict:
    code, out = run("scan", path, "--format", "json", "-q")
    doc = json.loads(out)
    return code, doc["files"][0] if doc["files"] else doc["skipped"][0]


def audit_json(folder, ledger, *extra) -> tuple[int, dict]:
    code, out = run("audit", folder, "--ledger", ledger, "--format", "json", "--no-cache", "-q", *extra)
    return code, json.loads(out)


@pytest.fixture
def ledger(tmp_path):
    path = tmp_path / "consent.db"
    Ledger.create(path).close()
    return path


def folder_with(tmp_path, name: str, data: bytes):
    folder = tmp_path / "uploads"
    folder.mkdir(exist_ok=True)
    (folder / name).write_bytes(data)
    return folder


# -- building files the way cameras, editors and attackers write them ------------------------------

def exif_with_thumbnail(thumbnail: bytes) -> bytes:
    """An EXIF block (APP1 payload) whose IFD1 holds `thumbnail` as its JPEG thumbnail, as cameras write it."""
    ifd0 = struct.pack("<H", 1) + struct.pack("<HHII", 0x0112, 3, 1, 1) + struct.pack("<I", 26)  # orientation 1
    ifd1 = struct.pack("<H", 2) + struct.pack("<HHII", 0x0201, 4, 1, 56) + struct.pack("<HHII", 0x0202, 4, 1,
                                                                                        len(thumbnail))
    tiff = b"II*\x00" + struct.pack("<I", 8) + ifd0 + ifd1 + struct.pack("<I", 0)
    assert len(tiff) == 56  # the thumbnail follows IFD1, where JPEGInterchangeFormat points
    return b"Exif\x00\x00" + tiff + thumbnail


def xmp_with_thumbnail(thumbnail: bytes) -> bytes:
    """An XMP packet with an xmp:Thumbnails entry: base64 with line breaks written as &#xA;, as Adobe does."""
    lines = base64.b64encode(thumbnail).decode()
    wrapped = "&#xA;".join(lines[i:i + 76] for i in range(0, len(lines), 76))
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" '
        'xmlns:xmpGImg="http://ns.adobe.com/xap/1.0/g/img/"><xmp:Thumbnails><rdf:Alt><rdf:li rdf:parseType="Resource">'
        f'<xmpGImg:format>JPEG</xmpGImg:format><xmpGImg:image>{wrapped}</xmpGImg:image></rdf:li></rdf:Alt>'
        '</xmp:Thumbnails></rdf:Description></rdf:RDF></x:xmpmeta>').encode()


def thumbnail_of(pixels: np.ndarray, side: int = 160) -> bytes:
    im = Image.fromarray(pixels)
    im.thumbnail((side, side))
    return encode(np.asarray(im), "JPEG", quality=90)


def alpha_only_face(colour: int) -> bytes:
    """An RGBA PNG whose colour channels are flat (`colour`) and whose alpha draws the face."""
    grey = np.asarray(Image.fromarray(FACE).convert("L"))
    rgba = np.zeros(grey.shape + (4,), np.uint8)
    rgba[..., :3] = colour
    rgba[..., 3] = 255 - grey if colour == 0 else grey  # shown over a page, it is the face
    return encode(Image.fromarray(rgba, "RGBA"), "PNG")


HIDDEN = {
    "alpha over a light page": ("alpha-black.png", lambda: alpha_only_face(0)),
    "alpha over a dark page": ("alpha-white.png", lambda: alpha_only_face(255)),
    "EXIF thumbnail": ("thumb.jpg", lambda: encode(SCENE, "JPEG", quality=90, exif=exif_with_thumbnail(
        thumbnail_of(FACE)))),
    "XMP thumbnail": ("xmp.jpg", lambda: encode(SCENE, "JPEG", quality=90, xmp=xmp_with_thumbnail(
        thumbnail_of(FACE)))),
    "PNG text chunk": ("text.png", lambda: encode(SCENE, "PNG", pnginfo=_text_chunk(
        base64.b64encode(thumbnail_of(FACE, 200)).decode()))),
    "after the end of the JPEG": ("mpf.jpg", lambda: encode(SCENE, "JPEG", quality=90) + thumbnail_of(FACE, 400)),
}


# -- places found by the second red-team exercise (issue 23's re-test) ---------------------------------

def _tiff(build) -> bytes:
    tifffile = pytest.importorskip("tifffile")  # scikit-image's own dependency
    buffer = io.BytesIO()
    with tifffile.TiffWriter(buffer) as tiff:
        build(tiff)
    return buffer.getvalue()


def _icon(fmt: str) -> bytes:
    """An icon whose largest image is a scene and a smaller one the face (a file browser shows either)."""
    large = Image.fromarray(SCENE[:256, :256]) if fmt == "ICO" else Image.fromarray(SCENE[:512, :512])
    small = Image.fromarray(FACE).resize((128, 128) if fmt == "ICO" else (256, 256))
    if fmt == "ICO":
        return encode(large, "ICO", sizes=[(256, 256), (128, 128)], append_images=[small])
    return encode(large, "ICNS", append_images=[small])


def _exif_with_stripped_thumbnail() -> bytes:
    """An EXIF block whose IFD1 is an uncompressed RGB thumbnail (strips of pixels, no JPEG signature)."""
    strips = encode(Image.fromarray(FACE).resize((128, 128)), "TIFF")  # Pillow: uncompressed, little-endian
    page = struct.unpack("<I", strips[4:8])[0]
    strips += b"\x00" * (len(strips) % 2)
    ifd0 = struct.pack("<H", 1) + struct.pack("<HHIHH", 0x0112, 3, 1, 1, 0) + struct.pack("<I", page)
    return b"Exif\x00\x00" + strips[:4] + struct.pack("<I", len(strips)) + strips[8:] + ifd0


def _jfif_thumbnail() -> bytes:
    """A JPEG whose JFIF segment carries a thumbnail of bare RGB pixels."""
    side = 147  # 3 x 147 x 147 bytes: the most a segment holds
    pixels = np.asarray(Image.fromarray(FACE).resize((side, side))).tobytes()
    body = b"JFIF\x00\x01\x02\x00\x00\x01\x00\x01" + bytes([side, side]) + pixels
    jpeg = encode(SCENE, "JPEG", quality=90)
    length = struct.unpack(">H", jpeg[4:6])[0]  # Pillow's own JFIF segment, replaced
    return jpeg[:2] + b"\xff\xe0" + struct.pack(">H", len(body) + 2) + body + jpeg[4 + length:]


def _transparent_grey_level() -> bytes:
    """A 16-bit grey PNG whose face is drawn in its transparent grey level (tRNS): every value is 0 or 1
    of 65535, so the grey is black throughout, and a viewer shows the face as its transparency."""
    shape = np.asarray(Image.fromarray(FACE).convert("L")) > 110
    grey = np.where(shape, 0, 1).astype("<u2")
    grey[0, 0] = 65535
    return encode(Image.frombytes("I;16", grey.shape[::-1], grey.tobytes()), "PNG", transparency=0)


def _xmp_holding(text: str) -> bytes:
    return encode(SCENE, "JPEG", quality=90, xmp=(
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<rdf:Description rdf:about="" xmlns:e="urn:example:"><e:preview>{text}</e:preview></rdf:Description>'
        '</rdf:RDF></x:xmpmeta>').encode())


def _psd(merged: np.ndarray, layers: list[np.ndarray]) -> bytes:
    """A Photoshop file (RGB, raw channels) showing `merged`, with these layers over the whole canvas."""
    height, width = merged.shape[:2]
    records, channels = b"", b""
    for index, layer in enumerate(layers):
        records += struct.pack(">iiiiH", 0, 0, height, width, 3)
        records += b"".join(struct.pack(">hI", c, 2 + height * width) for c in range(3))
        name = b"\x07layer%02d" % index
        records += b"8BIMnorm\xff\x00\x00\x00" + struct.pack(">III", 16, 0, 0) + name
        channels += b"".join(b"\x00\x00" + layer[..., c].tobytes() for c in range(3))
    info = struct.pack(">h", len(layers)) + records + channels
    info += b"\x00" * (len(info) % 2)
    section = struct.pack(">I", len(info)) + info + struct.pack(">I", 0)
    return (b"8BPS" + struct.pack(">H", 1) + b"\x00" * 6 + struct.pack(">HIIHH", 3, height, width, 8, 3)
            + struct.pack(">II", 0, 0) + struct.pack(">I", len(section)) + section
            + b"\x00\x00" + b"".join(merged[..., c].tobytes() for c in range(3)))


def _nearly_black() -> np.ndarray:
    """The face in four levels (0-3): the detector sees a black picture."""
    return np.round(FACE.astype(np.float32) * 3 / 255).astype(np.uint8)


def _with_gamma(png: bytes, gamma: int) -> bytes:
    """A PNG with a gAMA chunk (gamma x 100000) after IHDR: browsers apply it."""
    body = b"gAMA" + struct.pack(">I", gamma)
    chunk = struct.pack(">I", 4) + body + struct.pack(">I", zlib.crc32(body))
    return png[:33] + chunk + png[33:]


def _brightening_profile() -> bytes:
    """An RGB display profile (ICC v2) whose tone curves take the values 0..3 to black..white."""
    def s15(v):
        return struct.pack(">i", round(v * 65536))

    def xyz(x, y, z):
        return b"XYZ \x00\x00\x00\x00" + s15(x) + s15(y) + s15(z)
    curve = b"curv\x00\x00\x00\x00" + struct.pack(">I", 256) + b"".join(
        struct.pack(">H", round(min(1.0, v / 3) ** 2.2 * 65535)) for v in range(256))
    text = b"desc\x00\x00\x00\x00" + struct.pack(">I", 6) + b"trick\x00" + b"\x00" * 78
    tags = [(b"desc", text), (b"wtpt", xyz(0.9642, 1.0, 0.8249)), (b"rXYZ", xyz(0.4361, 0.2225, 0.0139)),
            (b"gXYZ", xyz(0.3851, 0.7169, 0.0971)), (b"bXYZ", xyz(0.1431, 0.0606, 0.7141)),
            (b"rTRC", curve), (b"gTRC", curve), (b"bTRC", curve), (b"cprt", b"text\x00\x00\x00\x00none\x00")]
    offset, table, body = 132 + 12 * len(tags), b"", b""
    for signature, data in tags:
        body += b"\x00" * (-(offset + len(body)) % 4)
        table += signature + struct.pack(">II", offset + len(body), len(data))
        body += data
    header = (struct.pack(">I", 132 + len(table) + len(body)) + b"lcms" + struct.pack(">I", 0x02100000)
              + b"mntrRGB XYZ " + b"\x00" * 12 + b"acspAPPL" + b"\x00" * 24 + s15(0.9642) + s15(1.0) + s15(0.8249))
    return header.ljust(128, b"\x00") + struct.pack(">I", len(tags)) + table + body


MORE_HIDDEN = {
    "a PNG gamma that brightens a black picture": ("gamma.png", lambda: _with_gamma(
        encode(np.uint8(255) - _nearly_black(), "PNG"), 2000), "colour-managed"),
    "an ICC profile that brightens a black picture": ("icc.png", lambda: encode(
        _nearly_black(), "PNG", icc_profile=_brightening_profile()), "colour-managed"),
    "a PSD layer the merged image covers": ("layers.psd", lambda: _psd(
        SCENE[:300, :300], [np.ascontiguousarray(FACE), np.ascontiguousarray(SCENE[:300, :300])]),
        "embedded:psd-layer:1"),
    "a smaller icon image": ("icon.ico", lambda: _icon("ICO"), "embedded:icon:"),
    "an icon family image": ("icon.icns", lambda: _icon("ICNS"), "embedded:icon:"),
    "a TIFF SubIFD": ("sub.tif", lambda: _tiff(lambda t: (t.write(SCENE, subifds=1), t.write(FACE))),
                      "embedded:tiff-subifd:1"),
    "a TIFF maker note": ("note.tif", lambda: _tiff(lambda t: t.write(SCENE, extratags=[
        (37500, 7, len(thumbnail_of(FACE)), thumbnail_of(FACE), True)])), "embedded:tiff-tag:37500"),
    "an uncompressed EXIF thumbnail": ("strips.jpg", lambda: encode(SCENE, "JPEG", quality=90,
                                                                   exif=_exif_with_stripped_thumbnail()),
                                       "embedded:exif-ifd1"),
    "a JFIF thumbnail": ("jfif.jpg", _jfif_thumbnail, "embedded:jfif-thumbnail"),
    "a JPEG as hex in XMP": ("hex.jpg", lambda: _xmp_holding(thumbnail_of(FACE).hex()), "embedded:xmp"),
    "a BMP as base64 in XMP": ("bmp.jpg", lambda: _xmp_holding(base64.b64encode(encode(
        Image.fromarray(FACE).resize((120, 120)), "BMP")).decode()), "embedded:xmp"),
    "a TIFF as base64 in XMP": ("tiff.jpg", lambda: _xmp_holding(base64.b64encode(encode(
        Image.fromarray(FACE).resize((120, 120)), "TIFF")).decode()), "embedded:xmp"),
    "after the end of a BMP": ("end.bmp", lambda: encode(SCENE, "BMP") + thumbnail_of(FACE, 300),
                               "embedded:after-end"),
    "after the end of a GIF": ("end.gif", lambda: encode(SCENE, "GIF") + thumbnail_of(FACE, 300),
                               "embedded:after-end"),
    "the transparent grey level of a 16-bit PNG": ("grey16.png", _transparent_grey_level, "alpha-"),
}


@pytest.mark.parametrize("case", list(MORE_HIDDEN))
def test_more_places_a_face_hides_are_searched(tmp_path, case, centerface):
    name, make, where = MORE_HIDDEN[case]
    code, scanned = scan_json(folder_with(tmp_path, name, make()))
    assert [f["found_in"][:len(where)] for f in scanned["faces"]] == [where], scanned


def test_a_tiff_subifd_that_cannot_be_decoded_is_not_a_clean_bill(tmp_path, ledger, centerface):
    """A camera raw (DNG) keeps its full-resolution image in a SubIFD in a compression nothing here
    decodes: the file is not scanned, not passed on its small preview page."""
    data = bytearray(_tiff(lambda t: (t.write(SCENE, subifds=1), t.write(FACE[:64, :64]))))
    offset = Image.open(io.BytesIO(bytes(data))).tag_v2[330]
    offset = offset[0] if isinstance(offset, tuple) else offset
    (count,) = struct.unpack_from("<H", data, offset)
    for entry in range(offset + 2, offset + 2 + 12 * count, 12):
        if struct.unpack_from("<H", data, entry)[0] == 259:  # Compression: a raw codec's number
            struct.pack_into("<HHIHH", data, entry, 259, 3, 1, 34713, 0)
    code, report = audit_json(folder_with(tmp_path, "raw.tif", bytes(data)), ledger)
    assert code == 3 and any("tiff-subifd" in f["message"] for f in report["findings"]), report["findings"]


def _text_chunk(value: str) -> PngImagePlugin.PngInfo:
    info = PngImagePlugin.PngInfo()
    info.add_text("Thumbnail", value)
    return info


@pytest.mark.parametrize("case", list(HIDDEN))
def test_a_face_the_colours_do_not_show_is_found_and_says_where(tmp_path, ledger, case, centerface):
    name, make = HIDDEN[case]
    folder = folder_with(tmp_path, name, make())
    code, scanned = scan_json(folder)
    assert len(scanned["faces"]) == 1, scanned
    where = scanned["faces"][0]["found_in"]
    assert where.startswith("alpha") if case.startswith("alpha") else where.startswith("embedded:")
    code, report = audit_json(folder, ledger)
    assert code == 1  # a face without a release is a violation wherever it is in the file
    (record,) = report["photos"][0]["face_records"]
    assert record["found_in"] == where
    rules = {f["rule_id"]: f["severity"] for f in report["findings"]}
    assert rules["BIPA-15B-NO-RELEASE"] == "violation"
    if not case.startswith("alpha"):
        assert rules["BIPACHECK-HIDDEN-FACE"] == "review"


def test_a_hidden_face_stays_at_least_review_when_no_identifiers_are_derived(tmp_path, ledger, centerface):
    folder = folder_with(tmp_path, "thumb.jpg", HIDDEN["EXIF thumbnail"][1]())
    code, report = audit_json(folder, ledger, "--processing", "none")
    severities = {f["rule_id"]: f["severity"] for f in report["findings"]}
    assert severities["BIPA-15B-NO-RELEASE"] == "info" and severities["BIPACHECK-HIDDEN-FACE"] == "review"


def test_a_preview_of_the_photo_itself_adds_no_face(tmp_path, ledger, centerface):
    """A camera's own thumbnail and a large MPF-style preview show the photo's face: counted once."""
    photo = np.ascontiguousarray(rgb("astronaut"))
    data = encode(photo, "JPEG", quality=90, exif=exif_with_thumbnail(thumbnail_of(photo))) + \
        encode(np.asarray(Image.fromarray(photo).resize((480, 480))), "JPEG", quality=85)
    folder = folder_with(tmp_path, "camera.jpg", data)
    code, scanned = scan_json(folder)
    assert code == 0 and len(scanned["faces"]) == 1 and "found_in" not in scanned["faces"][0]
    assert any("shows the photo itself" in w for w in scanned["warnings"])


def test_an_embedded_image_that_cannot_be_decoded_is_not_a_clean_bill(tmp_path, ledger, centerface):
    broken = thumbnail_of(FACE)
    data = encode(SCENE, "JPEG", quality=90, exif=exif_with_thumbnail(broken[: len(broken) // 2]))
    folder = folder_with(tmp_path, "broken-thumb.jpg", data)
    code, scanned = scan_json(folder)
    assert code == 3 and scanned["not_scanned"] and "could not be decoded" in scanned["not_scanned"][0]
    code, report = audit_json(folder, ledger)
    assert code == 3
    (finding,) = [f for f in report["findings"] if f["rule_id"] == "BIPACHECK-UNSCANNED"]
    assert finding["details"]["reason"] == "embedded-not-scanned"


def test_an_embedded_decompression_bomb_is_refused_not_decoded(tmp_path, ledger, centerface):
    bomb = io.BytesIO()
    Image.new("L", (20000, 20000)).save(bomb, "PNG")  # 400 MP of zeros, a few hundred KB
    folder = folder_with(tmp_path, "bomb.png", encode(SCENE, "PNG", pnginfo=_text_chunk(
        base64.b64encode(bomb.getvalue()).decode())))
    code, scanned = scan_json(folder)
    assert code == 3 and "over the pixel budget" in scanned["not_scanned"][0]


def test_a_file_full_of_decoy_signatures_is_not_scanned_rather_than_searched_forever(tmp_path, ledger, centerface):
    """Hundreds of image signatures after the end of the image (decoys before a real face) cost no
    memory (views, not copies); past the limit the photo is 'not scanned', never clean."""
    decoys = b"\xff\xd8\xff\x00" * 300
    folder = folder_with(tmp_path, "decoys.jpg", encode(SCENE, "JPEG", quality=90) + decoys + thumbnail_of(FACE))
    code, scanned = scan_json(folder)
    assert code == 3 and any("possible embedded images" in note for note in scanned["not_scanned"])


def test_text_built_to_make_the_run_search_slow_is_searched_in_linear_time(tmp_path, centerface):
    """Runs one character short of base64 or hex length, each ended by a character that breaks them, in
    a PNG text chunk (64 MB inflate from little): searched at byte-search speed, not quadratic time
    (each 4 MB took 6 s per pattern before)."""
    text = ((b"A" * 135 + b"!") * 30_000) + ((b"ab" * 99 + b"g") * 20_000)
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", text.decode(), zip=True)
    folder = folder_with(tmp_path, "slow.png", encode(SCENE, "PNG", pnginfo=info))
    started = time.monotonic()
    code, scanned = scan_json(folder)
    assert code == 0 and scanned["faces"] == [] and time.monotonic() - started < 6


def test_an_image_nested_deeper_than_searched_is_not_a_clean_bill(tmp_path, centerface):
    """A face three embedded images deep (an XMP thumbnail's XMP thumbnail's XMP thumbnail): searching
    stops one level below the photo's own embedded images, and the photo is not scanned, never clean."""
    inner = thumbnail_of(FACE)
    for _ in range(2):
        inner = encode(SCENE[:160, :160], "JPEG", quality=90, xmp=xmp_with_thumbnail(inner))
    code, scanned = scan_json(folder_with(tmp_path, "nested.jpg", encode(SCENE, "JPEG", quality=90,
                                                                        xmp=xmp_with_thumbnail(inner))))
    assert code == 3 and any("nested more than 2 levels" in note for note in scanned["not_scanned"]), scanned


def test_layers_past_the_pixel_budget_are_not_a_clean_bill(tmp_path, centerface):
    """A file's own images (PSD layers, icon sizes) decode within a quarter of --max-pixels together, as
    embedded images do: hundreds of canvas-sized layers cannot cost hundreds of decodes."""
    layers = [np.ascontiguousarray(SCENE[:300, :300])] * 3
    folder = folder_with(tmp_path, "many.psd", _psd(SCENE[:300, :300], layers))
    code, out = run("scan", folder, "--format", "json", "-q", "--max-pixels", "250000")
    scanned = json.loads(out)["files"][0]
    assert code == 3 and any("over the pixel budget for the file's images: not decoded" in note
                             for note in scanned["not_scanned"]), scanned


def test_a_large_preview_of_the_photo_with_a_faint_face_added_is_searched(tmp_path, centerface):
    """The same-picture shortcut (a large preview showing the photo is not searched again) must not let
    a face through that the detector sees in the preview: here 8 grey levels of contrast on a flat page."""
    grey = np.asarray(Image.fromarray(FACE).convert("L").resize((300, 300))).astype(np.float32)
    preview = np.full((400, 500, 3), 128, np.float32)
    preview[50:350, 100:400] += ((grey - grey.mean()) / 255 * 8)[..., None]
    photo = encode(np.full((800, 1000, 3), 128, np.uint8), "JPEG", quality=95)
    code, scanned = scan_json(folder_with(tmp_path, "mpf.jpg", photo + encode(preview.round().astype(np.uint8), "PNG")))
    assert [f["found_in"] for f in scanned["faces"]] == ["embedded:after-end"], scanned


def test_a_padded_base64_image_followed_by_more_base64_is_found(tmp_path, centerface):
    """Line breaks are removed before runs are found: the `==` that ends one image's base64 must end its
    run, or the next line's text would make the image undecodable."""
    thumbnail = thumbnail_of(FACE)
    thumbnail += b"\x00" * ((1 - len(thumbnail)) % 3)  # base64 ending in "=="
    text = base64.b64encode(thumbnail).decode() + "\n" + base64.b64encode(bytes(range(256)) * 2).decode()
    code, scanned = scan_json(folder_with(tmp_path, "padded.jpg", _xmp_holding(text)))
    assert [f["found_in"] for f in scanned["faces"]] == ["embedded:xmp"], scanned
