"""Listings stay inside the audited root, and every file gets its own, unambiguous reported path."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from bipacheck.cli import cli
from bipacheck.ledger import Ledger
from bipacheck.report.formats import report_schema
from bipacheck.sources import Skipped, iter_sources
from tests.images import encode, rgb

JPEG = encode(rgb("astronaut"), "JPEG")


def outside_links(tmp_path: Path) -> Path:
    """root/ with a photo, a link to a photo outside, a link to a folder outside and passwd.jpg."""
    outside = tmp_path / "outside"
    (outside / "album").mkdir(parents=True)
    (outside / "secret.jpg").write_bytes(JPEG)
    (outside / "album" / "more.jpg").write_bytes(JPEG)
    root = tmp_path / "root"
    (root / "inner").mkdir(parents=True)
    (root / "inner" / "own.jpg").write_bytes(JPEG)
    (root / "alias.jpg").symlink_to(root / "inner" / "own.jpg")  # inside the root: followed
    (root / "z-inner").symlink_to("inner/")  # a folder link inside the root: followed, listed once
    (root / "secret.jpg").symlink_to(outside / "secret.jpg")
    (root / "album").symlink_to(outside / "album")
    (root / "passwd.jpg").symlink_to("/etc/passwd")
    (root / "inner" / "up.jpg").symlink_to("../../outside/secret.jpg")  # relative, still outside
    return root


def test_links_leaving_the_root_are_skipped_as_outside_root(tmp_path):
    root = outside_links(tmp_path)
    items = list(iter_sources([str(root)]))
    listed = sorted(i.relpath for i in items if not isinstance(i, Skipped))
    assert listed == ["alias.jpg", "inner/own.jpg"]
    skipped = {i.url.removeprefix(f"{root}/"): i.reason for i in items if isinstance(i, Skipped)}
    assert skipped == {"secret.jpg": "outside-root", "album": "outside-root", "passwd.jpg": "outside-root",
                       "inner/up.jpg": "outside-root", "z-inner": "already-listed"}
    followed = {i.relpath for i in iter_sources([str(root)], follow_symlinks=True) if not isinstance(i, Skipped)}
    assert {"secret.jpg", "album/more.jpg", "passwd.jpg", "inner/up.jpg"} <= followed


def test_a_manifest_key_through_an_outside_link_is_skipped(tmp_path):
    root = outside_links(tmp_path)
    manifest = tmp_path / "keys.txt"
    manifest.write_text("inner/own.jpg\nalbum/more.jpg\npasswd.jpg\nalias.jpg\n")
    items = list(iter_sources([str(root)], manifest=str(manifest)))
    reasons = {i.url.removeprefix(f"{root}/"): getattr(i, "reason", "listed") for i in items}
    assert reasons == {"inner/own.jpg": "listed", "alias.jpg": "listed",
                       "album/more.jpg": "outside-root", "passwd.jpg": "outside-root"}


def test_scan_and_audit_report_outside_links_and_follow_them_on_request(tmp_path, centerface):
    root = outside_links(tmp_path)
    result = CliRunner().invoke(cli, ["scan", str(root), "--format", "json"])
    doc = json.loads(result.output)
    assert result.exit_code == 3
    assert {s["path"].removeprefix(f"{root}/") for s in doc["skipped"] if s["reason"] == "outside-root"} == \
        {"secret.jpg", "album", "passwd.jpg", "inner/up.jpg"}
    assert "root:x:0:0" not in result.output
    audit = CliRunner().invoke(cli, ["audit", str(root), "--format", "json"])
    report = json.loads(audit.output)
    jsonschema.validate(report, report_schema())
    unscanned = {f["photo"]["path"].removeprefix(f"{root}/") for f in report["findings"]
                 if f["rule_id"] == "BIPACHECK-UNSCANNED" and f["details"]["reason"] == "outside-root"}
    assert unscanned == {"secret.jpg", "album", "passwd.jpg", "inner/up.jpg"}
    followed = CliRunner().invoke(cli, ["scan", str(root), "--format", "json", "--follow-symlinks",
                                        "--exclude", "passwd.jpg"])
    paths = {f["path"].removeprefix(f"{root}/") for f in json.loads(followed.output)["files"]}
    assert {"secret.jpg", "album/more.jpg", "inner/up.jpg"} <= paths


def test_check_does_not_follow_a_staged_link_out_of_the_repository(tmp_path, centerface, monkeypatch):
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (tmp_path / "secret.jpg").write_bytes(JPEG)
    (repo / "photo.jpg").symlink_to(tmp_path / "secret.jpg")
    Ledger.create(repo / "ledger.db").close()
    monkeypatch.chdir(repo)
    result = CliRunner().invoke(cli, ["check", "--ledger", "ledger.db", "--format", "json", "photo.jpg"])
    report = json.loads(result.output)
    assert [f["details"]["reason"] for f in report["findings"] if f["rule_id"] == "BIPACHECK-UNSCANNED"] == \
        ["outside-root"]
    assert "BIPA-15B-NO-RELEASE" not in {f["rule_id"] for f in report["findings"]}  # the face was never seen
    followed = CliRunner().invoke(cli, ["check", "--ledger", "ledger.db", "--format", "json",
                                        "--follow-symlinks", "photo.jpg"])
    rules = {f["rule_id"] for f in json.loads(followed.output)["findings"]}
    assert "BIPA-15B-NO-RELEASE" in rules and "BIPACHECK-UNSCANNED" not in rules


def test_reported_paths_are_injective_the_escape_character_is_escaped(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    names = [b"coll\n.jpg", b"coll\\x0a.jpg", b"bad\xff.jpg", b"bad\\xff.jpg", b"bs\\x.jpg", b"tab\t.jpg"]
    for name in names:
        with open(os.path.join(os.fsencode(root), name), "wb") as fh:
            fh.write(name)
    objects = list(iter_sources([str(root)]))
    relpaths = [o.relpath for o in objects]
    assert len(set(relpaths)) == len(names)
    by_content = {o.read(): o.relpath for o in objects}
    assert by_content[b"coll\n.jpg"] == "coll\\x0a.jpg"
    assert by_content[b"coll\\x0a.jpg"] == "coll\\\\x0a.jpg"
    assert all(r.isprintable() for r in relpaths)


def test_ledger_path_links_match_only_the_exact_path(tmp_path):
    root = tmp_path / "root"
    (root / "bs").mkdir(parents=True)
    (root / "bs" / "x.jpg").write_bytes(b"the linked photo")
    with open(os.path.join(os.fsencode(root), b"bs\\x.jpg"), "wb") as fh:
        fh.write(b"another photo")
    with Ledger.create(tmp_path / "l.db") as ledger:
        ledger.add_subject("u-1")
        ledger.link("u-1", photo_path="bs/x.jpg")
        matches = {o.read(): [l.subject_id for l in ledger.photo_links(relpath=o.relpath)]
                   for o in iter_sources([str(root)])}
        assert matches == {b"the linked photo": ["u-1"], b"another photo": []}
        assert ledger.photo_links(relpath="./bs/x.jpg") == [] and ledger.photo_links(relpath="bs//x.jpg") == []


def test_a_sidecar_link_out_or_a_file_swapped_for_one_is_not_read(tmp_path, centerface):
    from bipacheck.errors import OutsideRoot
    from bipacheck.scanning.scan import PhotoScan, SkippedFile, scan_object

    root = outside_links(tmp_path)
    (tmp_path / "outside" / "secret.xmp").write_text("<x:xmpmeta>not for this audit</x:xmpmeta>")
    (root / "inner" / "own.jpg.xmp").symlink_to(tmp_path / "outside" / "secret.xmp")
    listed = {o.relpath: o for o in iter_sources([str(root)]) if not isinstance(o, Skipped)}
    photo = listed["inner/own.jpg"]
    with pytest.raises(OutsideRoot):
        photo.sibling("own.jpg.xmp")
    scan = scan_object(photo, centerface)
    assert isinstance(scan, PhotoScan) and any("outside the audited folder" in e for e in scan.tag_errors)
    os.unlink(root / "inner" / "own.jpg")  # swapped for a link out between listing and reading
    os.symlink("/etc/passwd", root / "inner" / "own.jpg")
    skipped = scan_object(photo, centerface)
    assert isinstance(skipped, SkippedFile) and skipped.reason == "outside-root"


def test_a_link_swapped_after_the_check_and_before_the_open_is_not_read(tmp_path, monkeypatch):
    """The race of a check-then-open: the link points inside when checked and outside when opened.
    The swap is made by the open itself, at exactly the moment an attacker would need."""
    from bipacheck.errors import OutsideRoot

    root = outside_links(tmp_path)
    secret = tmp_path / "outside" / "secret.jpg"
    secret.write_bytes(b"the secret outside the audited folder")
    (root / "inner" / "own.jpg").write_bytes(b"the photo inside")
    (root / "swap.jpg").symlink_to(root / "inner" / "own.jpg")
    photo = {o.relpath: o for o in iter_sources([str(root)]) if not isinstance(o, Skipped)}["swap.jpg"]
    real_open = os.open

    def open_after_the_swap(path, flags, *args, **kwargs):
        if os.fsencode(path).endswith(b"swap.jpg"):
            os.unlink(root / "swap.jpg")
            os.symlink(secret, root / "swap.jpg")
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", open_after_the_swap)
    with pytest.raises(OutsideRoot):
        photo.read()
