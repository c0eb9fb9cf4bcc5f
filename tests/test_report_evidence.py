"""Evidence in the JSON report: consented faces with their release, consent facts on findings,
the person roll-up (agreeing with the exposure count), and the law pack derived from citations."""

from __future__ import annotations

import csv
import hashlib
import io
from collections import Counter
from pathlib import Path

import pytest

from bipacheck.report.persons import persons_roll_up
from tests.images import encode, rgb
from tests.test_audit import AS_OF, DEMO, audit_json, make_folder, run_cli, demo_ledger  # noqa: F401 (fixture)


pytestmark = pytest.mark.usefixtures("operator")  # tests/conftest.py: an attested Illinois operator


def by_name(report: dict) -> dict[str, dict]:
    return {Path(p["path"]).name: p for p in report["photos"]}


def test_consented_faces_carry_their_release(demo_ledger, centerface):
    _, report = audit_json(DEMO / "photos", "--ledger", demo_ledger, "--as-of", AS_OF)
    (alice,) = by_name(report)["alice_portrait.jpg"]["face_records"]
    assert (alice["subject_id"], alice["consent_status"], alice["consent_id"]) == ("u-alice", "valid", "c-alice-1")
    assert alice["consent"]["granted_at"] == "2025-01-10T00:00:00Z"
    assert alice["consent"]["expires_at"] == "2028-01-10T00:00:00Z"
    assert alice["consent"]["evidence_uri"] == "https://legal.example/releases/c-alice-1.pdf"
    offsite = by_name(report)["team_offsite.jpg"]["face_records"]
    assert sorted(f["consent_status"] for f in offsite) == ["none", "valid"]
    assert [f["consent"] for f in offsite if f["consent_status"] == "none"] == [None]


def test_findings_carry_the_cited_consent_dates_and_evidence(demo_ledger, centerface):
    _, report = audit_json(DEMO / "photos", "--ledger", demo_ledger, "--as-of", AS_OF)
    carol = next(f for f in report["findings"] if f["rule_id"] == "BIPA-15B-REVOKED")
    consent = carol["faces"][0]["consent"]
    assert consent["revoked_at"] == "2026-10-15T00:00:00Z" and consent["method"] == "electronic"
    document = DEMO / "evidence" / "legal.example" / "releases" / "c-carol-1.pdf"
    assert consent["evidence_uri"].endswith("c-carol-1.pdf")
    assert consent["evidence_sha256"] == hashlib.sha256(document.read_bytes()).hexdigest()
    assert consent["purposes"] == ["tagging"] and consent["evidence"] is None  # documents not opened


def test_person_roll_up_agrees_with_findings_and_exposure(demo_ledger, centerface):
    _, report = audit_json(DEMO / "photos", "--ledger", demo_ledger, "--as-of", AS_OF)
    persons = {p["key"]: p for p in report["persons"]}
    assert persons["u-alice"]["status"] == "consented" and persons["u-alice"]["faces"] == 2
    assert len(persons["u-alice"]["photos"]) == 2 and persons["u-alice"]["findings"] == []
    assert persons["u-dave"]["rules"] == ["BIPA-15A-RETENTION", "BIPA-15B-OUT-OF-SCOPE"]
    (bystander,) = [p for p in report["persons"] if p["subject_id"] is None]
    assert bystander["status"] == "violation" and bystander["photos"][0].endswith("team_offsite.jpg")
    unconsented = [p for p in report["persons"] if p["consent_status"] != "valid"]
    assert len(unconsented) == report["summary"]["exposure"]["sections"]["15(b)"]["persons"]["high"] == 4
    # every person finding is a real finding, and every finding about a face is someone's
    fingerprints = Counter(f["fingerprint"] for f in report["findings"] if f["faces"]
                           and f["rule_id"] not in ("BIPACHECK-UNSCANNED", "BIPACHECK-LOW-CONFIDENCE"))
    assert Counter(fp for p in report["persons"] for fp in p["findings"]) == fingerprints
    # rebuilt from the saved JSON alone, the roll-up is the same
    assert persons_roll_up(report["findings"], report["photos"]) == report["persons"]


def test_baselined_findings_make_a_person_accepted_not_failing():
    face = {"box": [1, 2, 3, 4], "subject_id": "s", "consent_status": "none", "consent_id": None, "consent": None}
    finding = {"rule_id": "BIPA-15B-NO-RELEASE", "severity": "violation", "fingerprint": "f" * 32,
               "photo": {"path": "a.jpg", "sha256": "0" * 64}, "faces": [face],
               "suppressed": {"kind": "baseline", "justification": "signed on paper"}}
    (person,) = persons_roll_up([finding], [])
    assert person["status"] == "accepted"
    del finding["suppressed"]
    assert persons_roll_up([finding], [])[0]["status"] == "violation"


def test_csv_has_one_row_per_finding_with_consent_evidence(demo_ledger, centerface):
    code, out = run_cli("audit", DEMO / "photos", "--ledger", demo_ledger, "--as-of", AS_OF, "--format", "csv")
    assert code == 1
    rows = list(csv.DictReader(io.StringIO(out)))
    _, report = audit_json(DEMO / "photos", "--ledger", demo_ledger, "--as-of", AS_OF)
    assert [r["fingerprint"] for r in rows] == [f["fingerprint"] for f in report["findings"]]
    bob = next(r for r in rows if r["rule_id"] == "BIPA-15B-EXPIRED")
    assert (bob["subject_ids"], bob["consent_ids"], bob["expires_at"]) == ("u-bob", "c-bob-1", "2025-05-01T00:00:00Z")
    assert bob["evidence_uri"].endswith("c-bob-1.pdf") and bob["pack"] == "bipa"


def test_csv_neutralises_formulas_in_uploader_controlled_names(tmp_path, centerface):
    folder = make_folder(tmp_path, **{"=HYPERLINK(1).png": encode(rgb("astronaut")), "@cmd.png": encode(rgb("astronaut"))})
    _, out = run_cli("audit", folder, "--format", "csv")
    cells = [cell for row in csv.reader(io.StringIO(out)) for cell in row]
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)
    photos = sorted({r["photo"] for r in csv.DictReader(io.StringIO(out))})
    assert photos == ["'=HYPERLINK(1).png", "'@cmd.png"]  # named below the root: the name itself is neutralised


def test_markdown_summary_for_a_pull_request(demo_ledger, centerface):
    code, out = run_cli("audit", DEMO / "photos", "--ledger", demo_ledger, "--as-of", AS_OF, "--format", "markdown")
    assert code == 1
    _, report = audit_json(DEMO / "photos", "--ledger", demo_ledger, "--as-of", AS_OF)
    violations = [f for f in report["findings"] if f["severity"] == "violation"]
    assert out.startswith(f"## ❌ bipacheck: {len(violations)} violation(s) in 4 photo(s) and 1 about the operator")
    assert "| 9 | 7 | 2 | 6 | 4 | 4 | 4 |" in out  # files, scanned, skipped, faces, unconsented faces and persons
    total = report["summary"]["exposure"]["total"]
    assert f"${total['negligent']['high']:,} | ${total['reckless']['high']:,} |" in out and "$7,000" in out
    assert out.count("| violation |") == len(violations) and "| u-carol |" in out


def test_markdown_cannot_be_broken_by_file_names(tmp_path, centerface):
    folder = make_folder(tmp_path, **{"a|b <img src=x> @team.png": encode(rgb("astronaut"))})
    _, out = run_cli("audit", folder, "--format", "markdown")
    row = next(line for line in out.splitlines() if "BIPA-15B-NO-RELEASE` |" in line and "team" in line)
    assert row.count(" | ") == 5  # the pipe in the name did not add a column (six columns)
    assert "<img" not in out and "@team" not in out


def test_new_formats_replace_their_own_output_but_nothing_else(tmp_path, centerface):
    import bipacheck
    from bipacheck.errors import ConfigError

    folder = make_folder(tmp_path, **{"a.png": encode(rgb("astronaut"))})
    report = bipacheck.audit(str(folder), no_cache=True, config=False)
    for fmt in ("csv", "markdown", "html"):
        target = tmp_path / f"report.{fmt}"
        report.write(target, fmt)
        report.write(target, fmt)  # a previous report of its own is replaced
        (tmp_path / "notes.txt").write_text("my notes")
        with pytest.raises(ConfigError):
            report.write(tmp_path / "notes.txt", fmt)


def test_the_demo_releases_are_on_file_and_only_bobs_recorded_hash_is_a_placeholder(demo_ledger, centerface):
    """--evidence fixtures/demo/evidence: every release the demo relies on is opened; Bob's document is
    there but the ledger recorded a placeholder hash, so his 2024 scan is not proven (15(b)(3))."""
    _, plain = audit_json(DEMO / "photos", "--ledger", demo_ledger, "--as-of", AS_OF)
    _, report = audit_json(DEMO / "photos", "--ledger", demo_ledger, "--as-of", AS_OF, "--evidence", DEMO / "evidence")
    added = Counter(f["rule_id"] for f in report["findings"]) - Counter(f["rule_id"] for f in plain["findings"])
    assert added == Counter({"BIPA-15B-EVIDENCE": 1})
    bob = next(f for f in report["findings"] if f["rule_id"] == "BIPA-15B-EVIDENCE")
    assert [p["at"] for p in bob["details"]["exposure"]["processing"]] == ["2024-03-01T09:00:00Z"]
    evidence = report["run"]["evidence"]
    assert evidence["releases"] == {"placeholder": 1, "verified": 4}  # c-alice-2 shares c-alice-1's document
    assert set(evidence["notices"]) == {"notice-v1", "notice-v2", "notice-v3"}
    assert all(n["status"] == "verified" and len(n["sha256"]) == 64 for n in evidence["notices"].values())
    persons = {p["key"]: p for p in report["persons"]}
    assert (persons["u-carol"]["first_processed"], persons["u-carol"]["last_processed"]) == (
        "2025-01-15T09:00:00Z", "2026-10-20T09:00:00Z")
    alice = {d["consent_id"]: d for d in persons["u-alice"]["documents"]}
    assert set(alice) == {"c-alice-1", "c-alice-2"}  # tagging, and the disclosure to the search vendor
    assert [v["scope"] for v in alice["c-alice-2"]["verdicts"]] == ["disclose:photo-search-co"]
