"""The worked cases of issue 13 and the known defects of ../shared/LEGAL.md section 4, each run
through the command line and the Python API against a real ledger file and a real photo."""

from __future__ import annotations

import hashlib
import json
import os
import tomllib
from datetime import datetime, timezone
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

import bipacheck
from bipacheck.cli import cli
from bipacheck.ledger import Ledger
from bipacheck.policy.bipa import RULES
from bipacheck.report.formats import report_schema
from tests.exits import expected_exit
from tests.conftest import ATTESTATION, write_attestation
from tests.images import encode, rgb

PHOTO = encode(rgb("astronaut"), "JPEG", quality=92)  # one face
SHA = hashlib.sha256(PHOTO).hexdigest()
NOTICE = "collection;purpose;term"
COMPLETE = dict(purpose="photo tagging", purposes="tagging", term="P3Y", notice_elements=NOTICE, signer_role="subject",
                method="electronic")


@pytest.fixture
def world(tmp_path, monkeypatch, centerface):
    """A folder with one photo, an empty ledger file and an attested Illinois operator."""
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "a.jpg").write_bytes(PHOTO)
    Ledger.create(tmp_path / "ledger.db").close()
    write_attestation(tmp_path)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def ledger(world: Path) -> Ledger:
    return Ledger.open(world / "ledger.db")


def person(world: Path, subject: str = "u", link: bool = True, **facts) -> Ledger:
    opened = ledger(world)
    opened.add_subject(subject, **{"residence": "US-IL", "last_interaction_at": "2026-01-01", **facts})
    if link:
        opened.link(subject, photo_sha256=SHA)
    return opened


def run(world: Path, as_of: str, *args, **api_options) -> dict:
    """The CLI's JSON report (flags `args`), checked against the API's report for the same inputs
    (keywords `api_options`)."""
    result = CliRunner().invoke(cli, ["audit", str(world / "photos"), "--ledger", str(world / "ledger.db"),
                                      "--as-of", as_of, "--format", "json", *args])
    report = json.loads(result.output)
    assert result.exit_code == expected_exit(report), result.output
    jsonschema.validate(report, report_schema())
    org = tomllib.loads((world / ".bipacheck.toml").read_text())["tool"]["bipacheck"]["org"]
    api = bipacheck.audit([str(world / "photos")], ledger=str(world / "ledger.db"),
                          as_of=datetime.fromisoformat(as_of).replace(tzinfo=timezone.utc), org=org,
                          config=False, **api_options)  # the attestation as a keyword, not from the file
    assert sorted((f.rule_id, f.severity) for f in api.findings) == sorted(
        (f["rule_id"], f["severity"]) for f in report["findings"])
    assert api.summary["exposure"]["total"] == report["summary"]["exposure"]["total"]
    return report


def rules(report: dict) -> dict[str, str]:
    return {f["rule_id"]: f["severity"] for f in report["findings"]}


def finding(report: dict, rule_id: str) -> dict:
    (found,) = [f for f in report["findings"] if f["rule_id"] == rule_id]
    return found


def total(report: dict) -> tuple[int, int]:
    t = report["summary"]["exposure"]["total"]
    return t["negligent"]["high"], t["reckless"]["high"]


# -- the worked cases ------------------------------------------------------------------------

def test_release_signed_after_the_upload_scan_is_a_violation_for_that_scan(world):
    with person(world) as opened:
        opened.grant("u", "face_geometry", "2025-06-01", **COMPLETE)
        opened.record_processing("2025-01-15", photo_sha256=SHA, processing_region="US-IL")
    report = run(world, "2026-01-01")
    assert rules(report) == {"BIPA-15B-NOT-YET-VALID": "violation"}
    (scan,) = finding(report, "BIPA-15B-NOT-YET-VALID")["details"]["exposure"]["processing"]
    assert (scan["at"], scan["source"], scan["counted"]) == ("2025-01-15T00:00:00Z", "processing-event", True)
    assert total(report) == (1000, 5000)


def test_without_events_the_upload_time_is_the_first_processing_and_says_so(world):
    with person(world) as opened:
        opened.grant("u", "face_geometry", "2025-06-01", **COMPLETE)
    stamp = datetime(2025, 1, 15, tzinfo=timezone.utc).timestamp()
    os.utime(world / "photos" / "a.jpg", (stamp, stamp))
    report = run(world, "2026-01-01")
    found = finding(report, "BIPA-15B-NOT-YET-VALID")
    assert [p["source"] for p in found["details"]["exposure"]["processing"]] == ["upload-time"]
    per_scan = report["summary"]["exposure"]["sections"]["15(b)"]["per_scan"]
    assert per_scan["basis"].startswith("photo occurrences, a lower bound")


def test_a_scan_in_a_revocation_gap_had_no_release(world):
    with person(world) as opened:
        opened.grant("u", "face_geometry", "2025-01-01", consent_id="c1", **COMPLETE)
        opened.revoke("c1", "2025-06-01")
        opened.grant("u", "face_geometry", "2025-09-01", consent_id="c2", **COMPLETE)
        opened.record_processing("2025-07-01", photo_sha256=SHA, processing_region="US-IL")
        opened.record_processing("2025-10-01", photo_sha256=SHA, processing_region="US-IL")
    report = run(world, "2026-01-01")  # valid today, and at the October scan
    assert rules(report) == {"BIPA-15B-REVOKED": "violation"}
    scans = finding(report, "BIPA-15B-REVOKED")["details"]["exposure"]["processing"]
    assert [s["at"] for s in scans] == ["2025-07-01T00:00:00Z"]


def test_a_release_with_no_purpose_term_or_notice_is_defective(world):
    with person(world) as opened:
        opened.grant("u", "face_geometry", "2025-01-01", method="written")
    report = run(world, "2026-01-01")
    found = finding(report, "BIPA-15B-DEFECTIVE-RELEASE")
    assert found["severity"] == "violation" and found["faces"][0]["consent_status"] == "defective"
    assert found["details"]["defects"] == ["no length of term", "no specific purpose",
                                           "no written notice recorded"]


def test_a_release_whose_notice_content_nobody_recorded_is_review_and_not_counted(world):
    """15(b)(1)-(2): whether notice v1 stated collection, purpose and term is not recorded, so the
    release is not shown defective: review, outside the exposure (a review is never dollars)."""
    with person(world) as opened:
        opened.grant("u", "face_geometry", "2025-01-01", notice_version="v1",
                     **{k: v for k, v in COMPLETE.items() if k != "notice_elements"})
        opened.record_processing("2025-03-01", photo_sha256=SHA, processing_region="US-IL")
    report = run(world, "2026-01-01")
    assert rules(report) == {"BIPA-15B-DEFECTIVE-RELEASE": "review"} and total(report) == (0, 0)
    assert report["summary"]["unconsented_faces"] == 0


def test_a_minor_who_signed_their_own_release_did_not_give_one(world):
    with person(world, birth_date="2010-03-01") as opened:
        opened.grant("u", "face_geometry", "2025-01-01", consent_id="own", **COMPLETE)
    report = run(world, "2026-01-01")
    assert "signed by the subject at age 14" in finding(report, "BIPA-15B-DEFECTIVE-RELEASE")["message"]
    with ledger(world) as opened:  # the same release signed by a parent is valid
        opened.grant("u", "face_geometry", "2025-01-01", consent_id="parent",
                     **{**COMPLETE, "signer_role": "parent"})
    assert rules(run(world, "2026-01-01")) == {}


def test_a_californian_photographed_and_processed_in_california_is_outside_bipa(world):
    with person(world, residence="US-CA") as opened:
        opened.record_processing("2025-03-01", photo_sha256=SHA, capture_region="US-CA",
                                 processing_region="US-CA")
    report = run(world, "2026-01-01")
    found = finding(report, "BIPA-15B-NO-RELEASE")
    assert found["severity"] == "info" and total(report) == (0, 0)
    assert report["summary"]["exposure"]["not_counted"] == {"outside the law's territory": 1}
    # residence alone does not decide it: the same Californian photographed in Illinois is covered
    with ledger(world) as opened:
        opened.record_processing("2025-04-01", photo_sha256=SHA, capture_region="US-IL",
                                 processing_region="US-CA")
    assert rules(run(world, "2026-01-01"))["BIPA-15B-NO-RELEASE"] == "violation"


def test_unknown_regions_are_review_never_silently_in_or_out(world):
    write_attestation(world, text=ATTESTATION.replace('processing_regions = ["US-IL"]',
                                                      'processing_regions = ["US-IL", "US-CA"]'))
    with person(world) as opened:
        opened.record_processing("2025-03-01", photo_sha256=SHA)  # no regions in the event
    report = run(world, "2026-01-01")
    assert rules(report)["BIPA-15B-NO-RELEASE"] == "review" and total(report) == (0, 0)
    assert report["summary"]["exposure"]["not_counted"] == {"territory unknown": 1}


def test_disclosure_to_a_vendor_needs_its_own_consent_per_recipient(world):
    write_attestation(world, text=ATTESTATION.replace("recipients = []", ""),
                      extra='[[tool.bipacheck.org.recipients]]\nname = "vision-co"\nconsideration = false\n')
    with person(world) as opened:
        opened.grant("u", "face_geometry", "2025-01-01", **COMPLETE)
        opened.record_processing("2025-03-01", photo_sha256=SHA, processing_region="US-IL",
                                 recipients="vision-co")
    report = run(world, "2026-01-01")
    assert rules(report) == {"BIPA-15D-DISCLOSURE": "violation"}
    assert report["summary"]["exposure"]["sections"]["15(d)"]["recipients"] == {"vision-co": {"low": 1, "high": 1}}
    assert total(report) == (1000, 5000)
    with ledger(world) as opened:
        opened.grant("u", "disclose:vision-co", "2025-01-01", **COMPLETE)
    assert rules(run(world, "2026-01-01")) == {}


def test_a_paid_recipient_is_15c_profit_and_consent_does_not_cure_it(world):
    write_attestation(world, text=ATTESTATION.replace("recipients = []", ""),
                      extra='[[tool.bipacheck.org.recipients]]\nname = "data-buyer"\nconsideration = true\n')
    with person(world) as opened:
        opened.grant("u", "face_geometry", "2025-01-01", **COMPLETE)
        opened.grant("u", "disclose:data-buyer", "2025-01-01", **COMPLETE)
        opened.record_processing("2025-03-01", photo_sha256=SHA, processing_region="US-IL",
                                 recipients="data-buyer")
    report = run(world, "2026-01-01")
    assert rules(report) == {"BIPA-15C-PROFIT": "violation"}
    assert report["summary"]["exposure"]["sections"]["15(c)"]["persons"] == {"low": 1, "high": 1}


def test_an_employee_under_a_cba_is_a_finding_without_court_exposure(world):
    with person(world, employment_cba="local-150") as opened:
        opened.record_processing("2025-03-01", photo_sha256=SHA, processing_region="US-IL")
    report = run(world, "2026-01-01")
    found = finding(report, "BIPA-15B-NO-RELEASE")
    assert found["severity"] == "violation"  # the duty stands
    assert "labour counsel" in found["details"]["exposure"]["processing"][0]["not_counted"]
    assert total(report) == (0, 0)


def test_a_passed_retention_deadline_is_its_own_15a_violation_with_exposure(world):
    with person(world, last_interaction_at="2022-01-01") as opened:
        opened.grant("u", "face_geometry", "2021-06-01", **{**COMPLETE, "term": "P10Y"})
        opened.record_processing("2021-07-01", photo_sha256=SHA, processing_region="US-IL")
    report = run(world, "2026-01-01")
    assert rules(report) == {"BIPA-15A-RETENTION": "violation"}
    assert report["summary"]["exposure"]["sections"]["15(a)"]["negligent"] == {"low": 1000, "high": 1000}


def test_a_name_typed_into_a_face_region_is_review_not_the_operators_scan(world):
    from PIL import Image

    from tests.test_metadata_support import mwg_face, mwg_regions, packet

    tag = mwg_face(cx=225 / 512, cy=117 / 512, w=90 / 512, h=115 / 512, name="Somebody")
    (world / "photos" / "a.jpg").write_bytes(
        encode(Image.fromarray(rgb("astronaut")), "JPEG", xmp=packet(mwg_regions([tag]))))
    report = run(world, "2026-01-01")
    assert rules(report)["BIPACHECK-FACE-TAGS"] == "review"


# -- LEGAL.md section 4: the known defects of the old model -----------------------------------------

def test_no_flag_at_the_retention_deadline_instant_only_after_it(world):
    with person(world, last_interaction_at="2023-01-01") as opened:
        opened.grant("u", "face_geometry", "2022-06-01", **{**COMPLETE, "term": "P10Y"})
    assert "BIPA-15A-RETENTION" not in rules(run(world, "2026-01-01T00:00:00Z"))  # the deadline itself
    assert "BIPA-15A-RETENTION" in rules(run(world, "2026-01-01T00:00:01Z"))


def test_unlinked_faces_get_a_review_that_no_deadline_can_be_computed(world):
    report = run(world, "2026-01-01")
    assert rules(report) == {"BIPA-15B-NO-RELEASE": "violation", "BIPA-15A-NO-DEADLINE": "review"}


def test_one_bystander_in_two_copies_is_a_range_of_persons(world):
    copy = encode(rgb("astronaut"), "JPEG", quality=80)  # same person, other bytes
    (world / "photos" / "copy.jpg").write_bytes(copy)
    report = run(world, "2026-01-01")
    assert report["summary"]["exposure"]["sections"]["15(b)"]["persons"] == {"low": 1, "high": 2}
    assert report["summary"]["exposure"]["total"]["negligent"] == {"low": 1000, "high": 2000}


def test_per_scan_counts_processing_events_before_the_amendment(world):
    with person(world) as opened:
        for day in ("2023-02-01", "2023-03-01", "2023-04-01"):
            opened.record_processing(day, photo_sha256=SHA, processing_region="US-IL")
    per_scan = run(world, "2026-01-01")["summary"]["exposure"]["sections"]["15(b)"]["per_scan"]
    assert (per_scan["scans"], per_scan["basis"]) == (3, "processing events")


def test_the_revoked_release_fix_no_longer_says_15a_requires_destruction():
    fix = RULES["BIPA-15B-REVOKED"].fix
    assert "does not itself require destruction" in fix and "(15(a))" not in fix


def test_a_past_as_of_uses_the_subject_facts_as_they_stood(world, monkeypatch):
    from bipacheck.ledger import events

    monkeypatch.setattr(events, "now_utc", lambda: datetime(2023, 6, 1, tzinfo=timezone.utc))
    with person(world, last_interaction_at="2021-01-01") as opened:  # recorded mid-2023
        opened.grant("u", "face_geometry", "2020-06-01", **{**COMPLETE, "term": "P10Y"})
    monkeypatch.setattr(events, "now_utc", lambda: datetime(2025, 1, 1, tzinfo=timezone.utc))
    with ledger(world) as opened:  # the person came back in late 2024
        opened.edit_subject("u", last_interaction_at="2024-12-01")
    # mid-2024 the ledger said: last seen 2021, deadline 2024-01-01, passed
    assert "BIPA-15A-RETENTION" in rules(run(world, "2024-06-01"))
    assert "BIPA-15A-RETENTION" not in rules(run(world, "2025-06-01"))


# -- the operator attestation -------------------------------------------------------------------------

def test_a_missing_attestation_is_review_never_silence(world):
    (world / ".bipacheck.toml").unlink()
    result = CliRunner().invoke(cli, ["audit", "photos", "--ledger", "ledger.db", "--as-of", "2026-01-01",
                                      "--format", "json"])
    report = json.loads(result.output)
    operator = {f["rule_id"]: f["severity"] for f in report["findings"] if f["photo"]["sha256"] is None}
    assert operator == {"BIPA-15A-POLICY": "review", "BIPA-15C-PROFIT": "review",
                        "BIPA-15D-DISCLOSURE": "review", "BIPA-15E-CARE": "review"}
    assert report["run"]["attestation"] == {"source": None, "sha256": None}
    # and without an attested processing region, BIPA's reach is unknown: review, no dollars
    assert rules(report)["BIPA-15B-NO-RELEASE"] == "review" and total(report) == (0, 0)


def test_a_policy_adopted_after_the_first_processing_is_a_15a_violation(world):
    write_attestation(world, text=ATTESTATION.replace("policy_adopted_at = 2020-01-01",
                                                      "policy_adopted_at = 2025-06-01"))
    with person(world) as opened:
        opened.grant("u", "face_geometry", "2025-01-01", **COMPLETE)
        opened.record_processing("2025-03-01", photo_sha256=SHA, processing_region="US-IL")
    report = run(world, "2026-01-01")
    assert rules(report) == {"BIPA-15A-POLICY": "violation"}
    assert report["run"]["attestation"]["statement"]["policy_adopted_at"] == "2025-06-01T00:00:00Z"


def test_an_attested_exemption_makes_findings_informational(world):
    write_attestation(world, text=ATTESTATION.replace('recipients = []',
                                                      'recipients = []\nexemptions = ["glba_financial_institution"]'))
    report = run(world, "2026-01-01")
    assert rules(report)["BIPA-15B-NO-RELEASE"] == "info" and total(report) == (0, 0)
    assert "Gramm-Leach-Bliley" in finding(report, "BIPA-15B-NO-RELEASE")["details"]["exposure"][
        "processing"][0]["not_counted"]


def test_rules_command_shows_citation_and_verification_mark():
    out = CliRunner().invoke(cli, ["rules"]).output
    assert "BIPA-15D-DISCLOSURE  (740 ILCS 14/15(d)) [V]" in out
    assert "BIPA-15A-POLICY  (740 ILCS 14/15(a)) [S]" in out


def test_baselined_findings_leave_the_exposure_and_are_listed_as_accepted(world):
    before = run(world, "2026-01-01")
    assert total(before) == (1000, 5000)
    result = CliRunner().invoke(cli, ["baseline", "create", "photos/a.jpg", "--ledger", "ledger.db",
                                      "--as-of", "2026-01-01", "--baseline", "accepted.json",
                                      "--justification", "release on paper, being scanned"])
    assert result.exit_code == 0, result.output
    after = run(world, "2026-01-01", "--baseline", "accepted.json", baseline="accepted.json")
    assert total(after) == (0, 0)
    accepted = after["summary"]["exposure"]["accepted"]
    assert accepted == [finding(before, "BIPA-15B-NO-RELEASE")["fingerprint"]]


def test_an_attested_fact_the_ledger_contradicts_is_a_violation(world):
    with person(world) as opened:
        opened.grant("u", "face_geometry", "2025-01-01", **COMPLETE)
        opened.grant("u", "disclose:shadow-vendor", "2025-01-01", **COMPLETE)
        opened.record_processing("2025-03-01", photo_sha256=SHA, processing_region="US-TX",
                                 capture_region="US-IL", recipients="shadow-vendor")
    report = run(world, "2026-01-01")  # the attestation says: processed in US-IL only, sent to nobody
    bipa = {r: s for r, s in rules(report).items() if not r.startswith("CUBI-")}  # processing in TX: CUBI too
    assert bipa == {"BIPACHECK-ATTESTATION-CONTRADICTED": "violation", "BIPA-15D-DISCLOSURE": "violation"}
    assert finding(report, "BIPA-15D-DISCLOSURE")["details"]["unlisted"] == ["shadow-vendor"]
    assert finding(report, "BIPACHECK-ATTESTATION-CONTRADICTED")["details"]["unlisted"] == ["US-TX"]
