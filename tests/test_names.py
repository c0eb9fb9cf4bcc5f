"""File names in reports: exact (reversibly escaped), never shared by two files, never able to drive a
terminal or reorder text (U+202E), and never able to stop an audit. Only the public API and the CLI
are used here, so these tests run unchanged against older code."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

import bipacheck
from bipacheck.cli import cli
from bipacheck.ledger import Ledger
from tests.conftest import write_attestation
from tests.images import encode, rgb, side_by_side

pytestmark = pytest.mark.usefixtures("operator")  # tests/conftest.py: an attested Illinois operator

RLO = "\u202e"
HIDDEN = [RLO, "\u2066", "\u200b", "\ufeff", "\u2028", "\u0085", "\U000e0001", "\x1b", "\x7f"]


def unescape(name: str) -> bytes:
    """The exact bytes a reported name stands for (the escapes the report's names use)."""
    out, i = bytearray(), 0
    while i < len(name):
        if name[i] == "\\":
            kind = name[i + 1]
            if kind == "\\":
                out += b"\\"
                i += 2
                continue
            width = {"x": 2, "u": 4, "U": 8}[kind]
            code = int(name[i + 2:i + 2 + width], 16)
            out += bytes([code]) if kind == "x" else chr(code).encode("utf-8", "surrogatepass")
            i += 2 + width
        else:
            out += name[i].encode("utf-8")
            i += 1
    return bytes(out)


def photo_named(folder: Path, raw: bytes, data: bytes) -> None:
    with open(os.path.join(os.fsencode(folder), raw), "wb") as fh:
        fh.write(data)


@pytest.fixture
def spoofed(tmp_path, centerface):
    """A folder of photos with faces, named with a control character first, a right-to-left override,
    a C1 control, an undecodable byte and the same byte spelt out; plus one ordinary photo."""
    folder = tmp_path / "uploads"
    folder.mkdir()
    face = encode(side_by_side("astronaut", "coffee"), "JPEG", quality=90)
    raws = [b"\x01start.jpg", f"invoice{RLO}gpj.exe.jpg".encode(), "c1\u0085.jpg".encode(), b"c1\x85.jpg",
            b"c1\\x85.jpg", b"plain.jpg"]
    for i, raw in enumerate(raws):
        photo_named(folder, raw, face if i % 2 == 0 else encode(rgb("astronaut"), "JPEG", quality=80 + i))
    ledger = tmp_path / "consent.db"
    Ledger.create(ledger).close()
    return folder, ledger, raws


def test_a_bad_name_never_stops_the_audit_and_every_file_is_reported_apart(spoofed):
    folder, ledger, raws = spoofed
    report = bipacheck.audit(str(folder), ledger=str(ledger), quiet=True)
    assert report.exit_code == 1  # faces without a release, in every one of the six files
    paths = [p["path"] for p in report.photos]
    assert len(paths) == len(set(paths)) == len(raws)
    assert {unescape(p) for p in paths} == set(raws)  # each reported name gives back the exact file name
    assert os.fsencode(report.run["root"]) == os.fsencode(folder)  # recorded once; names are below it
    assert {f.path for f in report.findings if f.rule_id == "BIPA-15B-NO-RELEASE"} == set(paths)


@pytest.mark.parametrize("fmt", ["json", "table", "csv", "markdown", "sarif", "html"])
def test_no_report_format_shows_a_hidden_character(spoofed, fmt, tmp_path):
    folder, ledger, _ = spoofed
    out = tmp_path / f"report.{fmt}"
    result = CliRunner().invoke(cli, ["audit", str(folder), "--ledger", str(ledger), "--format", fmt,
                                      "--output", str(out), "--html-thumbnails", "none", "-q"])
    assert result.exit_code == 1, result.output
    text = out.read_text("utf-8")
    assert not any(c in text for c in HIDDEN)
    assert "\\u202e" in text or "%5Cu202e" in text  # the override is there, visibly
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(text)))
        assert len({r["photo"] for r in rows}) == 6


def test_terminal_output_of_check_shows_names_escaped(spoofed, monkeypatch):
    folder, ledger, _ = spoofed
    write_attestation(folder)
    monkeypatch.chdir(folder)
    names = sorted(n for n in os.listdir(b".") if n.endswith(b".jpg"))
    result = CliRunner().invoke(cli, ["check", "--ledger", str(ledger), "--", *map(os.fsdecode, names)])
    assert result.exit_code == 1
    assert RLO not in result.output and "\x01" not in result.output and "\u0085" not in result.output
    assert "invoice\\u202egpj.exe.jpg" in result.output
