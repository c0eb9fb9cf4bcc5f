"""`bipacheck cache info|prune`: what a scan cache holds, and dropping rows no audit reads any more."""

from __future__ import annotations

import json
import sqlite3

from click.testing import CliRunner

from bipacheck.cli import cli
from bipacheck.ledger import Ledger
from tests.test_cache import ASTRONAUT, audit, make, stats


def invoke(*args):
    return CliRunner().invoke(cli, [*map(str, args)])


def info(cache) -> list[dict]:
    result = invoke("cache", "info", cache, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_info_names_each_settings_with_its_rows_newest_first(tmp_path, centerface):
    folder = make(tmp_path / "p", {"a.jpg": ASTRONAUT, "b.jpg": ASTRONAUT, "notes.txt": b"not a photo"})
    cache = tmp_path / "c.db"
    audit(folder, "--cache", cache, "--threshold", "0.5")
    audit(folder, "--cache", cache)
    newest, oldest = info(cache)
    # an audit's detector runs at its review threshold, 0.75 x --threshold (0.3 by default)
    assert [c["settings"]["detector"]["threshold"] for c in (newest, oldest)] == [0.225, 0.375]
    assert newest["rows"] == oldest["rows"] == 3  # the text file's skip is cached too
    assert newest["settings"]["detector"]["detector"] == "centerface"
    assert newest["settings"]["detector"]["runtime"] in ("opencv", "onnxruntime")
    table = invoke("cache", "info", cache)
    assert table.exit_code == 0
    lines = table.output.splitlines()
    assert len(lines) == 2 and "threshold 0.225" in lines[0] and "threshold 0.375" in lines[1]


def test_prune_keeps_the_newest_settings_and_their_hits(tmp_path, centerface):
    folder = make(tmp_path / "p", {"a.jpg": ASTRONAUT})
    cache = tmp_path / "c.db"
    audit(folder, "--cache", cache, "--threshold", "0.5")
    audit(folder, "--cache", cache)
    result = invoke("cache", "prune", cache)
    assert result.exit_code == 0, result.output
    assert "dropped 1 row(s) of 1 setting(s); kept 1" in result.output
    assert [c["settings"]["detector"]["threshold"] for c in info(cache)] == [0.225]
    assert stats(audit(folder, "--cache", cache)) == (1, 0, 0)  # the kept settings still hit
    assert stats(audit(folder, "--cache", cache, "--threshold", "0.5")) == (0, 1, 0)  # the pruned rescan


def test_prune_keep_zero_empties_the_cache(tmp_path, centerface):
    folder = make(tmp_path / "p", {"a.jpg": ASTRONAUT})
    cache = tmp_path / "c.db"
    audit(folder, "--cache", cache)
    assert invoke("cache", "prune", cache, "--keep", "0").exit_code == 0
    assert info(cache) == []


def test_missing_or_foreign_files_are_clean_errors_and_stay_untouched(tmp_path):
    missing = invoke("cache", "info", tmp_path / "nope.db")
    assert missing.exit_code == 2 and "does not exist" in missing.output
    assert not (tmp_path / "nope.db").exists()
    ledger_path = tmp_path / "consent.db"
    Ledger.create(ledger_path).close()
    before = ledger_path.read_bytes()
    for args in (["cache", "info", ledger_path], ["cache", "prune", ledger_path]):
        result = invoke(*args)
        assert result.exit_code == 2 and "not a bipacheck cache" in result.output
    assert ledger_path.read_bytes() == before
    with sqlite3.connect(ledger_path) as db:
        assert "results" not in {n for (n,) in db.execute("SELECT name FROM sqlite_master")}


def test_audit_refuses_the_ledger_as_its_cache(tmp_path, centerface):
    folder = make(tmp_path / "p", {"a.jpg": ASTRONAUT})
    ledger_path = tmp_path / "consent.db"
    Ledger.create(ledger_path).close()
    result = invoke("audit", folder, "--ledger", ledger_path, "--cache", ledger_path)
    assert result.exit_code == 2
    assert "another SQLite database" in result.output


def test_rows_from_before_settings_were_recorded_are_shown_and_pruned_first(tmp_path, centerface):
    folder = make(tmp_path / "p", {"a.jpg": ASTRONAUT})
    cache = tmp_path / "c.db"
    audit(folder, "--cache", cache, "--threshold", "0.5")
    with sqlite3.connect(cache) as db:
        db.execute("DELETE FROM configurations")  # as an older bipacheck left it
    audit(folder, "--cache", cache)
    known, unknown = info(cache)
    assert unknown["settings"] is None and unknown["rows"] == 1
    assert "settings not recorded" in invoke("cache", "info", cache).output
    invoke("cache", "prune", cache)
    assert [c["fingerprint"] for c in info(cache)] == [known["fingerprint"]]
