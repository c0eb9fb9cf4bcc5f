"""Face tags already in files become findings, and count as faces where the detector missed them."""

from __future__ import annotations

import json

import jsonschema
import pytest
from click.testing import CliRunner
from PIL import Image

from bipacheck.cli import cli
from bipacheck.ledger import Ledger
from bipacheck.report.formats import report_schema
from tests.exits import expected_exit
from tests.images import rgb
from tests.test_metadata_support import encode, mwg_face, mwg_regions, packet

# the astronaut's face is at about [180, 60, 90, 115] in the 512 x 512 photo: centre (225, 117)
ASTRONAUT_TAG = dict(cx=225 / 512, cy=117 / 512, w=90 / 512, h=115 / 512)


def photo_with_tags(*faces: str, base: str = "astronaut") -> bytes:
    return encode(Image.fromarray(rgb(base)), "JPEG", xmp=packet(mwg_regions(list(faces))))


def audit(folder, *args) -> tuple[int, dict]:
    result = CliRunner().invoke(cli, ["audit", str(folder), "--format", "json", *map(str, args)])
    report = json.loads(result.output)
    assert result.exit_code == expected_exit(report), result.output
    jsonschema.validate(report, report_schema())
    return result.exit_code, report


pytestmark = pytest.mark.usefixtures("operator")  # tests/conftest.py: an attested Illinois operator


def tag_finding(report: dict) -> dict:
    (finding,) = [f for f in report["findings"] if f["rule_id"] == "BIPACHECK-FACE-TAGS"]
    return finding


@pytest.fixture
def folder(tmp_path):
    path = tmp_path / "photos"
    path.mkdir()
    return path


def test_named_tag_without_ledger_subject_is_review_and_names_stay_out(folder, centerface):
    (folder / "tagged.jpg").write_bytes(photo_with_tags(mwg_face(**ASTRONAUT_TAG, name="Eileen Collins")))
    code, report = audit(folder)
    finding = tag_finding(report)
    # a name typed into a face region by a person is not the operator's scan (Barnett v. Apple)
    assert finding["severity"] == "review" and "Barnett" in finding["details"]["provenance"]
    (region,) = finding["details"]["regions"]
    assert region["named"] and region["subject"] == "named, not in ledger" and region["tool"] == "mwg"
    x, y, w, h = region["box"]
    assert abs(x - 180) <= 2 and abs(y - 60) <= 2 and abs(w - 90) <= 2
    assert "Eileen" not in json.dumps(report)
    _, shown = audit(folder, "--show-names")
    assert tag_finding(shown)["details"]["regions"][0]["name"] == "Eileen Collins"
    # the tagged face is the detected face, not a second one
    assert report["summary"]["faces"] == 1


def test_named_tag_written_by_the_operators_own_pipeline_is_a_violation(folder, operator, centerface):
    from tests.conftest import write_attestation

    write_attestation(operator, 'tag_software = ["mwg"]\n')
    (folder / "tagged.jpg").write_bytes(photo_with_tags(mwg_face(**ASTRONAUT_TAG, name="Eileen Collins")))
    code, report = audit(folder)
    finding = tag_finding(report)
    assert finding["severity"] == "violation" and code == 1
    assert finding["details"]["provenance"].startswith("the operator's own pipeline")


def test_tag_map_links_a_named_tag_to_a_consented_subject(folder, tmp_path, centerface):
    (folder / "tagged.jpg").write_bytes(photo_with_tags(mwg_face(**ASTRONAUT_TAG, name="Eileen Collins")))
    ledger = Ledger.create(tmp_path / "l.db")
    ledger.add_subject("u-ec", jurisdictions="US-IL", last_interaction_at="2026-01-01")
    ledger.grant("u-ec", "face_geometry", "2025-01-01", method="written", purpose="tagging", term="P5Y",
                 notice_elements="collection;purpose;term", purposes="tagging")
    ledger.close()
    (tmp_path / "names.csv").write_text("name,subject_id\nEileen Collins,u-ec\n")
    code, report = audit(folder, "--ledger", tmp_path / "l.db", "--tag-map", tmp_path / "names.csv")
    assert [f["rule_id"] for f in report["findings"]] == ["BIPACHECK-FACE-TAGS"]
    finding = tag_finding(report)
    assert finding["severity"] == "info" and finding["details"]["regions"][0]["subject"] == "u-ec"
    assert finding["details"]["regions"][0]["consent_status"] == "valid"
    assert code == 0


def test_tag_region_counts_as_a_face_where_the_detector_found_none(folder, centerface):
    tag = mwg_face(cx=0.5, cy=0.5, w=0.1, h=0.15, name="Someone")
    (folder / "scene.jpg").write_bytes(photo_with_tags(tag, base="coffee"))
    _, report = audit(folder)
    rules = sorted(f["rule_id"] for f in report["findings"])
    assert rules == ["BIPA-15A-NO-DEADLINE", "BIPA-15B-NO-RELEASE", "BIPACHECK-FACE-TAGS"]
    no_release = next(f for f in report["findings"] if f["rule_id"] == "BIPA-15B-NO-RELEASE")
    assert no_release["faces"][0]["source"] == "metadata" and no_release["faces"][0]["score"] is None
    assert report["summary"]["faces"] == 1


def test_unnamed_detection_only_regions_are_informational(folder, centerface):
    (folder / "camera-roll.jpg").write_bytes(photo_with_tags(mwg_face(**ASTRONAUT_TAG)))
    _, report = audit(folder, "--processing", "face-detection-only")
    assert tag_finding(report)["severity"] == "info"
    (folder / "camera-roll.jpg").write_bytes(photo_with_tags(mwg_face(**ASTRONAUT_TAG, name="Eileen")))
    _, report = audit(folder, "--processing", "none")
    assert tag_finding(report)["severity"] == "review"  # someone recognised a person, even if we do not


def test_hostile_metadata_is_reported_and_the_pixels_still_scanned(folder, centerface):
    bomb = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
            b'<x:xmpmeta xmlns:x="adobe:ns:meta/">&lol2;</x:xmpmeta>')
    (folder / "evil.jpg").write_bytes(encode(Image.fromarray(rgb("astronaut")), "JPEG", xmp=bomb))
    _, report = audit(folder)
    assert [f["rule_id"] for f in report["findings"]] == ["BIPA-15B-NO-RELEASE", "BIPA-15A-NO-DEADLINE"]
    assert any(w.startswith("metadata:") for w in report["photos"][0]["warnings"])


def test_xmp_sidecar_is_read_with_its_photo_and_not_flagged_as_unscanned(folder, centerface):
    (folder / "IMG_1.jpg").write_bytes(encode(Image.fromarray(rgb("astronaut")), "JPEG"))
    (folder / "IMG_1.jpg.xmp").write_bytes(packet(mwg_regions([mwg_face(**ASTRONAUT_TAG, name="E")])))
    _, report = audit(folder)
    finding = tag_finding(report)
    assert finding["details"]["regions"][0]["where"] == "IMG_1.jpg.xmp"
    assert [s["reason"] for s in report["skipped"]] == ["sidecar-metadata"]
    assert not any(f["rule_id"] == "BIPACHECK-UNSCANNED" for f in report["findings"])


def test_one_person_tagged_in_two_schemas_is_one_tag(folder, centerface):
    from tests.test_metadata_support import ms_person, ms_regions

    ms = ms_person(180 / 512, 60 / 512, 90 / 512, 115 / 512, name="Eileen Collins")
    xmp = packet(mwg_regions([mwg_face(**ASTRONAUT_TAG, name="Eileen Collins")]), ms_regions([ms]))
    (folder / "digikam.jpg").write_bytes(encode(Image.fromarray(rgb("astronaut")), "JPEG", xmp=xmp))
    _, report = audit(folder)
    finding = tag_finding(report)
    (region,) = finding["details"]["regions"]
    assert region["tool"] == "microsoft+mwg" and finding["details"]["named_without_valid_release"] == 1
    assert report["summary"]["faces"] == 1
