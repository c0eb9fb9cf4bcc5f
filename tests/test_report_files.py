"""Report files: the mode they are written with is documented and configurable, and they name photos
relative to the audited root, which the report records once (no absolute local path per finding)."""

from __future__ import annotations

import json
import os
import stat

import pytest
from click.testing import CliRunner

import bipacheck
from bipacheck.cli import cli
from bipacheck.ledger import Ledger
from tests.conftest import ATTESTATION, write_attestation
from tests.images import encode, rgb, side_by_side

pytestmark = pytest.mark.usefixtures("operator")  # tests/conftest.py: an attested Illinois operator


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "home" / "alice" / "uploads"
    (folder / "2026").mkdir(parents=True)
    (folder / "2026" / "team.jpg").write_bytes(encode(side_by_side("astronaut", "coffee"), "JPEG", quality=90))
    (folder / "scene.png").write_bytes(encode(rgb("coffee")[::4, ::4]))
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really")
    ledger = tmp_path / "consent.db"
    Ledger.create(ledger).close()
    return folder, ledger


def cli_run(*args) -> tuple[int, str]:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    return result.exit_code, result.output


def mode_of(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_reports_are_written_0600_unless_configured(corpus, tmp_path, monkeypatch):
    folder, ledger = corpus
    old = os.umask(0o022)  # the usual umask would give 0644: the mode is stated, not inherited
    try:
        assert cli_run("audit", folder, "--ledger", ledger, "--format", "json", "-o", tmp_path / "a.json", "-q")[0] == 1
        assert cli_run("scan", folder, "--format", "json", "-o", tmp_path / "s.json", "-q")[0] == 3
        assert cli_run("audit", folder, "--ledger", ledger, "--format", "html", "-o", tmp_path / "b.html",
                       "--output-mode", "640", "-q")[0] == 1
        bipacheck.scan(str(folder), output=str(tmp_path / "api.json"), output_mode=0o644, quiet=True)
        (tmp_path / ".bipacheck.toml").write_text('[tool.bipacheck]\noutput_mode = "604"\n' + ATTESTATION)
        monkeypatch.chdir(tmp_path)
        assert cli_run("audit", folder, "--ledger", ledger, "--format", "csv", "-o", tmp_path / "c.csv", "-q")[0] == 1
    finally:
        os.umask(old)
    assert mode_of(tmp_path / "a.json") == 0o600 and mode_of(tmp_path / "s.json") == 0o600
    assert mode_of(tmp_path / "b.html") == 0o640
    assert mode_of(tmp_path / "api.json") == 0o644
    assert mode_of(tmp_path / "c.csv") == 0o604
    assert cli_run("audit", folder, "--ledger", ledger, "--output-mode", "999", "-q")[0] == 2


@pytest.mark.parametrize("fmt", ["json", "markdown", "sarif", "csv"])
def test_reports_name_photos_below_the_root_recorded_once(corpus, tmp_path, fmt):
    folder, ledger = corpus
    out = tmp_path / f"r.{fmt}"
    code, text = cli_run("audit", folder, "--ledger", ledger, "--format", fmt, "-o", out, "-q")
    assert code == 1, text
    report = out.read_text()
    if fmt == "json":
        doc = json.loads(report)
        assert doc["run"]["root"] == str(folder)
        names = {p["path"] for p in doc["photos"]} | {s["path"] for s in doc["skipped"]} | \
            {f["photo"]["path"] for f in doc["findings"] if f["photo"]["sha256"]}
        assert names == {"2026/team.jpg", "scene.png", "broken.jpg"}
        without_run = json.dumps({k: v for k, v in doc.items() if k != "run"})
        assert "alice" not in without_run  # the local layout is in run (root, sources) only
    elif fmt == "sarif":
        run = json.loads(report)["runs"][0]
        assert run["originalUriBaseIds"]["ROOT"]["uri"] == folder.as_uri() + "/"
        uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]
                if r["locations"][0]["physicalLocation"]["artifactLocation"].get("uriBaseId") == "ROOT"}
        assert uris == {"2026/team.jpg", "broken.jpg"}
        assert report.count("alice") == 1
    else:
        assert "alice" not in report and "2026/team.jpg" in report.replace("\\_", "_")


def test_scan_output_and_check_name_files_below_their_root(corpus, tmp_path, monkeypatch):
    folder, ledger = corpus
    doc = json.loads(cli_run("scan", folder, "--format", "json", "-q")[1])
    assert doc["root"] == str(folder)
    assert {f["path"] for f in doc["files"]} == {"2026/team.jpg", "scene.png"}
    import subprocess

    subprocess.run(["git", "init", "-q", str(folder)], check=True)
    write_attestation(folder)
    monkeypatch.chdir(folder / "2026")  # the hook runs from anywhere in the repository
    code, text = cli_run("check", "--ledger", ledger, "--format", "json", "--", "team.jpg")
    report = json.loads(text)
    assert code == 1 and report["run"]["root"] == str(folder)
    assert {f["photo"]["path"] for f in report["findings"] if f["photo"]["sha256"]} == {"2026/team.jpg"}
