"""`bipacheck ledger` commands through click's CliRunner, on real ledger files."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from bipacheck.ledger import Ledger
from bipacheck.cli.ledger import ledger

EXAMPLE = Path(__file__).resolve().parent.parent / "fixtures" / "ledger-example"
WRITERS = {"init", "import", "add-subject", "edit-subject", "grant", "revoke", "link", "unlink", "migrate"}


def run(*args: str, ok: bool = True):
    result = CliRunner().invoke(ledger, [str(a) for a in args])
    if ok:
        assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "ledger.db"
    run("init", path, "--actor", "dpo")
    for kind in ("subjects", "consents", "links"):
        run("import", path, EXAMPLE / f"{kind}.csv", "--actor", "dpo")
    return path


def test_every_command_and_option_has_help_text():
    assert set(ledger.commands) >= {"init", "import", "export", "grant", "revoke", "link",
                                    "unlink", "show", "status", "history", "verify"}
    assert ledger.help and "ledger" in run("--help").output
    for name, command in ledger.commands.items():
        assert command.help and len(command.help.split()) >= 5, name
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help, f"{name} {param.opts}"
        output = run(name, "--help").output
        first_sentence = " ".join(command.help.split("\n\n")[0].split())
        assert first_sentence in " ".join(output.split()), name
        assert ("--actor" in output) == (name in WRITERS), name


def test_example_end_to_end(db):
    result = run("status", db, "u-1002", "--scope", "face_geometry", "--as-of", "2024-05-01")
    assert result.output.strip() == "expired: consent C-002 lapsed 2024-02-01T00:00:00Z"
    answer = json.loads(run("status", db, "guest-7", "--scope", "face_geometry", "--as-of",
                            "2024-05-01T00:00:00-05:00", "--json").output)
    assert (answer["status"], answer["consent_id"], answer["revoked_at"]) == \
        ("revoked", "C-004", "2023-01-31T12:00:00Z")
    shown = run("show", db, "guest-7", "--as-of", "2024-05-01").output
    assert "destroy biometric data by: 2023-01-31T00:00:00Z" in shown
    assert "C-004  revoked" in shown and "events/2024/booth-003.jpg" in shown
    events = json.loads(run("history", db, "--subject", "guest-7", "--json").output)
    assert [(e["action"], e["kind"], e["key"]) for e in events] == [
        ("import", "subjects", "guest-7"), ("import", "consents", "C-004"),
        ("import", "links", events[2]["key"])]
    assert {e["actor"] for e in events} == {"dpo"}
    verified = run("verify", db).output
    with Ledger(db) as opened:
        assert opened.head()[1] in verified and verified.startswith("OK")


def test_grant_link_revoke_and_unlink_from_the_command_line(db, tmp_path):
    release = tmp_path / "signed.pdf"
    release.write_bytes(b"%PDF- signed release")
    photo = tmp_path / "p.jpg"
    photo.write_bytes(b"\xff\xd8 photo bytes")
    run("add-subject", db, "u-9", "--name", "Eve", "--jurisdiction", "US-IL",
        "--last-interaction", "2024-05-01", "--actor", "clerk")
    out = run("grant", db, "u-9", "--scope", "face_geometry", "--granted-at", "2024-05-02",
              "--term", "P1Y", "--method", "electronic", "--evidence-file", release, "--id",
              "C-900", "--actor", "clerk").output
    assert "C-900" in out
    run("link", db, "u-9", "--photo-file", photo, "--box", "1 2 30 40", "--role", "uploader")
    run("revoke", db, "C-900", "--at", "2024-08-01", "--reason", "moved away")
    with Ledger(db) as opened:
        consent = opened.consent("C-900")
        assert consent.evidence_sha256 == hashlib.sha256(release.read_bytes()).hexdigest()
        links = opened.photo_links(sha256=hashlib.sha256(photo.read_bytes()).hexdigest())
        assert [(l.subject_id, l.box, l.role) for l in links] == [("u-9", [1, 2, 30, 40],
                                                                   "uploader")]
        assert opened.history("u-9")[0].actor == "clerk"
    status = run("status", db, "u-9", "--scope", "face_geometry", "--as-of", "2024-09-01")
    assert status.output.startswith("revoked")
    assert "1 link(s) removed" in run("unlink", db, "u-9", "--photo-file", photo).output
    run("edit-subject", db, "u-9", "--purpose-satisfied", "2024-08-01")
    assert "edit subjects u-9 purpose_satisfied_at: None -> '2024-08-01T00:00:00Z'" in \
        run("history", db, "--limit", "1").output
    assert run("verify", db).exit_code == 0


def test_errors_are_messages_not_tracebacks(db, tmp_path):
    naive = run("status", db, "u-1001", "--scope", "face_geometry", "--as-of",
                "2024-05-01T09:00", ok=False)
    assert naive.exit_code == 2 and "no time zone" in naive.output
    assert isinstance(naive.exception, SystemExit)
    bad = tmp_path / "links.csv"
    bad.write_text("subject_id,photo_path,box,role\nu-1001,a.jpg,1 2 -3 4,tagged\n"
                   "ghost,b.jpg,,tagged\n")
    rejected = run("import", db, bad, ok=False)
    assert rejected.exit_code == 2
    assert "line 2: box: width and height must be positive" in rejected.output
    assert "line 3: unknown subject 'ghost'" in rejected.output
    noise = tmp_path / "noise.db"
    noise.write_bytes(b"definitely not sqlite" * 100)
    not_ledger = run("verify", noise, ok=False)
    assert not_ledger.exit_code == 2 and "not a ledger" in not_ledger.output
    assert run("show", db, "nobody", ok=False).exit_code == 2
    assert run("edit-subject", db, "u-1001", ok=False).exit_code == 2
    assert run("export", db, ok=False).exit_code == 2  # all kinds need --output DIR


def test_verify_exits_1_and_names_the_broken_event(db):
    with Ledger(db) as opened:
        seq = next(e.seq for e in opened.history() if e.key == "C-001")
    conn = sqlite3.connect(db)
    conn.execute("UPDATE consents SET expires_at = '2099-01-01T00:00:00Z' "
                 "WHERE consent_id = 'C-001'")
    conn.commit()
    conn.close()
    result = run("verify", db, ok=False)
    assert result.exit_code == 1
    assert f"BROKEN at event {seq}:" in result.output and "C-001" in result.output
    report = json.loads(run("verify", db, "--json", ok=False).output)
    assert (report["ok"], report["first_broken_event"]) == (False, seq)


def test_export_prints_files_that_import_back_unchanged(db, tmp_path):
    out = tmp_path / "consents.csv"
    out.write_text(run("export", db, "--kind", "consents").stdout)
    assert "0 added, 0 edited, 5 unchanged" in run("import", db, out).output
    run("export", db, "--format", "json", "-o", tmp_path / "all")
    assert sorted(p.name for p in (tmp_path / "all").iterdir()) == [
        "consents.jsonl", "links.jsonl", "subjects.jsonl"]
    run("export", db, "--kind", "events", "-o", tmp_path / "events.csv")
    with Ledger(db) as opened:
        assert len((tmp_path / "events.csv").read_text().splitlines()) == opened.head()[0] + 1


def test_flags_and_file_columns_share_names_and_old_spellings_warn_for_one_release(tmp_path):
    path = tmp_path / "names.db"
    run("init", path)
    new = run("add-subject", path, "u-new", "--display-name", "Ann", "--residence", "US-IL")
    assert "Warning" not in new.output
    old = run("add-subject", path, "u-old", "--name", "Bo", "--jurisdiction", "US-IL", "--jurisdiction", "US-WI")
    assert "--name is now --display-name" in old.output and "--jurisdiction is now --residence" in old.output
    with Ledger.open(path) as opened:
        assert opened.subject("u-old").display_name == "Bo"
        assert opened.subject("u-old").residence == ["US-IL", "US-WI"]
    exported = run("export", path, "--kind", "subjects").output
    assert exported.splitlines()[0].split(",")[:3] == ["subject_id", "display_name", "residence"]
    legacy = tmp_path / "legacy.csv"
    legacy.write_text("subject_id,display_name,jurisdictions\nu-legacy,Cy,US-IL\n")
    imported = run("import", path, legacy)
    assert "column jurisdictions is now residence" in imported.output
    with Ledger.open(path) as opened:
        assert opened.subject("u-legacy").residence == ["US-IL"]


def test_status_names_a_release_the_audit_would_call_defective(tmp_path):
    path = tmp_path / "defect.db"
    run("init", path)
    run("add-subject", path, "u-1")
    run("grant", path, "u-1", "--scope", "face_geometry", "--purpose", "tagging", "--term", "P3Y",
        "--granted-at", "2025-01-01", "--id", "c-bare")
    out = run("status", path, "u-1", "--scope", "face_geometry", "--as-of", "2026-01-01").output
    assert out.startswith("valid, but defective") and "no written notice recorded" in out
    assert json.loads(run("status", path, "u-1", "--scope", "face_geometry", "--as-of", "2026-01-01",
                          "--json").output)["defects"] == ["no written notice recorded"]
    run("grant", path, "u-1", "--scope", "face_geometry", "--purpose", "tagging", "--term", "P3Y",
        "--granted-at", "2025-02-01", "--notice-elements", "collection;purpose;term", "--id", "c-full")
    out = run("status", path, "u-1", "--scope", "face_geometry", "--as-of", "2026-01-01").output
    assert out.startswith("valid: ") and "defective" not in out
