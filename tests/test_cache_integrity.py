"""The scan cache cannot change a verdict: a same-size file swapped in with its modification time set
back is scanned again, a row edited in the cache file is never used, and a row that could only be
forged with the key (kept outside the cache file) still loses to the file's own content."""

from __future__ import annotations

import json
import os
import sqlite3
import stat

import pytest
from click.testing import CliRunner

from bipacheck.cli import cli
from bipacheck.ledger import Ledger
from tests.images import encode, rgb, side_by_side

pytestmark = pytest.mark.usefixtures("operator")  # tests/conftest.py: an attested Illinois operator


def same_size(*blobs: bytes) -> list[bytes]:
    """The blobs padded after their end to one length (decoders ignore bytes after a JPEG's end)."""
    size = max(map(len, blobs)) + 16
    return [b + bytes(size - len(b)) for b in blobs]


@pytest.fixture
def swap(tmp_path):
    """A folder with a face-free photo and a same-size photo with faces, not yet in the folder."""
    scene, faces = same_size(encode(rgb("coffee"), "JPEG", quality=90),
                             encode(side_by_side("astronaut", "coffee"), "JPEG", quality=90))
    folder = tmp_path / "uploads"
    folder.mkdir()
    (folder / "upload.jpg").write_bytes(scene)
    ledger = tmp_path / "consent.db"
    Ledger.create(ledger).close()
    return folder, ledger, faces


def audit(folder, ledger) -> tuple[int, dict]:
    result = CliRunner().invoke(cli, ["audit", str(folder), "--ledger", str(ledger), "--format", "json",
                                      "--workers", "1", "-q"])
    return result.exit_code, json.loads(result.output)


def test_a_same_size_swap_with_its_mtime_set_back_is_scanned_again(swap, centerface):
    folder, ledger, faces = swap
    photo = folder / "upload.jpg"
    code, first = audit(folder, ledger)
    assert code == 0 and first["summary"]["faces"] == 0
    before = photo.stat()
    with open(photo, "r+b") as fh:  # the same inode, the same size, other bytes
        fh.write(faces)
    os.utime(photo, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (photo.stat().st_size, photo.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    code, second = audit(folder, ledger)
    assert code == 1 and second["summary"]["faces"] == 1
    assert second["photos"][0]["sha256"] != first["photos"][0]["sha256"]
    assert second["run"]["cache"]["hits"] == 0 and second["run"]["cache"]["scanned"] == 1


def test_a_row_edited_in_the_cache_file_is_not_used(swap, centerface):
    folder, ledger, faces = swap
    (folder / "upload.jpg").write_bytes(faces)
    code, first = audit(folder, ledger)
    assert code == 1 and first["summary"]["faces"] == 1
    cache = sqlite3.connect(f"{ledger}.cache.db")
    (text,) = cache.execute("SELECT result FROM results").fetchone()
    erased = json.loads(text)
    erased["faces"] = []
    cache.execute("UPDATE results SET result = ?", (json.dumps(erased),))  # the faces "were never there"
    cache.commit()
    cache.close()
    code, second = audit(folder, ledger)
    assert code == 1 and second["summary"]["faces"] == 1
    assert second["run"]["cache"]["rejected"] == 1 and second["run"]["cache"]["hits"] == 0
    code, third = audit(folder, ledger)  # the rescan wrote an authentic row again
    assert third["run"]["cache"]["hits"] == 1 and third["summary"]["faces"] == 1


def test_a_row_forged_with_the_key_still_loses_to_the_files_content(swap, centerface, monkeypatch):
    """Even a row that authenticates (written by someone holding the key, or after the clock was set
    back so the change key matches) is checked against the file's SHA-256 before it is used."""
    from bipacheck.scanning.cache_auth import cache_key, row_mac

    folder, ledger, faces = swap
    photo = folder / "upload.jpg"
    code, first = audit(folder, ledger)
    assert code == 0
    photo.write_bytes(faces)
    listed_key = "{0.st_size}:{0.st_mtime_ns}:{0.st_ino}:{0.st_ctime_ns}".format(photo.stat())
    cache = sqlite3.connect(f"{ledger}.cache.db")
    url, fingerprint, _, stamp, sha, kind, text = cache.execute(
        "SELECT url, fingerprint, change_key, stamp, sha256, kind, result FROM results").fetchone()
    cache.execute("UPDATE results SET change_key = ?, mac = ?",
                  (listed_key, row_mac(cache_key(), url, fingerprint, listed_key, stamp, sha, kind, text)))
    cache.commit()
    cache.close()
    code, second = audit(folder, ledger)
    assert code == 1 and second["summary"]["faces"] == 1
    assert second["run"]["cache"]["content_changed"] == 1


def test_the_key_lives_outside_the_cache_and_another_key_means_rescan(swap, centerface, monkeypatch, tmp_path):
    folder, ledger, faces = swap
    key_file = tmp_path / "keys" / "cache.key"
    monkeypatch.setenv("BIPACHECK_CACHE_KEY_FILE", str(key_file))
    audit(folder, ledger)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text().strip()
    assert key.encode() not in (tmp_path / "consent.db.cache.db").read_bytes()
    assert audit(folder, ledger)[1]["run"]["cache"]["hits"] == 1
    monkeypatch.setenv("BIPACHECK_CACHE_KEY", "a CI secret, the same on every runner")  # another key
    code, report = audit(folder, ledger)
    assert report["run"]["cache"]["rejected"] == 1 and report["run"]["cache"]["scanned"] == 1
    assert audit(folder, ledger)[1]["run"]["cache"]["hits"] == 1
