"""bipacheck redact: exactly the faces without a valid release are obscured, everything else kept.

Pixels are compared decoded and upright: outside each copy's `changed_area` they must be equal
(PNG/WebP/BMP: the obscured regions themselves; JPEG: the DCT blocks under them plus one block).
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps, PngImagePlugin

from bipacheck.metadata import read_face_tags
from bipacheck.pipelines.redact.encode import redact_bytes
from bipacheck.pipelines.redact.jpeg import RedactError
from bipacheck.imaging.obscure import STYLES
from test_metadata_support import TITLE, mwg_face, mwg_regions, packet
from tests.images import encode, side_by_side, stored_with_orientation
from tests.test_audit import AS_OF, DEMO, audit_json, demo_ledger, run_cli  # noqa: F401 (fixture)

pytestmark = pytest.mark.usefixtures("operator")  # tests/conftest.py: an attested Illinois operator

BOX = [707, 115, 65, 85]  # the cameraman's face in side_by_side("astronaut", "camera"), upright


def upright(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(ImageOps.exif_transpose(im).convert("RGB")).astype(int)


def outside(shape, rects) -> np.ndarray:
    mask = np.ones(shape[:2], bool)
    for x0, y0, x1, y1 in rects:
        mask[y0:y1, x0:x1] = False
    return mask


def assert_only_regions_changed(before: bytes, after: bytes, result) -> None:
    a, b = upright(before), upright(after)
    assert a.shape == b.shape
    keep = outside(a.shape, result.changed_area)
    assert np.array_equal(a[keep], b[keep])
    for x0, y0, x1, y1 in result.regions:
        assert np.abs(a[y0:y1, x0:x1] - b[y0:y1, x0:x1]).mean() > 5  # really obscured


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_upright_boxes_land_on_the_right_stored_pixels(fmt, orientation):
    source = stored_with_orientation(side_by_side("astronaut", "camera"), orientation, fmt)
    result = redact_bytes(source, [BOX], "fill")
    assert Image.open(io.BytesIO(result.data)).getexif().get(0x0112) == orientation
    assert_only_regions_changed(source, result.data, result)
    x0, y0, x1, y1 = result.regions[0]
    assert x0 < BOX[0] and y0 < BOX[1] and x1 > BOX[0] + BOX[2] and y1 > BOX[1] + BOX[3]
    assert np.all(upright(result.data)[BOX[1]:BOX[1] + BOX[3], BOX[0]:BOX[0] + BOX[2]] < 16)  # filled black


@pytest.mark.parametrize("mode,subsampling", [("RGB", 0), ("RGB", 1), ("RGB", 2), ("L", 0)])  # 4:4:4, 4:2:2, 4:2:0
def test_jpeg_blocks_outside_the_regions_are_the_sources_own(mode, subsampling):
    im = Image.fromarray(side_by_side("astronaut", "camera")).convert(mode)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=87, subsampling=subsampling, progressive=subsampling == 1)
    result = redact_bytes(buf.getvalue(), [BOX, [10, 300, 40, 40]], "pixelate")
    assert_only_regions_changed(buf.getvalue(), result.data, result)
    assert Image.open(io.BytesIO(result.data)).quantization == Image.open(buf).quantization


def test_lossy_webp_copy_is_written_lossless_so_the_rest_is_exact():
    source = encode(side_by_side("astronaut", "camera"), "WEBP", quality=80)
    result = redact_bytes(source, [BOX], "blur")
    assert Image.open(io.BytesIO(result.data)).format == "WEBP"
    assert_only_regions_changed(source, result.data, result)


def exif_with_thumbnail(orientation: int, make: bytes) -> bytes:
    """A big-endian EXIF block with IFD0 (orientation, make) and an IFD1 holding a JPEG thumbnail."""
    thumb = encode(side_by_side("astronaut", "camera", height=64), "JPEG")
    make += b"\x00"
    ifd0_at, ifd1_at = 8, 8 + 2 + 2 * 12 + 4
    make_at = ifd1_at + 2 + 2 * 12 + 4
    thumb_at = make_at + len(make)
    ifd0 = struct.pack(">H", 2) + struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0) + \
        struct.pack(">HHII", 0x010F, 2, len(make), make_at) + struct.pack(">I", ifd1_at)
    ifd1 = struct.pack(">H", 2) + struct.pack(">HHII", 0x0201, 4, 1, thumb_at) + \
        struct.pack(">HHII", 0x0202, 4, 1, len(thumb)) + struct.pack(">I", 0)
    assert len(ifd0) == ifd1_at - ifd0_at
    return b"Exif\x00\x00" + b"MM\x00*" + struct.pack(">I", ifd0_at) + ifd0 + ifd1 + make + thumb


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_metadata_is_kept_but_face_tags_and_previews_go(fmt):
    im = Image.fromarray(side_by_side("astronaut", "camera")).transpose(Image.Transpose.ROTATE_90)  # stored for 6
    xmp = packet(TITLE, mwg_regions([mwg_face(0.7, 0.25, 0.1, 0.2, "Bystander")], (1024, 512)))
    exif = exif_with_thumbnail(6, b"TestCam")
    buf = io.BytesIO()
    if fmt == "PNG":  # PNG carries XMP in an iTXt chunk
        info = PngImagePlugin.PngInfo()
        info.add_itxt("XML:com.adobe.xmp", xmp.decode())
        im.save(buf, "PNG", exif=exif[6:], pnginfo=info)
    else:
        im.save(buf, fmt, exif=exif if fmt == "JPEG" else exif[6:], xmp=xmp,
                **({"quality": 90} if fmt == "JPEG" else {"lossless": True}))
    source = buf.getvalue()
    assert read_face_tags(source).regions and b"\xff\xd8\xff" in source[10:]  # tagged, with a thumbnail inside
    result = redact_bytes(source, [BOX], "blur")
    copy = Image.open(io.BytesIO(result.data))
    assert copy.format == fmt and copy.getexif().get(0x010F) == "TestCam" and copy.getexif().get(0x0112) == 6
    assert read_face_tags(result.data).regions == []
    assert b"Harbour at dusk" in result.data  # the rest of the XMP stays
    assert b"\xff\xd8\xff" not in result.data[10:]  # the EXIF thumbnail showed the bystander's face
    assert_only_regions_changed(source, result.data, result)


def test_an_obscured_face_overlapping_a_kept_one_is_reported(tmp_path):
    from bipacheck.pipelines.redact.run import PhotoPlan, write_copy

    source = tmp_path / "two.png"
    source.write_bytes(encode(side_by_side("astronaut", "camera")))
    face = lambda box, status: {"box": box, "subject_id": None, "consent_status": status}  # noqa: E731
    item = PhotoPlan(str(source), str(tmp_path / "out.png"), hashlib.sha256(source.read_bytes()).hexdigest(),
                     [face(BOX, "none")], [face([760, 120, 40, 40], "valid"), face([180, 60, 90, 115], "valid")])
    item.parts = ["out.png"]
    write_copy(item, "fill", str(tmp_path))
    assert item.error is None
    assert [n for n in item.notes if "overlaps the kept face" in n] == [
        "the area changed around an obscured face overlaps the kept face at [760, 120, 40, 40] (unidentified)"]


def test_formats_that_cannot_be_redacted_safely_are_refused():
    frames = [Image.fromarray(side_by_side("astronaut", "camera"))] * 2
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:])
    with pytest.raises(RedactError):
        redact_bytes(buf.getvalue(), [BOX], "blur")


def test_redacted_demo_has_no_face_without_consent_and_keeps_consented_pixels(tmp_path, demo_ledger, centerface):
    out = tmp_path / "out"
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (DEMO / "photos").iterdir()}
    code, text = run_cli("redact", DEMO / "photos", "--ledger", demo_ledger, "--out", out, "--as-of", AS_OF,
                         "--link-copies")
    assert code == 3, text  # the two unscannable files are not copied
    assert before == {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (DEMO / "photos").iterdir()}
    assert sorted(p.name for p in (out / "photos").iterdir()) == sorted(
        ["alice_portrait.jpg", "bob_profile.png", "carol_selfie.jpg", "dave_event.webp", "landscape.jpg",
         "team_offsite.jpg", "upload-7f3a9c"])
    manifest = json.loads((out / "bipacheck-redaction.json").read_text())
    assert {Path(n["path"]).name for n in manifest["not_copied"]} == {"broken_upload.jpg", "notes.jpg"}
    _, report = audit_json(out / "photos", "--ledger", demo_ledger, "--as-of", AS_OF, "--no-cache")
    assert report["summary"]["unconsented_faces"] == 0
    assert [f["rule_id"] for f in report["findings"]] == []
    assert {p["key"]: p["status"] for p in report["persons"]} == {"u-alice": "consented"}
    for item in manifest["photos"]:
        assert not Path(item["source"]).is_absolute() and not Path(item["output"]).is_absolute()
        source = (Path(manifest["audit"]["root"]) / item["source"]).read_bytes()
        copy = (out / item["output"]).read_bytes()
        a, b = upright(source), upright(copy)
        assert np.array_equal(a[outside(a.shape, item["changed_area"])], b[outside(b.shape, item["changed_area"])])
        for face in item["kept"]:  # consented faces: every pixel of the box as it was
            x, y, w, h = face["box"]
            assert np.array_equal(a[y:y + h, x:x + w], b[y:y + h, x:x + w])
        if not item["obscured"]:
            assert source == copy  # nothing to obscure and no face tags: the same bytes


@pytest.mark.parametrize("style", [s for s in STYLES if s != "blur"])
def test_every_style_leaves_no_detectable_face(tmp_path, style, centerface):
    out = tmp_path / "out"
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "two.jpg").write_bytes(encode(side_by_side("astronaut", "camera"), "JPEG", quality=90))
    code, text = run_cli("redact", folder, "--out", out, "--style", style)
    assert code == 0, text
    _, report = audit_json(out / "in", "--review-threshold", "0.1", "--no-cache")
    assert report["summary"]["faces"] == 0 and report["findings"] == []


def test_a_face_only_possible_at_the_threshold_is_obscured_too(tmp_path, centerface):
    """A face scoring below --threshold but above the review threshold is a review finding, not a
    face record: redact must still obscure it (fail closed), as the manifest and a re-scan show."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "one.jpg").write_bytes(encode(side_by_side("astronaut", "coffee"), "JPEG", quality=90))
    out = tmp_path / "out"
    code, text = run_cli("redact", folder, "--out", out, "--threshold", "0.99", "--review-threshold", "0.2",
                         "--no-cache")
    assert code == 0, text
    (item,) = json.loads((out / "bipacheck-redaction.json").read_text())["photos"]
    assert len(item["obscured"]) == 1 and item["obscured"][0]["source"] == "detector"
    _, report = audit_json(out / "in", "--review-threshold", "0.1", "--no-cache")
    assert report["summary"]["faces"] == 0 and report["findings"] == []


def test_dry_run_all_faces_and_refusing_to_write_into_a_source(tmp_path, demo_ledger, centerface):
    out = tmp_path / "out"
    code, text = run_cli("redact", DEMO / "photos", "--ledger", demo_ledger, "--out", out, "--as-of", AS_OF,
                         "--dry-run", "--all-faces")
    assert code == 0 and not out.exists()
    assert "team_offsite.jpg: 2 face(s) to obscure" in text and "u-alice, release valid" in text
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.png").write_bytes(encode(side_by_side("astronaut", "camera")))
    code, text = run_cli("redact", folder, "--out", folder / "redacted")
    assert code == 2 and "inside or next to the source" in text
    code, text = run_cli("redact", folder / "a.png", "--out", folder)
    assert code == 2 and not (folder / "redacted").exists()


def test_without_the_block_codec_the_whole_jpeg_is_reencoded_and_the_face_still_goes(tmp_path, monkeypatch,
                                                                                    centerface):
    """jpeglib is the `redact` extra: without it a JPEG copy is re-encoded whole with the source's own
    tables, the manifest says so, and no face is left (the core install stays complete)."""
    monkeypatch.setitem(sys.modules, "jpeglib", None)  # as if `bipacheck[redact]` were not installed
    source = encode(side_by_side("astronaut", "camera"), "JPEG", quality=90)
    result = redact_bytes(source, [BOX], "fill")
    assert any("re-encoded" in note for note in result.notes)
    a, b = upright(source), upright(result.data)
    assert result.changed_area == [[0, 0, a.shape[1], a.shape[0]]]
    assert Image.open(io.BytesIO(result.data)).quantization == Image.open(io.BytesIO(source)).quantization
    assert np.abs(a - b)[outside(a.shape, result.regions)].mean() < 2  # same tables: a light second pass
    x, y, w, h = BOX
    assert np.all(b[y:y + h, x:x + w] < 16)
    boxes = [f.box for f in centerface.detect(b.astype(np.uint8))]
    assert not any(abs(bx - x) < w and abs(by - y) < h for bx, by, _, _ in boxes), boxes


def test_redact_runs_without_the_block_codec_in_a_fresh_process(tmp_path):
    """The CLI path too: `redact` with jpeglib absent writes the copy and the note in its manifest."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "two.jpg").write_bytes(encode(side_by_side("astronaut", "camera"), "JPEG", quality=90))
    code = ("import sys; sys.modules['jpeglib'] = None; from bipacheck.cli import cli; "
            "cli(['redact', sys.argv[1], '--out', sys.argv[2], '--all-faces', '--no-cache'])")
    done = subprocess.run([sys.executable, "-c", code, str(folder), str(tmp_path / "out")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    (item,) = json.loads((tmp_path / "out" / "bipacheck-redaction.json").read_text())["photos"]
    assert item["obscured"] and any("re-encoded" in note for note in item["notes"])
