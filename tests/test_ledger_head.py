"""What the ledger proves, and what only a head kept outside it can: a log with its last events cut off
(a revocation, and the rows and head it changed) still forms a valid chain, so `ledger verify` alone
passes it; a head quoted outside the ledger catches it, in `ledger verify` and in every audit. And a
file that only looks like a ledger is a configuration error, never a traceback."""

from __future__ import annotations

import json
import sqlite3

import pytest
from click.testing import CliRunner

import bipacheck
from bipacheck.cli import cli
from bipacheck.errors import ConfigError
from bipacheck.ledger import Ledger
from tests.images import encode, rgb

pytestmark = pytest.mark.usefixtures("operator")  # tests/conftest.py: an attested Illinois operator


def cli_run(*args) -> tuple[int, str]:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    return result.exit_code, result.output


@pytest.fixture
def revoked(tmp_path):
    """A photo of u-1, whose release was revoked before the photo was uploaded; the ledger's head
    written to a file (as an operator keeps it under version control)."""
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "portrait.jpg").write_bytes(encode(rgb("astronaut"), "JPEG", quality=90))
    db = tmp_path / "consent.db"
    with Ledger.create(db) as ledger:
        ledger.add_subject("u-1", jurisdictions="US-IL", last_interaction_at="2026-01-01")
        ledger.grant("u-1", "face_geometry", "2025-01-01", consent_id="C-1", method="electronic",
                     purpose="tagging", term="P5Y", notice_elements="collection;purpose;term")
        ledger.link("u-1", photo_path="portrait.jpg")
        ledger.revoke("C-1", "2025-06-01")
    assert cli_run("ledger", "head", db, "-o", tmp_path / "consent.head")[0] == 0
    return folder, db, tmp_path / "consent.head"


def cut_the_revocation(db) -> None:
    """The attack: four SQL statements remove the last event and make the ledger agree with its absence."""
    conn = sqlite3.connect(db)
    (seq, before), = conn.execute("SELECT seq, before FROM events ORDER BY seq DESC LIMIT 1")
    (prev,), = conn.execute("SELECT hash FROM events WHERE seq = ?", (seq - 1,))
    conn.execute("DELETE FROM events WHERE seq = ?", (seq,))
    conn.execute("UPDATE consents SET revoked_at = ? WHERE consent_id = 'C-1'", (json.loads(before)["revoked_at"],))
    conn.execute("UPDATE meta SET value = ? WHERE key = 'head_seq'", (str(seq - 1),))
    conn.execute("UPDATE meta SET value = ? WHERE key = 'head_hash'", (prev,))
    conn.commit()
    conn.close()


def test_a_truncated_log_passes_the_chain_but_not_the_quoted_head(revoked):
    folder, db, head = revoked
    code, out = cli_run("ledger", "verify", db, "--head-file", head)
    assert code == 0 and "still holds event 5" in out
    cut_the_revocation(db)
    assert cli_run("ledger", "verify", db)[0] == 0  # the chain alone cannot see it: a shorter chain is valid
    code, out = cli_run("ledger", "verify", db, "--head-file", head)
    assert code == 1 and "truncated" in out
    code, out = cli_run("ledger", "verify", db, "--expect-head", head.read_text().strip())
    assert code == 1 and "events 5..5 were removed" in out


def test_an_audit_with_the_head_file_refuses_the_truncated_ledger(revoked, centerface):
    folder, db, head = revoked
    code, out = cli_run("audit", folder, "--ledger", db, "--ledger-head", head, "--format", "json", "-q")
    assert code == 1 and "BIPA-15B-REVOKED" in out
    report = json.loads(out)
    assert report["run"]["ledger"]["expected_head"]["held"] is True
    assert report["run"]["ledger"]["head_event"] == 5
    cut_the_revocation(db)
    assert cli_run("audit", folder, "--ledger", db, "-q")[0] == 0  # without the head: the revocation is gone
    code, out = cli_run("audit", folder, "--ledger", db, "--ledger-head", head, "-q")
    assert code == 2 and "truncated" in out
    with pytest.raises(ConfigError, match="truncated"):
        bipacheck.audit(str(folder), ledger=str(db), ledger_head=str(head), quiet=True)
    code, out = cli_run("audit", folder, "--ledger", db, "--ledger-head", head, "--allow-broken-ledger",
                        "--format", "json", "-q")
    assert json.loads(out)["run"]["ledger"]["expected_head"]["held"] is False  # audited anyway, on the record


def test_the_head_is_refused_for_a_broken_chain_and_read_in_its_three_spellings(revoked, tmp_path):
    folder, db, head = revoked
    seq, digest = head.read_text().split()
    for spelling in (f"{seq} {digest}", f"{seq}:{digest}", digest):
        assert cli_run("ledger", "verify", db, "--expect-head", spelling)[0] == 0
    code, out = cli_run("ledger", "verify", db, "--expect-head", "not a head")
    assert code == 2 and "not a ledger head" in out
    code, out = cli_run("ledger", "verify", db, "--expect-head", "")  # `--expect-head "$HEAD"`, HEAD unset
    assert code == 2 and "not a ledger head" in out
    conn = sqlite3.connect(db)
    conn.execute("UPDATE subjects SET jurisdictions = '[\"US-CA\"]'")
    conn.commit()
    conn.close()
    code, out = cli_run("ledger", "head", db)
    assert code == 2 and "refusing to anchor" in out


@pytest.mark.parametrize("fake", ["meta only", "meta and an events table without the chain"])
def test_a_file_that_only_looks_like_a_ledger_is_a_configuration_error(tmp_path, fake, centerface):
    db = tmp_path / "fake.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
    conn.executemany("INSERT INTO meta VALUES (?, ?)", [("app", "bipacheck-ledger"), ("schema_version", "3")])
    if fake != "meta only":
        for table in ("subjects", "consents", "links", "processing"):
            conn.execute(f"CREATE TABLE {table} (x TEXT)")
        conn.execute("CREATE TABLE events (seq INTEGER, note TEXT)")
    conn.commit()
    conn.close()
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(encode(rgb("astronaut"), "JPEG"))
    for args in (("audit", folder, "--ledger", db), ("check", "--ledger", db, "--", folder / "a.jpg"),
                 ("ledger", "verify", db), ("ledger", "show", db, "u-1")):
        code, out = cli_run(*args)
        assert code == 2 and "not a bipacheck ledger" in out and "Traceback" not in out, (args, out)
