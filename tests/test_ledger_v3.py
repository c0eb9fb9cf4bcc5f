"""Ledger v3: processing events, subject facts (residence, birth, death, CBA), release content,
and the migration of a v2 ledger file that the previous code built."""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import pytest

from bipacheck.policy.bipa import BIPA
from bipacheck.ledger import CURRENT_VERSION, ImportRejected, InvalidValue, Ledger

V2_FILE = Path(__file__).parent / "data" / "ledger-v2.db"
SHA = "9c663555d5dd9f1d0d097a19310d06c8bc0d4ffd4341c62557ac3cc32e3ce845"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def ledger(tmp_path):
    with Ledger.create(tmp_path / "l.db", actor="tester") as opened:
        yield opened


def test_a_v2_ledger_built_by_the_old_code_migrates_with_its_chain_intact(tmp_path):
    path = tmp_path / "v2.db"
    shutil.copy(V2_FILE, path)
    with sqlite3.connect(path) as conn:
        old_rows = conn.execute("SELECT subject_id, jurisdictions, last_interaction_at FROM subjects "
                                "ORDER BY 1").fetchall()
        old_events = conn.execute("SELECT seq, hash FROM events ORDER BY seq").fetchall()
    conn.close()
    with Ledger(path, actor="upgrader") as opened:
        assert opened.schema_version == CURRENT_VERSION == 5
        result = opened.verify()
        assert result.ok, result.reason
        history = opened.history()
        assert [(e.seq, e.hash) for e in history[:len(old_events)]] == old_events  # untouched
        migrate = history[-3]
        assert (migrate.action, migrate.note["from"], migrate.note["to"]) == ("migrate", 2, 3)
        subjects = opened.subjects()
        assert [(s.subject_id, s.jurisdictions) for s in subjects] == [
            (sid, json.loads(codes)) for sid, codes, _ in old_rows]
        assert all(s.birth_date is None and s.employment_cba is None for s in subjects)
        revoked = opened.consent("c-dave-2")
        assert revoked.revoked_at.year == 2023 and revoked.notice_elements is None
        # new fields are usable and still verify
        opened.edit_subject("u-bob", birth_date="1990-04-01", employment_cba="cba-2019")
        opened.record_processing("2025-01-15", photo_sha256=SHA, processing_region="US-IL")
        assert opened.verify().ok
    with sqlite3.connect(path) as conn:  # a migrated row edited behind the ledger is still caught
        conn.execute("UPDATE consents SET signer_role = 'guardian' WHERE consent_id = 'c-bob-1'")
    conn.close()
    with Ledger(path) as opened:
        result = opened.verify()
        assert not result.ok and "c-bob-1" in result.reason and "signer_role" in result.reason


def test_processing_events_import_from_csv_all_or_nothing_and_idempotent(ledger, tmp_path):
    good = write(tmp_path / "events.csv",
                 "processed_at,photo_sha256,photo_path,capture_region,processing_region,method,recipients\n"
                 f"2025-01-15T10:00:00Z,{SHA},,us-il,US-IL,face-templates,\n"
                 "2025-07-01,,team/offsite.jpg,US-CA,US-TX,face-templates,acme-vision;search-co\n")
    result = ledger.import_file(good)
    assert (result.kind, result.added) == ("processing", 2)
    assert ledger.import_file(good).changed == 0  # idempotent
    (first,) = ledger.processing_events(sha256=SHA)
    assert (first.capture_region, first.processing_region, first.recipients) == ("US-IL", "US-IL", [])
    (second,) = ledger.processing_events(relpath="./team/offsite.jpg")
    assert second.recipients == ["acme-vision", "search-co"]
    assert second.processed_at.isoformat() == "2025-07-01T00:00:00+00:00"
    events = [e for e in ledger.history() if e.kind == "processing"]
    assert [e.action for e in events] == ["import", "import"]

    edited = write(tmp_path / "events2.csv",
                   "processed_at,photo_path,method,recipients\n"
                   "2025-07-01,team/offsite.jpg,face-templates,acme-vision\n")
    assert ledger.import_file(edited).edited == 1  # same event (when, photo, method): an edit
    assert ledger.processing_events(relpath="team/offsite.jpg")[0].recipients == ["acme-vision"]

    bad = write(tmp_path / "bad.csv",
                "processed_at,photo_sha256,processing_region\n"
                "2025-02-01T10:00,%s,US-IL\n"  # no time zone
                "2025-02-02,,US-IL\n"  # no photo
                "2025-02-03,%s,Illinois\n" % (SHA, SHA))
    before = ledger.head()
    with pytest.raises(ImportRejected) as caught:
        ledger.import_file(bad)
    assert [line for line, _ in caught.value.problems] == [2, 3, 4]
    assert "no time zone" in caught.value.problems[0][1]
    assert "photo_sha256 or photo_path" in caught.value.problems[1][1]
    assert "not a code like US-IL" in caught.value.problems[2][1]
    assert ledger.head() == before
    assert ledger.verify().ok


def test_processing_events_from_json_lines_and_export_round_trip(ledger, tmp_path):
    src = write(tmp_path / "events.jsonl",
                '{"processed_at": "2025-03-01T12:00:00-06:00", "photo_sha256": "%s", '
                '"processing_region": "US-IL", "recipients": ["vendor-a"]}\n' % SHA)
    assert ledger.import_file(src).added == 1
    assert ledger.processing_events(sha256=SHA)[0].processed_at.hour == 18
    exported = ledger.export_dir(tmp_path / "out", "csv")
    assert [p.name for p in exported][-1] == "processing.csv"
    assert ledger.import_file(exported[-1]).changed == 0
    with sqlite3.connect(ledger.path) as conn:  # a processing row edited behind the ledger
        conn.execute("UPDATE processing SET processing_region = 'US-TX'")
    conn.close()
    result = ledger.verify()
    assert not result.ok and "processing row" in result.reason


def test_subject_facts_residence_alias_birth_death_and_cba(ledger, tmp_path):
    src = write(tmp_path / "s.csv",
                "subject_id,residence,birth_date,deceased_at,employment_cba\n"
                "kid,US-IL,2010-05-01,,\n"
                "worker,us-il;us-in,1980-01-01,,yes\n"
                "gone,US-IL,1950-01-01,2024-03-01,local-150-agreement\n")
    assert ledger.import_file(src).added == 3
    gone, kid, worker = ledger.subjects()
    assert kid.residence == kid.jurisdictions == ["US-IL"] and kid.age_on(kid.birth_date.replace(year=2025, month=4)) == 14
    assert worker.residence == ["US-IL", "US-IN"] and worker.under_cba and worker.employment_cba == "true"
    assert gone.deceased_at.year == 2024 and gone.employment_cba == "local-150-agreement"
    ledger.add_subject("api", residence="US-CA", employment_cba=False)
    assert ledger.subject("api").residence == ["US-CA"] and not ledger.subject("api").under_cba
    with pytest.raises(InvalidValue, match="one field"):
        ledger.add_subject("both", residence="US-CA", jurisdictions="US-IL")


def test_release_content_signer_notice_and_disclosure_scopes(ledger, tmp_path):
    ledger.add_subject("kid", birth_date="2010-05-01")
    src = write(tmp_path / "c.csv",
                "consent_id,subject_id,scope,purpose,granted_at,term,method,signer_role,notice_elements\n"
                "c1,kid,face_geometry,photo tagging,2025-06-01,P3Y,electronic,parent,collection;purpose;TERM\n"
                "c2,kid,disclose:acme-vision,vendor search,2025-06-01,P3Y,electronic,parent,collection\n")
    assert ledger.import_file(src).added == 2
    c1, c2 = ledger.consents("kid")
    assert (c1.signer_role, c1.notice_elements) == ("parent", ["collection", "purpose", "term"])
    assert c2.scope == "disclose:acme-vision"
    with pytest.raises(InvalidValue, match="signer_role"):
        ledger.grant("kid", "face_geometry", "2025-01-01", signer_role="cousin")
    with pytest.raises(InvalidValue, match="notice_elements"):
        ledger.grant("kid", "face_geometry", "2025-01-01", notice_elements="collection;vibes")


def test_subject_facts_as_they_stood_on_a_date(ledger, monkeypatch):
    from bipacheck.ledger import events

    monkeypatch.setattr(events, "now_utc", lambda: datetime(2021, 1, 1, tzinfo=timezone.utc))
    ledger.add_subject("u", jurisdictions="US-IL", last_interaction_at="2020-01-01")
    assert ledger.subject_as_of("u", "2000-01-01").last_interaction_at.year == 2020  # earliest known
    monkeypatch.setattr(events, "now_utc", lambda: datetime(2024, 1, 1, tzinfo=timezone.utc))
    ledger.edit_subject("u", jurisdictions="US-CA", last_interaction_at="2026-01-01")
    assert ledger.verify().ok
    old = ledger.subject_as_of("u", "2022-06-01")
    assert old.residence == ["US-IL"] and old.last_interaction_at.year == 2020
    assert ledger.subject_as_of("u", "2999-01-01").residence == ["US-CA"]
    assert BIPA.retention_deadline(ledger.subject_as_of("u", "2022-06-01")).year == 2023
    assert BIPA.retention_deadline(ledger.subject("u")).year == 2029


def test_the_command_line_records_the_new_facts_and_imports_processing_events(tmp_path):
    from click.testing import CliRunner

    from bipacheck.cli import cli

    db = tmp_path / "l.db"

    def run(*args):
        result = CliRunner().invoke(cli, ["ledger", *map(str, args)])
        assert result.exit_code == 0, result.output
        return result.output

    run("init", db)
    run("add-subject", db, "kid", "--residence", "US-IL", "--birth-date", "2012-02-02",
        "--employment-cba", "no")
    run("grant", db, "kid", "--scope", "disclose:vendor", "--purpose", "search", "--term", "P1Y",
        "--signer-role", "guardian", "--notice-elements", "collection;purpose;term", "--id", "c1")
    events = write(tmp_path / "p.csv", f"processed_at,photo_sha256,processing_region,recipients\n"
                                       f"2025-01-01,{SHA},US-IL,vendor\n")
    assert "processing: 1 added" in run("import", db, events)
    shown = run("show", db, "kid")
    assert "residence: US-IL" in shown and "CBA: false" in shown
    assert "elements=collection;purpose;term signer=guardian" in shown
    with Ledger(db) as opened:
        assert opened.processing_events(sha256=SHA)[0].recipients == ["vendor"]
        assert opened.verify().ok


def test_ledger_migrate_upgrades_the_v2_file_for_read_only_audits(tmp_path):
    from click.testing import CliRunner

    from bipacheck.cli import cli

    path = tmp_path / "v2.db"
    shutil.copy(V2_FILE, path)
    with pytest.raises(Exception, match="bipacheck ledger migrate"):
        Ledger.open(path, read_only=True)  # what an audit does: it never writes
    result = CliRunner().invoke(cli, ["ledger", "migrate", str(path)])
    assert result.exit_code == 0 and "schema version 5" in result.output, result.output
    with Ledger.open(path, read_only=True) as opened:
        assert opened.verify().ok and opened.processing_events(sha256=SHA) == []
