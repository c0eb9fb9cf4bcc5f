"""Policy edges that a plausible one-token bug would get wrong: which rule a baseline accepts,
persons versus faces in the exposure, the retention deadline instant, which face a boxless link names."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone

from click.testing import CliRunner

from bipacheck.cli import cli
from bipacheck.detect.base import Face
from bipacheck.findings import FaceRecord, Finding
from bipacheck.ledger import Ledger
from bipacheck.pipelines import baseline
from bipacheck.policy.bipa import BIPA, RULES
from bipacheck.policy.evaluate import PolicyContext, evaluate_photo
from bipacheck.policy.pack import available, rule_book
from bipacheck.policy.profiles import profile
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
    assert section["persons"] == {"low": 1, "high": 1} and section["per_scan"]["scans"] == 3
    assert section["negligent"] == {"low": 1_000, "high": 1_000}
    assert section["per_scan"]["negligent"] == {"low": 3_000, "high": 3_000}


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
