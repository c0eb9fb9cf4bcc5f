"""`strip-face-tags SRC... --out DIR` through click's CliRunner, on real files in a temp folder."""

from __future__ import annotations

import os

from click.testing import CliRunner

from bipacheck.metadata import read_face_tags
from bipacheck.cli.strip_face_tags import strip_face_tags_command
from test_metadata_support import TITLE, encode, mwg_face, mwg_regions, packet, stored_image

FACES = packet(TITLE, mwg_regions([mwg_face(0.5, 0.5, 0.2, 0.2, "Alice"), mwg_face(0.2, 0.2, 0.1, 0.1, "Bea")]))


def _tree(root):
    return sorted(os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs)


def _snapshot(folder):
    return {p: open(os.path.join(folder, p), "rb").read() for p in _tree(folder)}


def _library(tmp_path):
    src = tmp_path / "photos"
    (src / "2019").mkdir(parents=True)
    (src / "a.jpg").write_bytes(encode(stored_image(), "JPEG", FACES, orientation=6))
    (src / "2019" / "b.png").write_bytes(encode(stored_image(), "PNG", packet(TITLE)))
    (src / "notes.txt").write_text("not an image")
    (src / "a.jpg.xmp").write_bytes(packet(mwg_regions([mwg_face(0.5, 0.5, 0.2, 0.2, "Cleo")])))
    return src


def test_folder_is_copied_stripped_and_sources_are_untouched(tmp_path):
    src = _library(tmp_path)
    before = _snapshot(src)
    out = tmp_path / "clean"
    result = CliRunner().invoke(strip_face_tags_command, [str(src), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert _snapshot(src) == before
    assert _tree(out) == [os.path.join("photos", "2019", "b.png"), os.path.join("photos", "a.jpg")]
    copy = (out / "photos" / "a.jpg").read_bytes()
    assert read_face_tags(copy).regions == []
    assert b"Harbour at dusk" in copy
    # A copy without face tags is the same file, byte for byte.
    assert (out / "photos" / "2019" / "b.png").read_bytes() == before[os.path.join("2019", "b.png")]
    lines = result.output.splitlines()
    assert f"{src / 'a.jpg'} -> {out / 'photos' / 'a.jpg'}: removed 2 face tag(s) (mwg 2)" in lines
    assert f"{src / '2019' / 'b.png'} -> {out / 'photos' / '2019' / 'b.png'}: no face tags; copied unchanged" in lines
    assert any("sidecar" in line and "a.jpg.xmp holds 1 face tag(s)" in line for line in lines)


def test_single_files_go_straight_into_the_output_folder(tmp_path):
    src = _library(tmp_path)
    out = tmp_path / "clean"
    result = CliRunner().invoke(strip_face_tags_command, [str(src / "a.jpg"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert _tree(out) == ["a.jpg"]


def test_refuses_to_overwrite_a_source(tmp_path):
    src = _library(tmp_path)
    before = _snapshot(src)
    # --out is the folder holding "photos", so photos/a.jpg would be written over itself.
    result = CliRunner().invoke(strip_face_tags_command, [str(src), "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "would overwrite the source" in result.output
    assert _snapshot(src) == before


def test_refuses_two_sources_landing_on_one_copy(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "y").mkdir()
    for folder in ("x", "y"):
        (tmp_path / folder / "a.jpg").write_bytes(encode(stored_image(), "JPEG", FACES))
    result = CliRunner().invoke(strip_face_tags_command, [
        str(tmp_path / "x" / "a.jpg"), str(tmp_path / "y" / "a.jpg"), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "would both be written to" in result.output
    assert not (tmp_path / "out").exists()


def test_output_folder_inside_the_source_is_not_recursed_into(tmp_path):
    src = _library(tmp_path)
    out = src / "clean"
    runner = CliRunner()
    for _ in range(2):  # the second run must not pick up the first run's copies
        result = runner.invoke(strip_face_tags_command, [str(src), "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert result.output.count(" -> ") == 2
    assert _tree(out) == [os.path.join("photos", "2019", "b.png"), os.path.join("photos", "a.jpg")]


def test_out_is_required_and_documented(tmp_path):
    photo = tmp_path / "a.jpg"
    photo.write_bytes(encode(stored_image(), "JPEG", FACES))
    runner = CliRunner()
    missing = runner.invoke(strip_face_tags_command, [str(photo)])
    assert missing.exit_code == 2 and "Missing option '--out'" in missing.output
    help_text = runner.invoke(strip_face_tags_command, ["--help"]).output
    assert "--out" in help_text and "never edited" in help_text
