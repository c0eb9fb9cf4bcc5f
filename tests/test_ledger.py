"""Ledger API on real SQLite files: consent status, photo links, retention, tamper evidence."""

from __future__ import annotations

import hashlib
import json
import pickle
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest

from bipacheck.policy.bipa import BIPA
from bipacheck.errors import BipacheckError
from bipacheck.ledger import InvalidValue, Ledger, LedgerError

UTC = timezone.utc
PHOTO = hashlib.sha256(b"photo bytes").hexdigest()
OTHER_PHOTO = hashlib.sha256(b"other photo").hexdigest()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def ledger(tmp_path):
    with Ledger.create(tmp_path / "ledger.db", actor="tester") as opened:
        opened.add_subject("u1", "Ann", ["US-IL"], "2024-01-01")
        yield opened


def raw(ledger: Ledger) -> sqlite3.Connection:
    """A plain sqlite3 connection, the way someone tampering with the file would edit it."""
    return sqlite3.connect(ledger.path, isolation_level=None)


# -- status as of a date ---------------------------------------------------------------------

@pytest.mark.parametrize("as_of, expected", [
    ("2024-04-30T23:59:59", "not-yet-valid"),
    ("2024-05-01T00:00:00", "valid"),          # the term starts at granted_at itself
    ("2025-06-15T12:00:00", "valid"),
    ("2027-04-30T23:59:59", "valid"),
    ("2027-05-01T00:00:00", "expired"),         # granted 2024-05-01 + P3Y
    ("2030-01-01T00:00:00", "expired"),
])
def test_status_before_inside_and_after_the_term(ledger, as_of, expected):
    ledger.grant("u1", "face_geometry", "2024-05-01", consent_id="C1", term="P3Y")
    result = ledger.consent_status("u1", "face_geometry", at(as_of))
    assert result.status == expected
    assert result.consent_id == "C1"
    assert result.expires_at == at("2027-05-01T00:00:00")


def test_an_explicit_expiry_earlier_than_the_term_wins(ledger):
    ledger.grant("u1", "face_geometry", "2024-05-01", consent_id="C1", term="P3Y",
                 expires_at="2025-01-01")
    assert ledger.consent_status("u1", "face_geometry", at("2025-02-01T00:00:00")).status == \
        "expired"


def test_revocation_ends_consent_but_keeps_the_release(ledger):
    ledger.grant("u1", "face_geometry", "2024-01-01", consent_id="C1", method="electronic",
                 notice_version="n-7")
    ledger.revoke("C1", "2024-06-01T10:00:00-05:00", reason="asked by email")

    before = ledger.consent_status("u1", "face_geometry", at("2024-06-01T14:59:59"))
    after = ledger.consent_status("u1", "face_geometry", at("2024-06-01T15:00:00"))
    assert before.status == "valid"
    assert after.status == "revoked"
    assert after.revoked_at == at("2024-06-01T15:00:00")
    assert (after.method, after.notice_version) == ("electronic", "n-7")
    # The release is still provable after revocation, and the revocation is on record.
    assert ledger.consent("C1").granted_at == at("2024-01-01T00:00:00")
    revoke = ledger.history("u1")[-1]
    assert (revoke.action, revoke.note) == ("revoke", {"reason": "asked by email"})
    assert revoke.changes() == {"revoked_at": [None, "2024-06-01T15:00:00Z"]}
    with pytest.raises(LedgerError, match="already revoked"):
        ledger.revoke("C1", "2024-07-01")


def test_out_of_scope_and_none(ledger):
    ledger.add_subject("u2")
    ledger.grant("u1", "marketing_email", "2024-01-01", consent_id="C9")
    result = ledger.consent_status("u1", "face_geometry", at("2024-06-01T00:00:00"))
    assert (result.status, result.consent_id) == ("out-of-scope", "C9")
    assert ledger.consent_status("u2", "face_geometry", at("2024-06-01T00:00:00")).status == "none"
    assert ledger.consent_status("nobody", "face_geometry", at("2024-06-01T00:00:00")).status \
        == "none"


def test_a_valid_consent_beats_any_other_and_revoked_is_reported_before_expired(ledger):
    ledger.grant("u1", "face_geometry", "2020-01-01", consent_id="old", expires_at="2021-01-01")
    ledger.grant("u1", "face_geometry", "2022-01-01", consent_id="gone")
    ledger.revoke("gone", "2023-01-01")
    assert ledger.consent_status("u1", "face_geometry", at("2024-01-01T00:00:00")).consent_id \
        == "gone"
    ledger.grant("u1", "face_geometry", "2023-06-01", consent_id="good", term="P2Y")
    result = ledger.consent_status("u1", "face_geometry", at("2024-01-01T00:00:00"))
    assert (result.status, result.consent_id) == ("valid", "good")


def test_dates_need_a_time_zone_and_bare_dates_are_utc_midnight(ledger):
    with pytest.raises(InvalidValue, match="no time zone"):
        ledger.consent_status("u1", "face_geometry", datetime(2024, 1, 1))
    with pytest.raises(InvalidValue, match="no time zone"):
        ledger.grant("u1", "face_geometry", "2024-05-01T09:00:00")
    consent = ledger.grant("u1", "face_geometry", "2024-05-01", consent_id="C1")
    assert consent.granted_at == datetime(2024, 5, 1, tzinfo=UTC)
    chicago = timezone(timedelta(hours=-5))
    # 2024-04-30 20:00 in Chicago is 01:00 UTC on May 1st: valid, not "a day early".
    assert ledger.consent_status("u1", "face_geometry",
                                 datetime(2024, 4, 30, 20, 0, tzinfo=chicago)).status == "valid"
    assert ledger.consent_status("u1", "face_geometry",
                                 datetime(2024, 4, 30, 18, 59, tzinfo=chicago)).status == \
        "not-yet-valid"


def test_grant_rules(ledger):
    with pytest.raises(LedgerError, match="unknown subject"):
        ledger.grant("ghost", "face_geometry", "2024-01-01")
    with pytest.raises(InvalidValue, match="not after granted_at"):
        ledger.grant("u1", "face_geometry", "2024-01-01", expires_at="2023-01-01")
    with pytest.raises(InvalidValue, match="electronic"):
        ledger.grant("u1", "face_geometry", "2024-01-01", method="verbal")
    first = ledger.grant("u1", "face_geometry", "2024-01-01", consent_id="C1")
    events = ledger.head()[0]
    assert ledger.grant("u1", "face_geometry", "2024-01-01", consent_id="C1") == first
    assert ledger.head()[0] == events  # repeating the same grant records nothing
    with pytest.raises(LedgerError, match="never rewritten"):
        ledger.grant("u1", "face_geometry", "2024-02-01", consent_id="C1")


# -- photos and retention ----------------------------------------------------------------------

def test_photo_links_match_by_hash_or_path_deduplicated(ledger):
    ledger.add_subject("u2")
    ledger.link("u1", photo_sha256=PHOTO.upper(), box=[10, 20, 30, 40], role="tagged")
    ledger.link("u1", photo_path="./albums\\2024/p.jpg", box="10 20 30 40", role="uploader")
    ledger.link("u2", photo_path="albums/2024/p.jpg")
    ledger.link("u2", photo_sha256=OTHER_PHOTO, box="[1,1,5,5]")

    found = ledger.photo_links(sha256=PHOTO, relpath="albums/2024/p.jpg")
    assert [(l.subject_id, l.box, l.role) for l in found] == [
        ("u1", [10, 20, 30, 40], "uploader"),   # same subject+box: one entry, strongest role
        ("u2", None, "tagged"),
    ]
    assert [l.subject_id for l in ledger.photo_links(sha256=PHOTO)] == ["u1"]
    assert ledger.photo_links(relpath="elsewhere.jpg") == []
    assert ledger.photo_links() == []


@pytest.mark.parametrize("box, message", [
    ([1, 2, -3, 4], "positive"), ([1, 2, 3, 0], "positive"), ([-1, 2, 3, 4], "negative"),
    ("1 2 3", "four integers"), ("1 2 3.5 4", "four integers"),
])
def test_bad_boxes_are_rejected(ledger, box, message):
    with pytest.raises(InvalidValue, match=message):
        ledger.link("u1", photo_sha256=PHOTO, box=box)


def test_link_needs_a_photo_and_a_relative_path(ledger):
    with pytest.raises(InvalidValue, match="photo_sha256 or photo_path"):
        ledger.link("u1")
    with pytest.raises(InvalidValue, match="relative"):
        ledger.link("u1", photo_path="/etc/passwd")
    with pytest.raises(InvalidValue, match=r"\.\."):
        ledger.link("u1", photo_path="a/../../b.jpg")


def test_unlink_removes_links_and_records_what_was_removed(ledger):
    ledger.link("u1", photo_sha256=PHOTO, box=[1, 1, 5, 5])
    ledger.link("u1", photo_sha256=PHOTO, box=[9, 9, 5, 5])
    assert ledger.unlink("u1", photo_sha256=PHOTO, box=[9, 9, 5, 5]) == 1
    assert [l.box for l in ledger.photo_links(sha256=PHOTO)] == [[1, 1, 5, 5]]
    last = ledger.history("u1")[-1]
    assert last.action == "unlink" and last.after is None and last.before["box"] == "[9,9,5,5]"
    with pytest.raises(LedgerError, match="no link"):
        ledger.unlink("u1", photo_path="never.jpg")
    assert ledger.verify().ok


@pytest.mark.parametrize("last, satisfied, expected", [
    ("2024-03-15", None, "2027-03-15T00:00:00"),
    ("2024-02-29", None, "2027-02-28T00:00:00"),      # no Feb 29th in 2027
    ("2024-03-15", "2025-01-31", "2025-01-31T00:00:00"),
    ("2020-01-01", "2025-01-31", "2023-01-01T00:00:00"),
    (None, None, None),
])
def test_retention_deadline_is_the_earlier_of_purpose_and_three_years(ledger, last, satisfied,
                                                                      expected):
    ledger.add_subject("s", last_interaction_at=last, purpose_satisfied_at=satisfied)
    assert BIPA.retention_deadline(ledger.subject("s")) == (at(expected) if expected else None)
    assert BIPA.retention_deadline(ledger.subject("nobody")) is None


def test_edit_subject_records_an_edit(ledger):
    ledger.edit_subject("u1", last_interaction_at="2025-02-01", jurisdictions="us-il;US-WA")
    subject = ledger.subject("u1")
    assert subject.jurisdictions == ["US-IL", "US-WA"] and subject.display_name == "Ann"
    edit = ledger.history("u1")[-1]
    assert edit.action == "edit" and edit.actor == "tester"
    assert set(edit.changes()) == {"last_interaction_at", "jurisdictions"}
    with pytest.raises(LedgerError, match="already exists"):
        ledger.add_subject("u1", "Someone else")


# -- tamper evidence ------------------------------------------------------------------------------

@pytest.fixture
def busy(ledger):
    """A ledger with events 1..6: init, add u1, grant C1, grant C2, link, revoke C2."""
    ledger.grant("u1", "face_geometry", "2024-01-01", consent_id="C1", term="P3Y")
    ledger.grant("u1", "face_geometry", "2024-02-01", consent_id="C2")
    ledger.link("u1", photo_sha256=PHOTO, box=[1, 2, 3, 4])
    ledger.revoke("C2", "2024-03-01")
    assert ledger.verify().ok and ledger.head()[0] == 6
    return ledger


def test_verify_passes_on_an_untouched_ledger(busy):
    result = busy.verify()
    assert (result.ok, result.first_broken_event, result.events) == (True, None, 6)
    assert result.head_hash == busy.head()[1]


def test_verify_catches_an_edited_event(busy):
    raw(busy).execute("UPDATE events SET actor = 'someone-else' WHERE seq = 3")
    result = busy.verify()
    assert (result.ok, result.first_broken_event) == (False, 3)
    assert "edited" in result.reason


def test_verify_catches_an_event_rewritten_with_a_fresh_hash(busy):
    # A forger who rewrites event 3 and recomputes its hash (by the rule in docs/LEDGER.md)
    # still breaks the link from event 4, which holds the old hash.
    conn = raw(busy)
    conn.row_factory = sqlite3.Row
    event = dict(conn.execute("SELECT * FROM events WHERE seq = 3").fetchone())
    event["actor"] = "someone-else"
    body = {k: event[k] for k in ("seq", "at", "actor", "action", "kind", "key")}
    body.update({k: json.loads(event[k]) if event[k] else None
                 for k in ("before", "after", "note")})
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    forged = hashlib.sha256(f"{event['prev_hash']}\n{canonical}".encode()).hexdigest()
    conn.execute("UPDATE events SET actor = ?, hash = ? WHERE seq = 3", ["someone-else", forged])
    result = busy.verify()
    assert (result.ok, result.first_broken_event) == (False, 4)
    assert "event 3 or 4" in result.reason


def test_verify_catches_a_deleted_event_in_the_middle(busy):
    raw(busy).execute("DELETE FROM events WHERE seq = 4")
    result = busy.verify()
    assert (result.ok, result.first_broken_event) == (False, 4)
    assert "missing" in result.reason


def test_verify_catches_the_last_event_deleted(busy):
    raw(busy).execute("DELETE FROM events WHERE seq = 6")
    result = busy.verify()
    assert (result.ok, result.first_broken_event) == (False, 6)


def test_verify_catches_a_consent_row_edited_with_sqlite(busy):
    raw(busy).execute("UPDATE consents SET term = 'P30Y' WHERE consent_id = 'C1'")
    result = busy.verify()
    assert (result.ok, result.first_broken_event) == (False, 3)  # event 3 recorded C1
    assert "C1" in result.reason and "term" in result.reason


def test_verify_catches_an_unrevoked_consent(busy):
    raw(busy).execute("UPDATE consents SET revoked_at = NULL WHERE consent_id = 'C2'")
    result = busy.verify()
    assert (result.ok, result.first_broken_event) == (False, 6)


def test_verify_catches_deleted_and_smuggled_rows(busy):
    conn = raw(busy)
    conn.execute("DELETE FROM links")
    assert busy.verify().first_broken_event == 5
    conn.execute("INSERT INTO subjects (subject_id, jurisdictions) VALUES ('ghost', '[]')")
    result = busy.verify()
    assert result.first_broken_event == 5
    assert any("'ghost' was added outside the ledger" in p for p in result.problems)


def test_file_sha256_is_the_hash_of_the_file_bytes(busy):
    digest = busy.file_sha256()
    assert digest == hashlib.sha256(busy.path.read_bytes()).hexdigest()
    busy.add_subject("u9")
    assert busy.file_sha256() != digest


def test_a_ledger_pickles_by_path_for_worker_processes(busy):
    copy = pickle.loads(pickle.dumps(busy))
    try:
        assert copy.path == busy.path and copy.actor == "tester"
        assert copy.consent_status("u1", "face_geometry", at("2024-06-01T00:00:00")).valid
    finally:
        copy.close()


def test_ledger_error_is_a_bipacheck_error():
    assert issubclass(LedgerError, BipacheckError)
