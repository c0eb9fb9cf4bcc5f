"""`redact` leaves no face anywhere in a copy and writes nowhere but below --out: a re-scan of the copies,
with every view and embedded image searched, finds no face without a release; the copies carry only
allow-listed metadata; a link planted in --out never leads a copy onto the originals; two sources with
the same name keep their copies apart."""

from __future__ import annotations

import hashlib
import io
import json
import os

import pytest
from click.testing import CliRunner
from PIL import Image, PngImagePlugin

from bipacheck.cli import cli
from bipacheck.ledger import Ledger
from tests.images import encode, rgb, side_by_side
from tests.test_hidden_faces import FACE, HIDDEN, SCENE, exif_with_thumbnail, thumbnail_of, xmp_with_thumbnail

pytestmark = pytest.mark.usefixtures("operator")  # tests/conftest.py: an attested Illinois operator


def run(*args) -> tuple[int, str]:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    return result.exit_code, result.output


def digests(folder) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture
def ledger(tmp_path):
    path = tmp_path / "consent.db"
    Ledger.create(path).close()
    return path


def hiding_everywhere(folder) -> None:
    """One file per place a face can hide, plus one face in plain sight with a thumbnail, an XMP
    thumbnail and text chunks of its own."""
    folder.mkdir()
    for name, make in HIDDEN.values():
        (folder / name).write_bytes(make())
    bystander = side_by_side("astronaut", "coffee")
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "uploaded from the booth")
    info.add_itxt("XML:com.adobe.xmp", xmp_with_thumbnail(thumbnail_of(FACE)).decode())
    (folder / "bystander.png").write_bytes(encode(bystander, "PNG", pnginfo=info,
                                                  exif=exif_with_thumbnail(thumbnail_of(bystander))[6:]))
    (folder / "bystander.jpg").write_bytes(encode(bystander, "JPEG", quality=90, exif=exif_with_thumbnail(
        thumbnail_of(bystander)), xmp=xmp_with_thumbnail(thumbnail_of(FACE))))


def test_a_rescan_of_the_redacted_copies_finds_no_face_anywhere(tmp_path, ledger, centerface):
    source = tmp_path / "uploads"
    hiding_everywhere(source)
    code, before = run("scan", source, "--format", "json", "-q")
    # each hidden face, and in the two bystander files the bystander and the face in their XMP thumbnail
    assert sum(len(f["faces"]) for f in json.loads(before)["files"]) == len(HIDDEN) + 4
    out = tmp_path / "out"
    code, text = run("redact", source, "--ledger", ledger, "--out", out, "--no-cache")
    assert code == 0, text
    copies = out / "uploads"
    assert sorted(p.name for p in copies.iterdir()) == sorted(p.name for p in source.iterdir())
    code, after = run("scan", copies, "--format", "json", "--threshold", "0.2", "-q")  # weaker remnants too
    doc = json.loads(after)
    assert code == 0 and [f["faces"] for f in doc["files"]] == [[]] * len(doc["files"]), doc
    for copy in copies.iterdir():
        data = copy.read_bytes()
        for encoded_image in (b"/9j/", b"iVBORw0KGgo"):  # no base64 image left in any metadata
            assert encoded_image not in data, copy.name
        assert b"\xff\xd8\xff" not in data[3:], copy.name  # no JPEG inside: no EXIF thumbnail, nothing after the end
        with Image.open(io.BytesIO(data)) as im:
            assert not getattr(im, "text", {}).get("Comment"), copy.name  # no text chunk but allow-listed XMP


def test_copies_with_nothing_to_obscure_keep_only_allow_listed_metadata(tmp_path, ledger, centerface):
    source = tmp_path / "scenes"
    source.mkdir()
    exif = Image.Exif()
    exif[0x010F] = "TestCam"
    exif[0x0112] = 1
    exif.get_ifd(0x8769)[0x927C] = b"maker note: a 64 KB preview would sit here" * 4  # MakerNote
    (source / "scene.jpg").write_bytes(encode(SCENE, "JPEG", quality=90, exif=exif.tobytes()) + b"appended bytes")
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "free text")
    (source / "scene.png").write_bytes(encode(SCENE, "PNG", pnginfo=info))
    out = tmp_path / "out"
    code, text = run("redact", source, "--ledger", ledger, "--out", out, "--no-cache")
    assert code == 0, text
    jpeg, png = (out / "scenes" / "scene.jpg").read_bytes(), (out / "scenes" / "scene.png").read_bytes()
    with Image.open(io.BytesIO(jpeg)) as im:
        kept = im.getexif()
        assert kept[0x010F] == "TestCam" and 0x927C not in kept.get_ifd(0x8769)
        assert im.tobytes() == Image.open(source / "scene.jpg").tobytes()  # the same image data
    assert not jpeg.endswith(b"appended bytes") and b"Comment" not in png and b"free text" not in png


def test_a_link_planted_in_out_never_leads_a_copy_onto_the_originals(tmp_path, ledger, centerface):
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "team.jpg").write_bytes(encode(side_by_side("astronaut", "camera"), "JPEG", quality=90))
    (photos / "scene.png").write_bytes(encode(rgb("coffee")))
    originals = digests(photos)
    out = tmp_path / "out"
    out.mkdir()
    (out / "photos").symlink_to("../photos")  # the copies of photos/ would land on photos/
    code, text = run("redact", photos, "--ledger", ledger, "--out", out, "--no-cache")
    assert code == 1 and "symbolic link" in text, text
    assert digests(photos) == originals
    (out / "photos").unlink()
    (out / "photos").mkdir()
    (out / "photos" / "team.jpg").symlink_to(photos / "team.jpg")  # a file link: replaced, not written through
    code, text = run("redact", photos, "--ledger", ledger, "--out", out, "--no-cache")
    assert code == 0, text
    assert digests(photos) == originals and not (out / "photos" / "team.jpg").is_symlink()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "out-link").symlink_to(elsewhere)
    code, text = run("redact", photos, "--ledger", ledger, "--out", tmp_path / "out-link", "--no-cache")
    assert code == 2 and "symbolic link" in text and list(elsewhere.iterdir()) == []


def test_two_sources_with_the_same_name_keep_their_copies_apart(tmp_path, ledger, centerface):
    for parent, picture in (("a", side_by_side("astronaut", "coffee")), ("b", rgb("coffee"))):
        (tmp_path / parent / "photos").mkdir(parents=True)
        (tmp_path / parent / "photos" / "x.jpg").write_bytes(encode(picture, "JPEG", quality=90))
    out = tmp_path / "out"
    code, text = run("redact", tmp_path / "a" / "photos", tmp_path / "b" / "photos", "--ledger", ledger,
                     "--out", out, "--no-cache")
    assert code == 0, text
    copies = sorted(str(p.relative_to(out)) for p in out.rglob("x.jpg"))
    assert copies == ["a/photos/x.jpg", "b/photos/x.jpg"]
    manifest = json.loads((out / "bipacheck-redaction.json").read_text())
    assert sorted(len(p["obscured"]) for p in manifest["photos"]) == [0, 1]
    assert os.stat(out / "bipacheck-redaction.json").st_mode & 0o777 == 0o600


def test_out_holding_a_source_never_writes_a_copy_over_its_original(tmp_path, ledger, centerface):
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "team.jpg").write_bytes(encode(side_by_side("astronaut", "camera"), "JPEG", quality=90))
    originals = digests(photos)
    # --out is the folder above the source: the copies of photos/ would go to photos/ itself
    code, text = run("redact", photos, "--ledger", ledger, "--out", tmp_path, "--no-cache")
    assert code == 2 and "overlaps the source" in text, text
    assert digests(photos) == originals
    # the same one level down: the source inside --out, under the name its copies get
    inner = tmp_path / "big" / "in"
    inner.mkdir(parents=True)
    (inner / "team.jpg").write_bytes((photos / "team.jpg").read_bytes())
    code, text = run("redact", inner, "--ledger", ledger, "--out", tmp_path / "big", "--no-cache")
    assert code == 2 and digests(inner) == originals, text
