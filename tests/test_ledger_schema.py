"""Opening files: not-a-ledger, newer schema, create rules, and a real v1 -> v2 migration."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3

import pytest

from bipacheck.ledger import CURRENT_VERSION, Ledger, LedgerError, NotALedger, SchemaTooNew

GENESIS = "0" * 64


def test_missing_file_and_directory_are_not_ledgers(tmp_path):
    with pytest.raises(NotALedger, match="no ledger at"):
        Ledger(tmp_path / "nope.db")
    with pytest.raises(NotALedger, match="no ledger at"):
        Ledger.open(tmp_path)
    assert not (tmp_path / "nope.db").exists()  # opening never creates a file


def test_random_bytes_are_not_a_ledger_and_stay_untouched(tmp_path):
    path = tmp_path / "noise.db"
    noise = os.urandom(8192)
    path.write_bytes(noise)
    with pytest.raises(NotALedger, match="not a SQLite database"):
        Ledger(path)
    with pytest.raises(NotALedger):
        Ledger.create(path)  # init must not overwrite someone's file either
    assert path.read_bytes() == noise


def test_sqlite_without_our_metadata_is_not_a_ledger(tmp_path):
    plain = tmp_path / "app.db"
    with sqlite3.connect(plain) as conn:
        conn.execute("CREATE TABLE users (id INTEGER)")
    with pytest.raises(NotALedger, match="not a bipacheck ledger"):
        Ledger(plain)
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
        conn.execute("INSERT INTO meta VALUES ('app', 'someone-else'), ('schema_version', '1')")
    with pytest.raises(NotALedger, match="someone-else"):
        Ledger(other)


def test_a_newer_schema_is_refused_without_changing_the_file(tmp_path):
    path = tmp_path / "ledger.db"
    Ledger.create(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'",
                     [str(CURRENT_VERSION + 1)])
    conn.close()
    before = path.read_bytes()
    with pytest.raises(SchemaTooNew, match="newer than this bipacheck"):
        Ledger(path)
    assert path.read_bytes() == before


def test_create_reuses_an_empty_ledger_and_refuses_one_with_records(tmp_path):
    path = tmp_path / "ledger.db"
    with Ledger.create(path) as ledger:
        head = ledger.head()
        assert ledger.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with Ledger.create(path) as again:
        assert again.head() == head  # no second init event
        again.add_subject("u1")
    with pytest.raises(LedgerError, match="refusing"):
        Ledger.create(path)
    empty = tmp_path / "empty.db"
    empty.touch()
    Ledger.create(empty).close()
    with pytest.raises(LedgerError, match="does not exist"):
        Ledger.create(tmp_path / "missing-dir" / "ledger.db")


# -- migration from a v1 ledger built by hand ------------------------------------------------------

V1_TABLES = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE subjects (subject_id TEXT PRIMARY KEY, display_name TEXT, jurisdiction TEXT,
                       last_interaction_at TEXT);
CREATE TABLE consents (consent_id TEXT PRIMARY KEY, subject_id TEXT NOT NULL REFERENCES
    subjects(subject_id), scope TEXT NOT NULL, purpose TEXT, granted_at TEXT NOT NULL,
    expires_at TEXT, term TEXT, revoked_at TEXT, method TEXT NOT NULL, notice_version TEXT,
    evidence_uri TEXT, evidence_sha256 TEXT);
CREATE TABLE links (link_id TEXT PRIMARY KEY, subject_id TEXT NOT NULL, photo_sha256 TEXT,
    photo_path TEXT, box TEXT, role TEXT NOT NULL);
CREATE TABLE events (seq INTEGER PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL,
    action TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL, before TEXT, after TEXT,
    note TEXT, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
"""


def canonical(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def build_v1(path) -> None:
    """A v1 ledger (one `jurisdiction` per subject) with a valid chain, per docs/LEDGER.md."""
    subject = {"subject_id": "u1", "display_name": "Ann", "jurisdiction": "us-il",
               "last_interaction_at": "2023-05-01T00:00:00Z"}
    consent = {"consent_id": "C1", "subject_id": "u1", "scope": "face_geometry",
               "purpose": None, "granted_at": "2023-05-01T00:00:00Z", "expires_at": None,
               "term": "P3Y", "revoked_at": None, "method": "written", "notice_version": "v1",
               "evidence_uri": None, "evidence_sha256": None}
    changes = [
        ("init", "schema", "", None, {"app": "bipacheck-ledger", "schema_version": 1}),
        ("add-subject", "subjects", "u1", subject, None),
        ("grant", "consents", "C1", consent, None),
    ]
    conn = sqlite3.connect(path)
    conn.executescript(V1_TABLES)
    prev = GENESIS
    for seq, (action, kind, key, after, note) in enumerate(changes, start=1):
        event = {"seq": seq, "at": f"2023-05-01T00:00:0{seq}Z", "actor": "legacy",
                 "action": action, "kind": kind, "key": key, "before": None, "after": after,
                 "note": note}
        digest = hashlib.sha256(f"{prev}\n{canonical(event)}".encode()).hexdigest()
        conn.execute("INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?,?,?)", [
            seq, event["at"], "legacy", action, kind, key, None,
            canonical(after) if after else None, canonical(note) if note else None, prev, digest])
        prev = digest
    conn.execute("INSERT INTO subjects VALUES (?,?,?,?)", list(subject.values()))
    conn.execute(f"INSERT INTO consents VALUES ({','.join('?' * 12)})", list(consent.values()))
    conn.executemany("INSERT INTO meta VALUES (?, ?)", [
        ("app", "bipacheck-ledger"), ("schema_version", "1"), ("head_seq", str(len(changes))),
        ("head_hash", prev)])
    conn.commit()
    conn.close()


def test_a_v1_ledger_is_migrated_forward_and_still_verifies(tmp_path):
    path = tmp_path / "v1.db"
    build_v1(path)
    with Ledger(path, actor="upgrader") as ledger:
        assert ledger.schema_version == CURRENT_VERSION
        subject = ledger.subject("u1")
        assert subject.jurisdictions == ["US-IL"] and subject.purpose_satisfied_at is None
        columns = [r[1] for r in ledger.db.execute("PRAGMA table_info(subjects)")]
        assert "jurisdiction" not in columns
        migrate, to_v3, to_v4, to_v5 = ledger.history()[-4:]
        assert (migrate.seq, migrate.action, migrate.actor) == (4, "migrate", "upgrader")
        assert (migrate.note["from"], migrate.note["to"]) == (1, 2)
        assert (to_v3.seq, to_v3.note["from"], to_v3.note["to"]) == (5, 2, 3)
        assert (to_v4.seq, to_v4.note["from"], to_v4.note["to"]) == (6, 3, 4)
        assert (to_v5.seq, to_v5.note["from"], to_v5.note["to"]) == (7, 4, 5)
        result = ledger.verify()
        assert result.ok, result.reason
        ledger.edit_subject("u1", purpose_satisfied_at="2024-01-01")  # v2 fields now usable
        assert ledger.verify().ok
    with Ledger(path) as reopened:  # migrating once is enough
        assert reopened.head()[0] == 8


def test_a_row_edited_before_migration_is_still_caught_after_it(tmp_path):
    path = tmp_path / "v1.db"
    build_v1(path)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE subjects SET jurisdiction = 'US-CA'")
    conn.close()
    with Ledger(path) as ledger:
        result = ledger.verify()
    assert (result.ok, result.first_broken_event) == (False, 2)
    assert "jurisdictions" in result.reason


def test_a_version_with_no_migration_path_is_refused(tmp_path):
    path = tmp_path / "v0.db"
    build_v1(path)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = '0' WHERE key = 'schema_version'")
    conn.close()
    with pytest.raises(NotALedger, match="v0"):
        Ledger(path)
