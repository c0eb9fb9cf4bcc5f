"""Import and export on real files: the worked example, all-or-nothing, idempotence, round trips."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest

from bipacheck.policy.bipa import BIPA
from bipacheck.ledger import ImportRejected, Ledger

EXAMPLE = Path(__file__).resolve().parent.parent / "fixtures" / "ledger-example"
AUDIT_DATE = datetime(2024, 5, 1, tzinfo=timezone.utc)
BOOTH = hashlib.sha256(b"photo booth-003 bytes").hexdigest()
SHA = "ab" * 32


@pytest.fixture
def example(tmp_path):
    """The worked example of docs/LEDGER.md, imported in order."""
    with Ledger.create(tmp_path / "ledger.db", actor="importer") as ledger:
        for kind in ("subjects", "consents", "links"):
            ledger.import_file(EXAMPLE / f"{kind}.csv")
        yield ledger


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def snapshot(ledger: Ledger) -> tuple[str, int, str]:
    return ledger.file_sha256(), ledger.head()[0], ledger.head()[1]


def test_worked_example_answers_the_audit_question(example):
    expected = {  # as stated in docs/LEDGER.md, "Worked example"
        "u-1001": ("valid", "C-001"),
        "u-1002": ("expired", "C-002"),       # C-003 only starts in June
        "guest-7": ("revoked", "C-004"),
        "u-1003": ("out-of-scope", "C-005"),
        "u-1004": ("none", None),
    }
    for subject, (status, consent_id) in expected.items():
        result = example.consent_status(subject, "face_geometry", AUDIT_DATE)
        assert (result.status, result.consent_id) == (status, consent_id), subject
    in_photo = example.photo_links(sha256=BOOTH, relpath="events/2024/booth-003.jpg")
    assert [(l.subject_id, l.role) for l in in_photo] == [
        ("guest-7", "other"), ("u-1001", "tagged"), ("u-1002", "tagged"), ("u-1004", "tagged")]
    assert BIPA.retention_deadline(example.subject("guest-7")) == datetime(2023, 1, 31, tzinfo=timezone.utc)
    assert BIPA.retention_deadline(example.subject("u-1002")) == datetime(2026, 11, 2, 23, 30,
                                                            tzinfo=timezone.utc)
    assert example.subject("u-1002").jurisdictions == ["US-IL", "US-TX"]
    assert example.verify().ok


def test_import_records_one_event_per_row_with_its_source(example):
    consent_events = [e for e in example.history() if e.kind == "consents"]
    assert len(consent_events) == 5
    first = consent_events[0]
    assert (first.action, first.actor, first.key) == ("import", "importer", "C-001")
    assert first.note == {"source": "consents.csv", "line": 2, "source_sha256": hashlib.sha256(
        (EXAMPLE / "consents.csv").read_bytes()).hexdigest()}


def test_reimporting_the_same_files_changes_nothing(example):
    before = snapshot(example)
    for kind in ("subjects", "consents", "links"):
        result = example.import_file(EXAMPLE / f"{kind}.csv")
        assert (result.added, result.edited, result.unchanged) == (0, 0, 5)
    assert snapshot(example) == before


def test_a_changed_row_is_an_edit_event(example, tmp_path):
    text = (EXAMPLE / "consents.csv").read_text().replace("notice-2022-11", "notice-2023-01")
    result = example.import_file(write(tmp_path / "consents.csv", text))
    assert (result.added, result.edited, result.unchanged) == (0, 1, 4)
    edit = example.history()[-1]
    assert (edit.action, edit.key) == ("edit", "C-002")
    assert edit.changes() == {"notice_version": ["notice-2022-11", "notice-2023-01"]}
    assert example.verify().ok


def test_a_column_left_out_keeps_values_an_empty_cell_clears_them(example, tmp_path):
    example.import_file(write(tmp_path / "s.csv", "subject_id,last_interaction_at\n"
                                                   "u-1001,2024-04-01\n"))
    subject = example.subject("u-1001")
    assert subject.display_name == "Ana Ruiz"  # no display_name column: kept
    assert subject.last_interaction_at == datetime(2024, 4, 1, tzinfo=timezone.utc)
    example.import_file(write(tmp_path / "s2.csv", "subject_id,display_name\nu-1001,\n"))
    assert example.subject("u-1001").display_name is None


BAD_CONSENTS = f"""consent_id,subject_id,scope,granted_at,expires_at,revoked_at,method,evidence_sha256
ok-1,u-1001,face_geometry,2024-01-01,,,written,{SHA}
bad-subject,nobody,face_geometry,2024-01-01,,,written,
bad-date,u-1001,face_geometry,1st of May,,,written,
backwards,u-1001,face_geometry,2024-05-01,2024-04-01,,written,
bad-sha,u-1001,face_geometry,2024-01-01,,,written,not-a-hash
naive,u-1001,face_geometry,2024-01-01T09:00:00,,,written,
ok-1,u-1001,face_geometry,2024-01-01,,,written,
bad-method,u-1001,face_geometry,2024-01-01,,,verbal,
early-revoke,u-1001,face_geometry,2024-01-01,,2023-01-01,written,
ok-2,u-1002,face_geometry,2024-01-01,,,electronic,
"""


def test_one_bad_file_is_rejected_whole_with_every_bad_line(example, tmp_path):
    before = snapshot(example)
    with pytest.raises(ImportRejected) as caught:
        example.import_file(write(tmp_path / "consents.csv", BAD_CONSENTS))
    reasons = dict(caught.value.problems)
    assert sorted(reasons) == [3, 4, 5, 6, 7, 8, 9, 10]
    assert "unknown subject 'nobody'" in reasons[3]
    assert "not an ISO 8601 date" in reasons[4]
    assert "not after granted_at" in reasons[5]
    assert "SHA-256" in reasons[6]
    assert "no time zone" in reasons[7]
    assert "duplicate consent_id 'ok-1' (first on line 2)" in reasons[8]
    assert "'verbal' is not one of written, electronic" in reasons[9]
    assert "before granted_at" in reasons[10]
    assert "line 9:" in str(caught.value)
    # Nothing was written: same file bytes, same chain, and the good rows are absent too.
    assert snapshot(example) == before
    assert example.consent("ok-1") is None and example.consent("ok-2") is None


BAD_LINKS = """subject_id,photo_sha256,photo_path,box,role
u-1001,,a.jpg,1 2 3 4,tagged
u-1001,,a.jpg,1 2 -3 4,tagged
u-1001,,a.jpg,1 2 3 4,owner
u-1001,,,1 2 3 4,tagged
u-1001,,a.jpg,1 2 3 4,other
u-1001,,/abs/a.jpg,,tagged
"""


def test_bad_links_are_rejected_with_their_lines(example, tmp_path):
    before = snapshot(example)
    with pytest.raises(ImportRejected) as caught:
        example.import_file(write(tmp_path / "links.csv", BAD_LINKS))
    reasons = dict(caught.value.problems)
    assert sorted(reasons) == [3, 4, 5, 6, 7]
    assert "width and height must be positive" in reasons[3]
    assert "'owner' is not one of uploader, tagged, other" in reasons[4]
    assert "photo_sha256 or photo_path" in reasons[5]
    assert "duplicate link (first on line 2)" in reasons[6]  # same subject, photo and box
    assert "relative" in reasons[7]
    assert snapshot(example) == before


def test_header_problems_are_reported_before_any_row(example, tmp_path):
    with pytest.raises(ImportRejected) as caught:
        example.import_file(write(tmp_path / "c.csv", "consent_id,subject_id,scopes\nc,u-1001,x\n"))
    missing, unknown = caught.value.problems  # sorted by line, then text
    assert unknown == (1, "unknown column(s) for consents: scopes (expected: consent_id, "
                          "subject_id, scope, purpose, granted_at, expires_at, term, revoked_at, "
                          "method, notice_version, evidence_uri, evidence_sha256, signer_role, "
                          "notice_elements, purposes, explicit)")
    assert missing == (1, "missing required column(s): scope, granted_at, method")
    with pytest.raises(ImportRejected, match="pass --kind"):
        example.import_file(write(tmp_path / "x.csv", "name,email\na,b\n"))
    with pytest.raises(ImportRejected, match="empty file"):
        example.import_file(write(tmp_path / "e.csv", ""))
    with pytest.raises(ImportRejected, match="not a JSON array"):
        example.import_file(write(tmp_path / "s.json", '[{"subject_id": "u-1"}]'))
    (tmp_path / "latin1.csv").write_bytes("subject_id\nJosé\n".encode("latin-1"))
    with pytest.raises(ImportRejected, match="line 2: not UTF-8"):
        example.import_file(tmp_path / "latin1.csv")


def test_an_import_cannot_undo_a_revocation(example, tmp_path):
    text = (EXAMPLE / "consents.csv").read_text().replace("2023-01-31T12:00:00Z", "")
    with pytest.raises(ImportRejected, match="cannot undo a revocation") as caught:
        example.import_file(write(tmp_path / "consents.csv", text))
    assert [line for line, _ in caught.value.problems] == [5]
    assert example.consent("C-004").revoked_at is not None


def test_json_lines_import_with_kind_inferred(tmp_path):
    lines = [
        {"subject_id": 42, "jurisdictions": ["us-il"], "last_interaction_at": "2024-01-01"},
        {"subject_id": "u-2", "display_name": "Bo"},
    ]
    links = [{"subject_id": "42", "photo_sha256": SHA, "box": [1, 2, 3, 4], "role": "uploader"}]
    with Ledger.create(tmp_path / "l.db") as ledger:
        write(tmp_path / "s.jsonl", "\n".join(json.dumps(x) for x in lines) + "\n\n")
        assert ledger.import_file(tmp_path / "s.jsonl").kind == "subjects"
        assert ledger.subject("42").jurisdictions == ["US-IL"]
        write(tmp_path / "l.jsonl", json.dumps(links[0]))
        assert ledger.import_file(tmp_path / "l.jsonl").kind == "links"
        assert ledger.photo_links(sha256=SHA)[0].box == [1, 2, 3, 4]
        write(tmp_path / "bad.jsonl", '{"subject_id": "x"}\n{oops\n[1]\n{"subject_id": "y", '
                                      '"age": 3}\n')
        with pytest.raises(ImportRejected) as caught:
            ledger.import_file(tmp_path / "bad.jsonl", kind="subjects")
        assert [line for line, _ in caught.value.problems] == [2, 3, 4]


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_export_round_trips_through_import(example, tmp_path, fmt):
    exported = example.export_dir(tmp_path / "out", fmt)
    assert [p.name for p in exported] == [f"{k}.{'csv' if fmt == 'csv' else 'jsonl'}"
                                          for k in ("subjects", "consents", "links")]
    before = snapshot(example)
    for path in exported:  # importing our own export is a no-op...
        assert example.import_file(path).changed == 0
    assert snapshot(example) == before
    with Ledger.create(tmp_path / "copy.db") as copy:  # ...and rebuilds the same records
        for path in exported:
            copy.import_file(path)
        for kind in ("subjects", "consents", "links"):
            assert list(copy.db.query(f"SELECT * FROM {kind} ORDER BY 1")) == \
                list(example.db.query(f"SELECT * FROM {kind} ORDER BY 1"))


def test_event_export_carries_the_chain(example):
    out = io.StringIO()
    count = example.export("events", out, "json")
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert count == len(rows) == example.head()[0]
    assert rows[-1]["hash"] == example.head()[1]
    assert all(b["prev_hash"] == a["hash"] for a, b in zip(rows, rows[1:]))


def test_import_accepts_a_copy_with_bom_and_crlf(tmp_path):
    text = (EXAMPLE / "subjects.csv").read_text().replace("\n", "\r\n")
    (tmp_path / "subjects.csv").write_bytes(b"\xef\xbb\xbf" + text.encode())
    with Ledger.create(tmp_path / "l.db") as ledger:
        assert ledger.import_file(tmp_path / "subjects.csv").added == 5
        shutil.copy(EXAMPLE / "subjects.csv", tmp_path / "plain.csv")
        assert ledger.import_file(tmp_path / "plain.csv").changed == 0
