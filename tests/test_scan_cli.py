"""`bipacheck scan` over a real folder of good, odd and broken files."""

from __future__ import annotations

import json
import os
import struct
import threading
import zlib

import pytest
from click.testing import CliRunner
from PIL import Image

from bipacheck.cli import cli
from bipacheck.detect.base import iou
from tests.images import encode, rgb, stored_with_orientation
from tests.test_detect import ASTRONAUT_FACE


def scan(*args) -> tuple[int, dict, str]:
    result = CliRunner().invoke(cli, ["scan", "--format", "json", *map(str, args)])
    doc = json.loads(result.output) if result.output.startswith("{") else {}
    return result.exit_code, doc, result.output


def png_bomb() -> bytes:
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" * 4096)) + chunk(b"IEND", b""))


@pytest.fixture
def corpus(tmp_path):
    root = tmp_path / "uploads"
    (root / "nested" / "deeper").mkdir(parents=True)
    astronaut = rgb("astronaut")
    files = {
        "portrait.jpg": encode(astronaut, "JPEG", quality=90),
        "nested/deeper/sideways.jpg": stored_with_orientation(astronaut, 8, "JPEG"),
        "nested/7f3a9c0e": encode(astronaut, "PNG"),  # bucket-style key, no extension
        "nested/really-a-png.gif": encode(astronaut, "PNG"),  # wrong extension
        "cmyk.jpg": encode(Image.fromarray(astronaut).convert("CMYK"), "JPEG", quality=92),
        "grey16.png": encode(Image.fromarray(rgb("camera")[..., 0].astype("uint16") * 257), "PNG"),
        "bad-exif.jpg": (lambda j: j[:2] + b"\xff\xe1\x00\x10Exif\x00\x00MM\x00*\xff\xff\xff\xff" + j[2:])(
            encode(astronaut, "JPEG")),
        "scene.jpg": encode(rgb("coffee"), "JPEG"),
        # bad inputs
        "empty.jpg": b"",
        "truncated.jpg": encode(astronaut, "JPEG")[:5000],
        "notes.jpg": b"quarterly numbers, not a photo\n",
        "random.bin": bytes(range(256)) * 40,
        "bomb.png": png_bomb(),
    }
    for name, data in files.items():
        (root / name).write_bytes(data)
    os.symlink(root / "nested", root / "nested" / "deeper" / "loop")  # a symlink loop
    non_utf8 = os.fsencode(str(root)) + b"/caf\xe9.jpg"
    with open(non_utf8, "wb") as fh:
        fh.write(encode(astronaut, "JPEG"))
    return root


def test_scan_lists_every_file_scanned_or_skipped_with_reason(corpus, centerface):
    result: dict = {}
    worker = threading.Thread(target=lambda: result.update(zip(("code", "doc", "out"), scan(corpus))))
    worker.start()
    worker.join(timeout=120)  # the symlink loop must not hang the walk
    assert not worker.is_alive()
    code, doc = result["code"], result["doc"]
    assert code == 3  # some files could not be scanned

    scanned = {e["path"].removeprefix(str(corpus) + "/"): e for e in doc["files"]}
    skipped = {e["path"].removeprefix(str(corpus) + "/"): e["reason"] for e in doc["skipped"]}
    with_face = {"portrait.jpg", "nested/deeper/sideways.jpg", "nested/7f3a9c0e", "nested/really-a-png.gif",
                 "cmyk.jpg", "bad-exif.jpg", "caf\\xe9.jpg"}
    for name in with_face:
        faces = scanned[name]["faces"]
        assert len(faces) == 1 and iou(faces[0]["box"], ASTRONAUT_FACE) > 0.5, name
    assert len(scanned["grey16.png"]["faces"]) == 1  # the cameraman
    assert scanned["scene.jpg"]["faces"] == []
    assert {k: v for k, v in skipped.items() if "loop" not in k} == {
        "empty.jpg": "empty-file", "truncated.jpg": "truncated", "notes.jpg": "unsupported-format",
        "random.bin": "unsupported-format", "bomb.png": "too-large"}
    assert any(reason in ("symlink-loop", "already-listed") for k, reason in skipped.items() if "loop" in k)
    assert doc["summary"]["files"] == len(scanned) + len(skipped)
    json.dumps(doc).encode("utf-8")  # every path is representable


def test_scan_table_and_exit_codes(tmp_path, centerface):
    folder = tmp_path / "ok"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(encode(rgb("astronaut"), "JPEG"))
    result = CliRunner().invoke(cli, ["scan", str(folder)])
    assert result.exit_code == 0 and "1 face(s)" in result.output
    result = CliRunner().invoke(cli, ["scan", str(folder), "--detector", "haar"])
    assert result.exit_code == 2
    result = CliRunner().invoke(cli, ["scan"])
    assert result.exit_code == 2


@pytest.mark.parametrize("detector", ["centerface", "yunet", "cascade"])
def test_every_detector_works_offline_with_an_empty_model_directory(tmp_path, monkeypatch, detector):
    """The weights come with the package: no download, no model directory, no network."""
    monkeypatch.setenv("BIPACHECK_MODEL_DIR", str(tmp_path / "no-models"))
    (tmp_path / "a.jpg").write_bytes(encode(rgb("astronaut"), "JPEG"))
    code, doc, _ = scan(tmp_path / "a.jpg", "--detector", detector)
    assert code == 0 and doc["detector"]["detector"] == detector and len(doc["files"][0]["faces"]) == 1
    assert not (tmp_path / "no-models").exists()


def test_every_command_has_help():
    def walk(group, prefix=()):
        for name, command in group.commands.items():
            yield prefix + (name,), command
            if hasattr(command, "commands"):
                yield from walk(command, prefix + (name,))

    for path, command in walk(cli):
        assert command.help and len(command.help) > 20, path
        result = CliRunner().invoke(cli, [*path, "--help"])
        assert result.exit_code == 0 and "Usage" in result.output, path
        for param in command.params:
            if param.param_type_name == "option" and param.name not in ("help",):
                assert param.help, (path, param.name)


def test_partially_scanned_animation_is_not_exit_0(tmp_path, centerface):
    frames = [Image.fromarray(rgb(n)).resize((128, 128)) for n in ("coffee", "rocket", "coffee")]
    frames[0].save(tmp_path / "clip.gif", "GIF", save_all=True, append_images=frames[1:], duration=100)
    code, doc, _ = scan(tmp_path / "clip.gif", "--max-frames", "2")
    assert code == 3 and doc["files"][0]["frames"] == {"scanned": 2, "total": 3}
    assert scan(tmp_path / "clip.gif")[0] == 0
