"""The scan cache on local folders: what it keeps, when it goes stale, what it drops, its errors."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

import bipacheck
from bipacheck.scanning.cache import SCHEMA_VERSION, decode_result, encode_result, open_cache
from bipacheck.cli import cli
from bipacheck.scanning.engine import DetectorConfig, run_scans
from bipacheck.scanning.step import iter_scan
from bipacheck.options import Options
from bipacheck.scanning.scan import PhotoScan, ScanSettings, SkippedFile, scan_bytes
from bipacheck.scanning.sidecar_stamps import SidecarStamper
from bipacheck.sources import SourceObject, iter_sources
from tests.exits import expected_exit
from tests.images import encode, rgb
from tests.test_metadata_support import mwg_face, mwg_regions, packet

ASTRONAUT = encode(rgb("astronaut"), "JPEG", quality=90)
# the astronaut's face, as a tag region another tool wrote
ALICE_TAG = mwg_face(225 / 512, 117 / 512, 90 / 512, 115 / 512, "Alice")


def audit(folder, *args) -> dict:
    result = CliRunner().invoke(cli, ["audit", str(folder), "--format", "json", "--workers", "1", *map(str, args)])
    report = json.loads(result.output)
    assert result.exit_code == expected_exit(report), result.output
    return report


def stats(report: dict) -> tuple[int, int, int]:
    c = report["run"]["cache"]
    return c["hits"], c["scanned"], c["dropped"]


def outcome(report: dict) -> dict:
    """What a report says about the photos, without the times a face was judged at (without --as-of
    the audit time is one of them)."""
    photos = [{**p, "face_records": [{k: v for k, v in f.items() if k != "verdicts"} for f in p["face_records"]]}
              for p in report["photos"]]
    return {"findings": sorted((f["fingerprint"], f["rule_id"]) for f in report["findings"]),
            "summary": report["summary"], "photos": photos, "skipped": report["skipped"]}


def make(folder: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return folder


def test_results_round_trip_exactly(centerface):
    tagged = encode(rgb("astronaut"), "PNG")
    photo = scan_bytes(tagged, "s3://b/p/a.png", "a.png", centerface,
                       sibling=lambda name: packet(mwg_regions([ALICE_TAG])) if name == "a.png.xmp" else None)
    assert photo.faces and photo.tags and photo.tags[0].name == "Alice"
    photo.warnings.append("invalid EXIF orientation 9; assumed upright")
    photo.tag_errors.append("sidecar a.xmp: not valid XML")
    skipped = scan_bytes(b"just text", "s3://b/p/n.txt", "n.txt", centerface)
    assert isinstance(skipped, SkippedFile)
    for result in (photo, skipped):
        kind, text = encode_result(result)
        assert decode_result(kind, text, result.url, result.relpath) == result
        assert "pixels" not in text and len(text) < 2000  # boxes, scores, tags: nothing image-sized


def test_sidecar_only_edits_rescan_their_photo(tmp_path, centerface):
    folder = make(tmp_path / "photos", {"a.jpg": ASTRONAUT, "b.jpg": ASTRONAUT,
                                        "a.jpg.xmp": packet(mwg_regions([]))})
    cache = tmp_path / "c.db"
    first = audit(folder, "--cache", cache)
    assert stats(first) == (0, 3, 0)
    assert not any(f["rule_id"] == "BIPACHECK-FACE-TAGS" for f in first["findings"])

    # Someone names the face in a.jpg with a photo manager: only the sidecar changes.
    (folder / "a.jpg.xmp").write_bytes(packet(mwg_regions([ALICE_TAG])))
    second = audit(folder, "--cache", cache)
    assert stats(second) == (1, 2, 0)  # b.jpg from the cache; a.jpg and its sidecar rescanned
    tagged = [f["photo"]["path"] for f in second["findings"] if f["rule_id"] == "BIPACHECK-FACE-TAGS"]
    assert tagged == ["a.jpg"]

    # A sidecar that appears under the other naming convention counts as well.
    (folder / "b.xmp").write_bytes(packet(mwg_regions([ALICE_TAG])))
    third = audit(folder, "--cache", cache)
    assert stats(third) == (2, 2, 0)
    assert outcome(third) == outcome(audit(folder, "--no-cache"))


@pytest.mark.parametrize("listing", ["include", "exclude", "manifest"])
def test_sidecar_only_edits_count_when_the_listing_hides_sidecars(tmp_path, centerface, listing):
    folder = make(tmp_path / "photos", {"a.jpg": ASTRONAUT, "b.jpg": ASTRONAUT,
                                        "a.jpg.xmp": packet(mwg_regions([]))})
    (tmp_path / "keys.txt").write_text("a.jpg\nb.jpg\n")
    args = {"include": ["--include", "*.jpg"], "exclude": ["--exclude", "*.xmp"],
            "manifest": ["--manifest", tmp_path / "keys.txt"]}[listing]
    cache = tmp_path / "c.db"
    first = audit(folder, "--cache", cache, *args)
    assert stats(first) == (0, 2, 0) and len(first["photos"]) == 2 and first["skipped"] == []

    (folder / "a.jpg.xmp").write_bytes(packet(mwg_regions([ALICE_TAG])))  # only the hidden sidecar changes
    second = audit(folder, "--cache", cache, *args)
    assert stats(second) == (1, 1, 0)
    tagged = [f["photo"]["path"] for f in second["findings"] if f["rule_id"] == "BIPACHECK-FACE-TAGS"]
    assert tagged == ["a.jpg"]

    (folder / "b.xmp").write_bytes(packet(mwg_regions([ALICE_TAG])))  # a new hidden sidecar
    third = audit(folder, "--cache", cache, *args)
    assert stats(third) == (1, 1, 0)
    assert outcome(third) == outcome(audit(folder, "--no-cache", *args))


def test_filtered_and_manifest_runs_drop_only_what_they_would_have_listed(tmp_path, centerface):
    folder = make(tmp_path / "photos", {"a.jpg": ASTRONAUT, "b.png": encode(rgb("coffee")),
                                        "sub/c.jpg": encode(rgb("rocket"), "JPEG")})
    cache = tmp_path / "c.db"
    audit(folder, "--cache", cache)
    (folder / "a.jpg").unlink()
    (folder / "b.png").unlink()
    manifest = tmp_path / "keys.txt"
    manifest.write_text("sub/c.jpg\n")
    assert stats(audit(folder, "--cache", cache, "--manifest", manifest)) == (1, 0, 0)
    # Only *.jpg objects were listed: the deleted a.jpg goes, the deleted b.png is not ours to judge.
    assert stats(audit(folder, "--cache", cache, "--include", "*.jpg")) == (1, 0, 1)
    with sqlite3.connect(cache) as db:
        left = {Path(u).name for (u,) in db.execute("SELECT url FROM results")}
    assert left == {"b.png", "c.jpg"}
    assert stats(audit(folder, "--cache", cache)) == (1, 0, 1)


def test_objects_that_could_not_be_read_are_tried_again(tmp_path, centerface):
    folder = make(tmp_path / "photos", {"a.jpg": ASTRONAUT, "gone.jpg": ASTRONAUT})
    config, settings = DetectorConfig(), ScanSettings()
    entries = list(iter_sources([str(folder)]))
    (folder / "gone.jpg").unlink()  # vanishes between listing and reading
    with open_cache(tmp_path / "c.db", centerface.settings(), settings, sources=[str(folder)]) as cache:
        results = list(run_scans(iter(entries), config, settings, detector=centerface, cache=cache))
        assert [type(r).__name__ for r in results] == ["PhotoScan", "SkippedFile"]
        assert results[1].reason == "unreadable" and cache.rows() == 1


def test_scan_command_uses_the_cache_too(tmp_path, centerface):
    folder = make(tmp_path / "photos", {"a.jpg": ASTRONAUT})
    first = bipacheck.scan([str(folder)], cache=str(tmp_path / "c.db"))
    second = bipacheck.scan([str(folder)], cache=str(tmp_path / "c.db"))
    assert (first["cache"]["scanned"], second["cache"]["hits"]) == (1, 1)
    assert first["files"] == second["files"]
    result = CliRunner().invoke(cli, ["scan", str(folder), "--cache", str(tmp_path / "c.db"), "--format", "json"])
    assert json.loads(result.output)["cache"]["hits"] == 1


def test_unusable_cache_files_are_clean_errors(tmp_path, centerface):
    folder = make(tmp_path / "photos", {"a.jpg": ASTRONAUT})
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not SQLite" * 100)
    newer = tmp_path / "newer.db"
    with sqlite3.connect(newer) as db:
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION + 1),))
    for path, message in [(junk, "is not a bipacheck cache"), (newer, "schema version"),
                          (tmp_path / "no" / "such" / "c.db", "does not exist")]:
        result = CliRunner().invoke(cli, ["audit", str(folder), "--cache", str(path)])
        assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


# -- sidecar stamps, on real listings --------------------------------------------------------

def stamps(folder: Path, attached: bool = True, **kw) -> dict[str, str | None]:
    """Stamps of a real listing; attached=False hides what the source saw next to each object,
    so the stamps come from the listing order (as for sources that cannot tell)."""
    entries = iter_sources([str(folder)])
    if not attached:
        entries = (replace(e, sidecars=None) if isinstance(e, SourceObject) else e for e in entries)
    return {Path(e.url).name: s for e, s in SidecarStamper(**kw).stamped(entries)}


@pytest.mark.parametrize("attached", [True, False])
def test_folder_picasa_file_stamps_every_photo_even_in_a_large_folder(tmp_path, attached):
    # 300 photos whose names sort before "picasa.ini": more than may wait for the listing to reach it.
    names = [f"{i:04d}.jpg" for i in range(300)] + ["zz.jpg"]
    folder = make(tmp_path / "big", {n: b"x" for n in names})
    assert set(stamps(folder, attached, max_waiting=64).values()) == {""}

    (folder / "picasa.ini").write_text("[0001.jpg]\nfaces=rect64(1000100010001000),aa\n")
    listed = stamps(folder, attached, max_waiting=64)
    photo_stamps = {listed[n] for n in names}
    assert len(photo_stamps) == 1 and "" not in photo_stamps and None not in photo_stamps

    (folder / "picasa.ini").write_text("[0001.jpg]\nfaces=rect64(2000200020002000),bb\n")
    relisted = stamps(folder, attached, max_waiting=64)
    changed = {relisted[n] for n in names}
    assert len(changed) == 1 and changed != photo_stamps


@pytest.mark.parametrize("attached", [True, False])
def test_own_sidecars_before_and_after_the_photo_count(tmp_path, attached):
    folder = make(tmp_path / "p", {"a.png": b"x", "b.png": b"x"})
    before = stamps(folder, attached)
    assert before == {"a.png": "", "b.png": ""}
    make(folder, {"a.json": b"{}"})  # sorts before a.png
    assert stamps(folder, attached)["a.png"] not in ("", None) and stamps(folder, attached)["b.png"] == ""
    make(folder, {"b.png.xmp": b"<x/>"})  # sorts after b.png
    assert stamps(folder, attached)["b.png"] not in ("", None)


def test_a_stamp_that_can_no_longer_be_known_is_none(tmp_path):
    # a.json sorts before a.png and is forgotten by the time a.png is listed (memory bound of 2).
    folder = make(tmp_path / "p", {"a.json": b"{}", "a.k1.xmp": b"x", "a.k2.xmp": b"x", "a.k3.xmp": b"x",
                                   "a.png": b"x"})
    assert stamps(folder, attached=False, max_remembered=2)["a.png"] is None
    known = stamps(folder, attached=False)["a.png"]
    assert known not in ("", None)
    # what the folder listing saw next to a.png needs no memory of earlier entries
    assert stamps(folder, max_remembered=2)["a.png"] == known


def test_both_ways_of_stamping_agree(tmp_path):
    folder = make(tmp_path / "p", {"a.jpg": b"x", "a.xmp": b"1", "b.jpg": b"x", "b.jpg.json": b"{}",
                                   "c(1).jpg": b"x", "c.jpg(1).json": b"{}", "d.png": b"x",
                                   ".picasa.ini": b"[d.png]\nfaces=rect64(1000100010001000),aa\n"})
    attached = stamps(folder)
    assert attached == stamps(folder, attached=False)
    assert len({attached[n] for n in ("a.jpg", "b.jpg", "c(1).jpg", "d.png")}) == 4


def test_cached_photos_come_back_as_they_were_scanned(tmp_path, centerface):
    im = Image.fromarray(rgb("astronaut"))
    folder = make(tmp_path / "p", {"up.jpg": ASTRONAUT,
                                   "side.jpg": _rotated_jpeg(im, 6)})
    opts = Options(workers=1, quiet=True)
    def scan(cache=None):
        return iter_scan([str(folder)], DetectorConfig(), opts.scan_settings(), built=centerface, cache=cache)

    fresh = list(scan())
    cached, again = [], []
    for results in (cached, again):
        cache = open_cache(tmp_path / "c.db", centerface.settings(), opts.scan_settings(), sources=[str(folder)])
        results.extend(scan(cache))
        cache.close()
    assert fresh == cached == again
    assert all(isinstance(r, PhotoScan) and r.faces for r in again)


def _rotated_jpeg(upright: Image.Image, orientation: int) -> bytes:
    from tests.images import FROM_UPRIGHT

    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(upright.transpose(FROM_UPRIGHT[orientation]), "JPEG", exif=exif.tobytes())


@pytest.mark.parametrize("full", [False, True])
def test_full_rescans_and_refreshes(tmp_path, centerface, full):
    folder = make(tmp_path / "p", {"a.jpg": ASTRONAUT})
    cache = tmp_path / "c.db"
    audit(folder, "--cache", cache)
    args = ["--full"] if full else []
    assert stats(audit(folder, "--cache", cache, *args)) == ((0, 1, 0) if full else (1, 0, 0))
