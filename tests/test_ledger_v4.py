"""Ledger v4: the purpose and method vocabulary (releases list purposes, processing events carry a
purpose and a method), the explicit-consent fact, and the migration of a v3 ledger file the
previous code built, with its hash chain intact and the new fields covered by it."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from bipacheck.ledger import CURRENT_VERSION, ImportRejected, InvalidValue, Ledger

V3_FILE = Path(__file__).parent / "data" / "ledger-v3.db"
SHA = "9c663555d5dd9f1d0d097a19310d06c8bc0d4ffd4341c62557ac3cc32e3ce845"


def test_a_v3_ledger_built_by_the_old_code_migrates_with_its_chain_intact(tmp_path):
    path = tmp_path / "v3.db"
    shutil.copy(V3_FILE, path)
    with sqlite3.connect(path) as conn:
        old_events = conn.execute("SELECT seq, hash FROM events ORDER BY seq").fetchall()
    conn.close()
    with Ledger(path, actor="upgrader") as opened:
        assert opened.schema_version == CURRENT_VERSION == 5
        assert opened.verify().ok
        history = opened.history()
        assert [(e.seq, e.hash) for e in history[:len(old_events)]] == old_events  # untouched
        assert [(e.action, e.note["from"], e.note["to"]) for e in history[-2:]] == [("migrate", 3, 4), ("migrate", 4, 5)]
        alice = opened.consent("c-alice-1")
        assert (alice.purposes, alice.explicit, alice.purpose) == (None, None, "photo tagging")
        (event,) = opened.processing_events(relpath="x/y.jpg")
        assert (event.method, event.purpose) == ("face-templates", None)
        # the new fields are usable and verify
        opened.grant("u-alice", "face_geometry", "2026-01-01", consent_id="c-alice-3", purposes="tagging;search",
                     explicit=True, method="electronic")
        opened.record_processing("2026-02-01", photo_sha256=SHA, method="id-verification", purpose="id_verification")
        assert opened.verify().ok
    # a new field edited behind the ledger's back is caught like any other
    for table, column, value in (("consents", "purposes", '["marketing"]'), ("consents", "explicit", "false")):
        copy = tmp_path / f"{column}.db"
        shutil.copy(path, copy)
        with sqlite3.connect(copy) as conn:
            conn.execute(f"UPDATE {table} SET {column} = ? WHERE consent_id = 'c-alice-3'", [value])
        conn.close()
        with Ledger(copy) as opened:
            result = opened.verify()
        assert not result.ok and "c-alice-3" in result.reason and column in result.reason
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE processing SET purpose = 'marketing' WHERE purpose = 'id_verification'")
    conn.close()
    with Ledger(path) as opened:
        result = opened.verify()
    assert not result.ok and "processing row" in result.reason and "purpose" in result.reason


def test_purposes_and_methods_come_from_a_vocabulary(tmp_path):
    with Ledger.create(tmp_path / "l.db") as ledger:
        ledger.add_subject("u")
        consent = ledger.grant("u", "face_geometry", "2025-01-01", purposes="Tagging; search", explicit="yes")
        assert (consent.purposes, consent.explicit) == (["tagging", "search"], True)
        with pytest.raises(InvalidValue, match="'ads' is not one of tagging, grouping"):
            ledger.grant("u", "face_geometry", "2025-01-01", purposes="tagging;ads")
        with pytest.raises(InvalidValue, match="explicit: expected true or false"):
            ledger.grant("u", "face_geometry", "2025-01-01", explicit="maybe")
        with pytest.raises(InvalidValue, match="method: 'face templates' is not one of face-templates"):
            ledger.record_processing("2025-01-01", photo_sha256=SHA, method="face templates")
        with pytest.raises(InvalidValue, match="purpose: 'ads' is not one of"):
            ledger.record_processing("2025-01-01", photo_sha256=SHA, purpose="ads")
        events = tmp_path / "p.csv"
        events.write_text(f"processed_at,photo_sha256,method,purpose\n2025-01-01,{SHA},live-capture,security\n"
                          f"2025-01-02,{SHA},face-templates,advertising\n")
        with pytest.raises(ImportRejected, match="line 3: purpose: 'advertising'"):
            ledger.import_file(events)
        events.write_text(f"processed_at,photo_sha256,method,purpose\n2025-01-01,{SHA},live-capture,security\n")
        ledger.import_file(events)
        (event,) = ledger.processing_events(sha256=SHA)
        assert (event.method, event.purpose) == ("live-capture", "security")
        exported = tmp_path / "out"
        ledger.export_dir(exported)
        assert "tagging;search" in (exported / "consents.csv").read_text()
        assert ledger.import_file(exported / "consents.csv").changed == 0  # an export imports back unchanged
