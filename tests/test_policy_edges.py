"""Policy edges that a plausible one-token bug would get wrong: which rule a baseline accepts,
persons versus faces in the exposure, the retention deadline instant, which face a boxless link names."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from bipacheck.cli import cli
from bipacheck.detect.base import Face
from bipacheck.findings import FaceRecord, Finding
from bipacheck.ledger import Ledger
from bipacheck.pipelines import baseline
from bipacheck.policy.bipa import BIPA, RULES
from bipacheck.policy.evaluate import PolicyContext, evaluate_photo
from bipacheck.policy.exposure import estimate
from bipacheck.policy.pack import available, rule_book
from bipacheck.policy.profiles import profile
from bipacheck.policy.release import defects
from bipacheck.policy.timeline import IN, OUT, UNKNOWN, Processing, reach, territory
from bipacheck.report.model import Report
from bipacheck.scanning.scan import PhotoScan
from tests.images import encode, rgb

SHA = hashlib.sha256(b"a photo").hexdigest()
BOX = [100, 80, 120, 150]


def report_of(*rules: str) -> Report:
    findings = [Finding(RULES[rule], "violation", rule, "a.jpg", SHA, 10, [FaceRecord(BOX, 0.9, "detector")])
                for rule in rules]
    run = {"detector": {"detector": "centerface"}, "processing": {"profile": "face-templates"}}
    return Report(run, {}, findings, [], [{"path": "a.jpg", "sha256": SHA, "faces": 1}],
                  rules=rule_book(available()))


def test_a_baseline_accepts_a_rule_on_a_face_not_every_rule_on_it():
    accepted = baseline.create(report_of("BIPA-15B-NO-RELEASE"), "known uploader")
    later = report_of("BIPA-15B-NO-RELEASE", "BIPA-15A-RETENTION")  # same face, a second problem
    section = baseline.apply_baseline(later.findings, later.photos, later.run, accepted, partial=False)
    states = {f.rule_id: (f.baseline_state, f.suppressed) for f in later.findings}
    assert states == {"BIPA-15B-NO-RELEASE": ("unchanged", True), "BIPA-15A-RETENTION": ("new", False)}
    assert section["matched"] == 1 and section["stale"] == []


def test_exposure_counts_a_person_once_however_many_photos_show_them(tmp_path, operator):
    folder = tmp_path / "photos"
    folder.mkdir()
    for quality in (90, 80, 70):  # three different files of the same person
        (folder / f"u1-{quality}.jpg").write_bytes(encode(rgb("astronaut"), "JPEG", quality=quality))
    with Ledger.create(tmp_path / "l.db") as ledger:
        ledger.add_subject("u-1", jurisdictions="US-IL", last_interaction_at="2026-01-01")
        for quality in (90, 80, 70):
            ledger.link("u-1", photo_path=f"u1-{quality}.jpg")  # no consent: three unconsented scans
    result = CliRunner().invoke(cli, ["audit", str(folder), "--ledger", str(tmp_path / "l.db"), "--format",
                                      "json", "--no-cache", "--as-of", "2026-06-01"])
    section = json.loads(result.output)["summary"]["exposure"]["sections"]["15(b)"]
    assert section["persons"] == section["violations"] == {"low": 1, "high": 1}
    assert section["negligent"] == {"low": 1_000, "high": 1_000}
    assert section["per_scan"]["scans"] == 0  # three photos after P.A. 103-0769: no per-scan figure


def scan_with(*faces: Face) -> PhotoScan:
    return PhotoScan("a.jpg", "a.jpg", SHA, 10, "JPEG", 1000, 800, list(faces))


def consented_subject(path) -> Ledger:
    ledger = Ledger.create(path)
    ledger.add_subject("u-1", jurisdictions="US-IL", last_interaction_at="2022-05-01T00:00:00+00:00")
    ledger.grant("u-1", "face_geometry", "2021-01-01", consent_id="C-1", method="written")
    ledger.link("u-1", photo_sha256=SHA)  # no box
    return ledger


def test_retention_fires_after_the_deadline_not_at_its_instant(tmp_path):
    with consented_subject(tmp_path / "l.db") as ledger:
        deadline = BIPA.retention_deadline(ledger.subject("u-1"))
        assert deadline == datetime(2025, 5, 1, tzinfo=timezone.utc)

        def retention_findings(as_of):
            outcome = evaluate_photo(scan_with(Face(100, 80, 120, 150, 0.9)),
                                     PolicyContext(profile("face-templates"), as_of, 0.5, ledger))
            return [f for f in outcome.findings if f.rule_id == "BIPA-15A-RETENTION"]

        assert retention_findings(deadline - timedelta(seconds=1)) == []
        assert retention_findings(deadline) == []  # "within 3 years": the last instant is still within
        assert len(retention_findings(deadline + timedelta(seconds=1))) == 1


def test_a_boxless_link_names_the_largest_face(tmp_path):
    with consented_subject(tmp_path / "l.db") as ledger:
        big, small = Face(100, 80, 300, 360, 0.9), Face(700, 500, 40, 50, 0.9)
        outcome = evaluate_photo(scan_with(small, big), PolicyContext(
            profile("face-templates"), datetime(2024, 1, 1, tzinfo=timezone.utc), 0.5, ledger))
        named = {tuple(r.box): r.subject_id for r in outcome.faces}
        assert named == {tuple(big.box): "u-1", tuple(small.box): None}
        (no_release,) = [f for f in outcome.findings if f.rule_id == "BIPA-15B-NO-RELEASE"]
        assert no_release.faces[0].box == small.box


# -- reach: a place nobody stated is never "outside the law" -------------------------------------------

def _attested(*regions: str):
    from bipacheck.policy.attestation import parse

    return parse({"processing_regions": list(regions)}, "test")


@pytest.mark.parametrize("capture, processed, attested, expected", [
    (None, None, None, UNKNOWN),  # nothing known
    ("US-CA", None, None, UNKNOWN),  # captured elsewhere, processed nobody knows where
    (None, "US-NY", None, UNKNOWN),  # processed elsewhere, captured nobody knows where
    ("US-CA", None, ("US-NY", "US-IL"), UNKNOWN),  # one of the attested places is Illinois
    ("US-CA", "US-NY", None, OUT),  # both places known, neither in Illinois
    ("US-CA", None, ("US-NY", "US-TX"), OUT),  # every attested processing place is outside
    ("US-CA", None, ("US-NY",), OUT),  # the single attested place stands in
    ("US-IL", None, None, IN),  # captured in Illinois
    (None, "US-IL", None, IN),
    (None, None, ("US-IL",), IN),
])
def test_bipa_reach_is_unknown_unless_every_place_is_known(capture, processed, attested, expected):
    when = Processing(datetime(2025, 1, 1, tzinfo=timezone.utc), "processing-event", capture, processed)
    where, why = territory(when, BIPA, _attested(*attested) if attested is not None else None)
    assert where == expected, why


@pytest.mark.parametrize("residence, capture, facts, expected", [
    (None, None, {"establishments": []}, UNKNOWN),  # targeting nobody stated
    (None, "US-IL", {"establishments": [], "offers_to_people_in_eea": True}, OUT),  # offered, but not in the EEA
    (["DE"], None, {"establishments": [], "offers_to_people_in_eea": True}, IN),  # where they live stands in
    (["US-IL"], "NO", {"establishments": [], "monitors_people_in_eea": True}, IN),  # in Norway: the EEA
    (["DE-BY"], "DE-BY", {"establishments": [], "offers_to_people_in_eea": False,
                          "monitors_people_in_eea": False}, OUT),  # residence alone does not bring it in
    (None, None, {"establishments": ["DE-BY"]}, IN),  # a subdivision of a member state: established there
])
def test_a_pack_reaches_unknown_when_a_trigger_fact_is_unknown(residence, capture, facts, expected):
    pack = available()["eu-gdpr"]
    when = Processing(datetime(2025, 1, 1, tzinfo=timezone.utc), "processing-event", capture, "US-IL")
    where, why = reach(pack, when, residence, facts, None)
    assert where == expected, why


# -- a minor's release: the 18th birthday is the boundary ------------------------------------------------

@pytest.mark.parametrize("signed, minor_defect", [("2024-05-31", True), ("2024-06-01", False)])
def test_a_release_signed_by_the_subject_is_defective_only_before_their_majority(tmp_path, signed, minor_defect):
    with Ledger.create(tmp_path / "l.db") as ledger:
        ledger.add_subject("kid", birth_date="2006-06-01")
        ledger.grant("kid", "face_geometry", signed, consent_id="C", purpose="tagging", term="P1Y",
                     notice_version="v1", notice_elements="collection;purpose;term", signer_role="subject")
        lacks, certain = defects(ledger.consent("C"), ledger.subject("kid"), BIPA.minor_age)
    assert any("not by a parent or guardian" in d for d in lacks) == minor_defect
    assert certain == minor_defect


# -- exposure: the limitation instant and what one scan is -----------------------------------------------

def _scan_finding(at: str, person: str, *, source: str = "processing-event", sha: str = SHA) -> Finding:
    exposure = {"section": "15(b)", "person": person, "linked": False,
                "processing": [{"at": at, "source": source, "counted": True}]}
    return Finding(RULES["BIPA-15B-NO-RELEASE"], "violation", "m", "a.jpg", sha, 10,
                   [FaceRecord(BOX, 0.9, "detector")], {"exposure": exposure})


def test_processing_exactly_five_years_before_the_audit_still_counts():
    as_of = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)
    on_the_instant = estimate([_scan_finding("2021-06-01T12:00:00Z", "p")], as_of)
    a_second_earlier = estimate([_scan_finding("2021-06-01T11:59:59Z", "p")], as_of)
    assert on_the_instant["time_barred"]["processing"] == [] and on_the_instant["total"]["violations"]["high"] == 1
    assert len(a_second_earlier["time_barred"]["processing"]) == 1
    assert a_second_earlier["total"]["violations"]["high"] == 0


def test_a_scan_is_one_person_in_one_photo_at_one_processing_time():
    """Per scan (Cothron) counts only processing before P.A. 103-0769 (2024-08-02)."""
    as_of = datetime(2026, 6, 1, tzinfo=timezone.utc)
    events = [_scan_finding(at, person) for at in ("2023-01-01T00:00:00Z", "2023-02-01T00:00:00Z")
              for person in ("face:1", "face:2")]
    again = _scan_finding("2023-01-01T00:00:00Z", "face:1")  # the same scan named by a second finding
    assert estimate(events + [again], as_of)["sections"]["15(b)"]["per_scan"]["scans"] == 4
    # without processing events, a photo's upload and audit times stand in for one occurrence
    occurrences = [_scan_finding(at, person, source=src) for at, src in
                   (("2023-01-01T00:00:00Z", "upload-time"), ("2026-06-01T00:00:00Z", "audit-date"))
                   for person in ("face:1", "face:2")]
    assert estimate(occurrences, as_of)["sections"]["15(b)"]["per_scan"]["scans"] == 2
    other_photo = _scan_finding("2023-01-01T00:00:00Z", "face:1", sha="b" * 64)
    assert estimate(events + [other_photo], as_of)["sections"]["15(b)"]["per_scan"]["scans"] == 5
