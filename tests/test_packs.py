"""Jurisdiction packs: worked cases per pack through the command line (checked against the Python
API), with a real ledger file, a real photo and a real config file; and a tenth pack added from a
folder outside the package."""

from __future__ import annotations

import hashlib
import json
import tomllib
from datetime import datetime, timezone
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

import bipacheck
from bipacheck.cli import cli
from bipacheck.errors import ConfigError
from bipacheck.ledger import Ledger
from bipacheck.policy.pack import available, load
from bipacheck.report.formats import report_schema
from tests.exits import expected_exit
from tests.conftest import ATTESTATION, write_attestation
from tests.images import encode, rgb

PHOTO = encode(rgb("astronaut"), "JPEG", quality=92)  # one face
SHA = hashlib.sha256(PHOTO).hexdigest()
COMPLETE = dict(purpose="photo tagging", purposes="tagging", term="P3Y", notice_elements="collection;purpose;term",
                signer_role="subject", method="electronic")


@pytest.fixture
def world(tmp_path, monkeypatch, centerface):
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "a.jpg").write_bytes(PHOTO)
    Ledger.create(tmp_path / "ledger.db").close()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def config(world: Path, regions: str = '"US-IL"', packs: str = "") -> None:
    """The operator's attestation (processed in `regions`) and its [tool.bipacheck.packs] facts."""
    write_attestation(world, packs, ATTESTATION.replace('processing_regions = ["US-IL"]',
                                                        f"processing_regions = [{regions}]"))


def person(world: Path, residence: str, subject: str = "u", **facts) -> Ledger:
    opened = Ledger.open(world / "ledger.db")
    opened.add_subject(subject, **{"residence": residence, "last_interaction_at": "2026-01-01", **facts})
    opened.link(subject, photo_sha256=SHA)
    return opened


def run(world: Path, as_of: str, *args) -> dict:
    """The CLI's JSON report (reading the config file), checked against the API given the same
    attestation and pack facts as keywords."""
    result = CliRunner().invoke(cli, ["audit", "photos", "--ledger", "ledger.db", "--as-of", as_of,
                                      "--format", "json", *args])
    report = json.loads(result.output)
    assert result.exit_code == expected_exit(report), result.output
    jsonschema.validate(report, report_schema())
    table = tomllib.loads((world / ".bipacheck.toml").read_text())["tool"]["bipacheck"]
    jurisdiction = [a for flag, a in zip(args, args[1:]) if flag == "--jurisdiction"]
    api = bipacheck.audit("photos", ledger="ledger.db", org=table["org"], packs=table.get("packs"),
                          jurisdiction=jurisdiction, config=False,
                          as_of=datetime.fromisoformat(as_of).replace(tzinfo=timezone.utc))
    assert sorted((f.rule_id, f.severity) for f in api.findings) == sorted(
        (f["rule_id"], f["severity"]) for f in report["findings"])
    assert api.summary["exposure_by_pack"] == report["summary"]["exposure_by_pack"]
    assert api.exit_code == result.exit_code
    return report


def rules(report: dict, pack: str | None = None) -> dict[str, str]:
    return {f["rule_id"]: f["severity"] for f in report["findings"] if pack is None or f.get("pack") == pack}


def by_pack(report: dict) -> dict:
    return report["summary"]["exposure_by_pack"]["packs"]


# -- Texas CUBI ---------------------------------------------------------------------------------------

TX_FACTS = "[tool.bipacheck.packs.texas-cubi]\ncommercial_purpose = true\nsells_or_discloses = false\n"


def test_a_texan_photographed_in_illinois_gets_bipa_and_cubi_findings_and_two_separate_figures(world):
    config(world, packs=TX_FACTS)
    with person(world, "US-TX") as opened:
        opened.record_processing("2025-03-01", photo_sha256=SHA, capture_region="US-IL", processing_region="US-IL")
    report = run(world, "2026-01-01")
    assert rules(report, "bipa")["BIPA-15B-NO-RELEASE"] == "violation"
    found = [f for f in report["findings"] if f["rule_id"] == "CUBI-503B-NO-CONSENT"]
    assert len(found) == 1 and found[0]["severity"] == "violation" and found[0]["pack"] == "texas-cubi"
    assert found[0]["details"]["exposure"]["processing"][0]["where"].startswith("residence US-TX")
    texas, bipa = by_pack(report)["texas-cubi"], by_pack(report)["bipa"]
    assert (texas["enforcement"], texas["amount"], texas["currency"]) == ("regulator", {"low": 25000, "high": 25000},
                                                                          "USD")
    assert "maximum civil penalty" in texas["basis"]
    assert bipa["amount"] == {"low": 1000, "high": 5000}
    assert "never added" in report["summary"]["exposure_by_pack"]["note"]
    assert "total" not in report["summary"]["exposure_by_pack"]


def test_markdown_and_html_show_each_packs_figure_on_its_own(world):
    config(world, packs=TX_FACTS)
    with person(world, "US-TX") as opened:
        opened.record_processing("2025-03-01", photo_sha256=SHA, capture_region="US-IL", processing_region="US-IL")
    outputs = {}
    for fmt in ("markdown", "html"):
        result = CliRunner().invoke(cli, ["audit", "photos", "--ledger", "ledger.db", "--as-of", "2026-01-01",
                                          "--format", fmt, "--html-thumbnails", "none"])
        outputs[fmt] = result.output
    assert "| texas-cubi (" in outputs["markdown"] and "never added across packs" in outputs["markdown"]
    assert "$25,000" in outputs["markdown"] and "maximum civil penalty" in outputs["markdown"]
    assert 'id="exposure-by-pack"' in outputs["html"] and "texas-cubi (" in outputs["html"]


def test_cubi_does_not_apply_to_an_illinoisan_photographed_and_processed_in_illinois(world):
    config(world)
    with person(world, "US-IL") as opened:
        opened.record_processing("2025-03-01", photo_sha256=SHA, capture_region="US-IL", processing_region="US-IL")
    report = run(world, "2026-01-01")
    assert rules(report, "texas-cubi") == {} and "texas-cubi" not in by_pack(report)
    assert report["summary"]["packs"]["texas-cubi"]["status"] == "not evaluated: no processing in its territory"
    assert report["summary"]["packs"]["bipa"]["status"] == "evaluated"


def test_cubi_destroy_within_a_year_after_the_purpose_expired(world):
    config(world, packs=TX_FACTS)
    with person(world, "US-TX", purpose_satisfied_at="2024-06-01") as opened:
        opened.grant("u", "face_geometry", "2024-01-01", **COMPLETE)
        opened.record_processing("2024-03-01", photo_sha256=SHA, capture_region="US-TX", processing_region="US-IL")
    assert "CUBI-503C-RETENTION" not in rules(run(world, "2025-05-31"))  # within the year
    late = run(world, "2025-06-02")
    assert rules(late, "texas-cubi") == {"CUBI-503C-RETENTION": "violation"}
    (found,) = [f for f in late["findings"] if f["rule_id"] == "CUBI-503C-RETENTION"]
    assert found["details"]["retention_deadline"] == "2025-06-01T00:00:00Z"


def test_cubi_b1_a_public_image_is_not_consent_from_2026(world):
    config(world, packs=TX_FACTS + "public_images_as_consent = true\n")
    with person(world, "US-TX") as opened:
        opened.record_processing("2025-06-01", photo_sha256=SHA, capture_region="US-TX", processing_region="US-IL")
    assert "CUBI-503B1-PUBLIC-IMAGE" not in rules(run(world, "2025-12-31"))  # before (b-1)
    with Ledger.open(world / "ledger.db") as opened:
        opened.record_processing("2026-02-01", photo_sha256=SHA, capture_region="US-TX", processing_region="US-IL")
    report = run(world, "2026-03-01")
    assert rules(report, "texas-cubi") == {"CUBI-503B-NO-CONSENT": "violation", "CUBI-503B1-PUBLIC-IMAGE": "violation"}
    (b1,) = [f for f in report["findings"] if f["rule_id"] == "CUBI-503B1-PUBLIC-IMAGE"]
    assert [p["at"] for p in b1["details"]["exposure"]["processing"]] == ["2026-02-01T00:00:00Z"]
    with Ledger.open(world / "ledger.db") as opened:  # the person published the photo themselves
        opened.grant("u", "self_published", "2025-01-01", method="electronic")
    # (b-1)'s bar is gone, but publishing the photo is not consent: review (tests/test_legal_model_v3.py)
    assert rules(run(world, "2026-03-01"), "texas-cubi") == {"CUBI-503B-NO-CONSENT": "review"}


def test_a_texas_fact_cannot_be_misspelled(world):
    config(world, packs="[tool.bipacheck.packs.texas-cubi]\npublic_image_as_consent = true\n")
    result = CliRunner().invoke(cli, ["audit", "photos", "--ledger", "ledger.db", "--format", "json"])
    assert result.exit_code == 2 and "public_image_as_consent" in result.output


# -- California CCPA/CPRA -----------------------------------------------------------------------------

CA_FACTS = "[tool.bipacheck.packs.california-ccpa]\nmeets_thresholds = true\n"


def test_a_californian_processed_in_california_gets_cpra_duties_and_no_bipa_dollars(world):
    config(world, '"US-CA"', CA_FACTS + "notice_at_collection = false\n")
    with person(world, "US-CA") as opened:
        opened.record_processing("2025-03-01", photo_sha256=SHA, capture_region="US-CA", processing_region="US-CA")
    report = run(world, "2026-01-01")
    assert rules(report, "california-ccpa") == {"CCPA-SPI-COLLECTED": "info", "CCPA-NOTICE-AT-COLLECTION": "violation",
                                                "CCPA-RIGHT-TO-LIMIT": "review"}
    assert rules(report, "bipa")["BIPA-15B-NO-RELEASE"] == "info"
    assert by_pack(report)["bipa"]["amount"] == {"low": 0, "high": 0}
    ccpa = by_pack(report)["california-ccpa"]
    assert ccpa["violations"] == {"low": 1, "high": 1} and ccpa["amount"] == {"low": 2500, "high": 7500}


def test_cpra_needs_notice_not_consent(world):
    """No release at all, yet nothing to fix once the notice and the right to limit are in place."""
    config(world, '"US-CA"', CA_FACTS + "notice_at_collection = true\nhonors_right_to_limit = true\n")
    with person(world, "US-CA") as opened:
        opened.record_processing("2025-03-01", photo_sha256=SHA, capture_region="US-CA", processing_region="US-CA")
    report = run(world, "2026-01-01")
    assert rules(report, "california-ccpa") == {"CCPA-SPI-COLLECTED": "info"}
    assert by_pack(report)["california-ccpa"]["amount"] == {"low": 0, "high": 0}


def test_ccpa_does_not_apply_under_the_thresholds_or_to_non_residents(world):
    config(world, '"US-CA"', "[tool.bipacheck.packs.california-ccpa]\nmeets_thresholds = false\n")
    with person(world, "US-CA") as opened:
        opened.record_processing("2025-03-01", photo_sha256=SHA, capture_region="US-CA", processing_region="US-CA")
    report = run(world, "2026-01-01")
    assert rules(report, "california-ccpa") == {}
    assert report["summary"]["packs"]["california-ccpa"]["status"].endswith("meets_thresholds = false")
    config(world, '"US-CA"', CA_FACTS)
    with person(world, "US-NV", subject="v") as opened:  # a Nevadan in the same photo, processed in CA
        opened.record_processing("2025-03-02", photo_sha256=SHA, capture_region="US-CA", processing_region="US-CA")
    faces = {f["faces"][0]["subject_id"] for f in run(world, "2026-01-01")["findings"]
             if f["rule_id"] == "CCPA-SPI-COLLECTED"}
    assert faces <= {"u"}  # the pack's trigger is residence: v is out


# -- EU GDPR ------------------------------------------------------------------------------------------

EU = '"DE-BY"'
EU_FACTS = '[tool.bipacheck.packs]\nestablishments = ["DE"]\n[tool.bipacheck.packs.eu-gdpr]\ndpia_done = true\n'
EXPLICIT = {**COMPLETE, "explicit": True}


def test_gdpr_processing_without_explicit_consent_is_unquantified(world):
    config(world, EU, EU_FACTS)
    with person(world, "DE") as opened:
        opened.record_processing("2025-03-01", photo_sha256=SHA, capture_region="DE-BY", processing_region="DE-BY")
    report = run(world, "2026-01-01")
    assert rules(report, "eu-gdpr") == {"GDPR-9-NO-EXPLICIT-CONSENT": "violation"}
    gdpr = by_pack(report)["eu-gdpr"]
    assert gdpr["amount"] is None and gdpr["basis"].startswith("unquantified: up to EUR 20 million")
    assert rules(report, "bipa")["BIPA-15B-NO-RELEASE"] == "info"  # outside Illinois


def test_gdpr_processing_after_withdrawal(world):
    config(world, EU, EU_FACTS)
    with person(world, "FR") as opened:
        opened.grant("u", "face_geometry", "2025-01-01", consent_id="c1", **EXPLICIT)
        opened.record_processing("2025-03-01", photo_sha256=SHA, capture_region="FR", processing_region="DE-BY")
        opened.revoke("c1", "2025-06-01")
        opened.record_processing("2025-07-01", photo_sha256=SHA, capture_region="FR", processing_region="DE-BY")
    report = run(world, "2026-01-01")
    assert rules(report, "eu-gdpr") == {"GDPR-7-WITHDRAWN": "violation"}
    (found,) = [f for f in report["findings"] if f["rule_id"] == "GDPR-7-WITHDRAWN"]
    assert [p["at"] for p in found["details"]["exposure"]["processing"]] == ["2025-07-01T00:00:00Z"]


def test_gdpr_a_child_needs_a_parent(world):
    config(world, EU, EU_FACTS)
    with person(world, "DE", birth_date="2012-05-01") as opened:
        opened.grant("u", "face_geometry", "2025-01-01", consent_id="own", **EXPLICIT)
        opened.record_processing("2025-03-01", photo_sha256=SHA, capture_region="DE", processing_region="DE-BY")
    assert rules(run(world, "2026-01-01"), "eu-gdpr") == {"GDPR-8-CHILD": "violation"}
    with Ledger.open(world / "ledger.db") as opened:
        opened.grant("u", "face_geometry", "2025-01-01", consent_id="parent", **{**EXPLICIT, "signer_role": "parent"})
    assert rules(run(world, "2026-01-01"), "eu-gdpr") == {}


def test_gdpr_does_not_apply_outside_the_eu_when_every_fact_is_known(world):
    config(world, packs='[tool.bipacheck.packs]\nestablishments = ["US-IL"]\n[tool.bipacheck.packs.eu-gdpr]\n'
                        'offers_to_people_in_eea = false\nmonitors_people_in_eea = false\n')
    with person(world, "US-IL") as opened:
        opened.record_processing("2025-03-01", photo_sha256=SHA, capture_region="US-IL", processing_region="US-IL")
    report = run(world, "2026-01-01")
    assert report["summary"]["packs"]["eu-gdpr"] == {"citation": "Regulation (EU) 2016/679, Arts. 7-9",
                                                    "status": "not evaluated: no processing in its territory",
                                                    "reach": ["out"]}


# -- Portland 34.10 -----------------------------------------------------------------------------------

PDX = "[tool.bipacheck.packs.portland-34-10]\n"


def portland(world: Path, facts: str, capture: str = "US-OR") -> dict:
    config(world, '"US-OR"', PDX + facts)
    with person(world, "US-OR") as opened:
        opened.grant("u", "face_geometry", "2025-01-01", **COMPLETE)
        opened.record_processing("2025-03-01", photo_sha256=SHA, capture_region=capture, processing_region="US-OR")
    return run(world, "2026-01-01")


def test_portland_ban_in_a_public_accommodation_is_not_cured_by_consent(world):
    report = portland(world, "public_accommodation = true\n")
    assert rules(report, "portland-34-10") == {"PDX-3410-BAN": "violation"}
    assert rules(report, "bipa") == {}  # the same release satisfies BIPA
    assert by_pack(report)["portland-34-10"]["amount"] is None  # $1,000 per day: days unknown


def test_portland_exceptions_and_places_outside_public_accommodation(world):
    assert rules(portland(world, "public_accommodation = true\nexception = true\n"), "portland-34-10") == {}
    config(world, '"US-OR"', PDX + "public_accommodation = false\n")
    assert rules(run(world, "2026-01-01"), "portland-34-10") == {}


def test_portland_not_attested_is_review_and_outside_oregon_it_does_not_apply(world):
    assert rules(portland(world, ""), "portland-34-10") == {"PDX-3410-BAN": "review"}
    (world / "ledger.db").unlink()
    Ledger.create(world / "ledger.db").close()
    report = portland(world, "public_accommodation = true\n", capture="US-WA")
    assert rules(report, "portland-34-10") == {} and "portland-34-10" not in by_pack(report)


# -- New York City 22-1201 ------------------------------------------------------------------------------

NYC = "[tool.bipacheck.packs.nyc-22-1201]\nnyc_commercial_establishment = true\nsells_or_shares = false\n"


def nyc(world: Path, facts: str) -> dict:
    config(world, '"US-NY"', facts)
    with person(world, "US-NJ") as opened:
        opened.grant("u", "face_geometry", "2025-01-01", **COMPLETE)
        opened.record_processing("2025-03-01", photo_sha256=SHA, capture_region="US-NY", processing_region="US-NY")
    return run(world, "2026-01-01")


def test_nyc_an_establishment_without_signage_violates_22_1202a(world):
    report = nyc(world, NYC)
    assert rules(report, "nyc-22-1201") == {"NYC-1202A-SIGNAGE": "review"}  # not attested
    config(world, '"US-NY"', NYC + "signage = false\n")
    report = run(world, "2026-01-01")
    assert rules(report, "nyc-22-1201") == {"NYC-1202A-SIGNAGE": "violation"}
    assert by_pack(report)["nyc-22-1201"]["amount"] == {"low": 500, "high": 500}  # 22-1203: $500 per signage violation


def test_nyc_signage_posted_is_compliant_even_without_consent_rules(world):
    assert rules(nyc(world, NYC + "signage = true\n"), "nyc-22-1201") == {}


def test_nyc_does_not_apply_to_a_business_that_is_not_an_nyc_establishment(world):
    report = nyc(world, "[tool.bipacheck.packs.nyc-22-1201]\nnyc_commercial_establishment = false\n")
    assert rules(report, "nyc-22-1201") == {}
    assert report["summary"]["packs"]["nyc-22-1201"]["status"].endswith("nyc_commercial_establishment = false")


# -- EU AI Act 5(1)(e) ------------------------------------------------------------------------------

def scraped(world: Path, facts: str, at: str = "2025-03-01") -> dict:
    config(world, '"NL"', EU_FACTS + "[tool.bipacheck.packs.eu-ai-act-5-1-e]\n" + facts)
    with person(world, "NL") as opened:
        opened.grant("u", "face_geometry", "2024-01-01", **EXPLICIT)
        opened.record_processing(at, photo_sha256=SHA, capture_region="NL", processing_region="NL")
    return run(world, "2026-01-01")


def test_ai_act_untargeted_scraping_is_banned_whatever_the_consent(world):
    report = scraped(world, "untargeted_scraping = true\n")
    assert rules(report, "eu-ai-act-5-1-e") == {"AIACT-5-1-E-SCRAPING": "violation"}
    assert rules(report, "eu-gdpr") == {}  # explicit consent on record satisfies Art. 9
    assert by_pack(report)["eu-ai-act-5-1-e"]["basis"].startswith("unquantified: up to EUR 35 million")


def test_ai_act_does_not_reach_targeted_collection(world):
    assert rules(scraped(world, "untargeted_scraping = false\n"), "eu-ai-act-5-1-e") == {}


def test_ai_act_ban_starts_on_2025_02_02(world):
    assert rules(scraped(world, "untargeted_scraping = true\n", at="2025-01-15"), "eu-ai-act-5-1-e") == {}


# -- Colorado 6-1-1314 -------------------------------------------------------------------------------

CO = "[tool.bipacheck.packs.colorado-6-1-1314]\npublic_policy = true\n"


def test_colorado_needs_affirmative_consent(world):
    config(world, '"US-CO"', CO)
    with person(world, "US-CO") as opened:
        opened.record_processing("2025-08-01", photo_sha256=SHA, capture_region="US-CO", processing_region="US-CO")
    report = run(world, "2026-01-01")
    assert rules(report, "colorado-6-1-1314") == {"CO-1314-NO-CONSENT": "violation"}
    assert by_pack(report)["colorado-6-1-1314"]["amount"] == {"low": 20000, "high": 20000}


def test_colorado_does_not_apply_to_a_texan_in_texas(world):
    config(world, '"US-TX"', CO)
    with person(world, "US-TX") as opened:
        opened.record_processing("2025-08-01", photo_sha256=SHA, capture_region="US-TX", processing_region="US-TX")
    assert rules(run(world, "2026-01-01"), "colorado-6-1-1314") == {}


def test_colorado_deletes_24_months_after_the_last_interaction(world):
    config(world, '"US-CO"', CO + "months_after_last_interaction = 18\n")  # an [M] value overridden
    with person(world, "US-CO", last_interaction_at="2025-08-01") as opened:
        opened.grant("u", "face_geometry", "2025-07-01", **COMPLETE)
        opened.record_processing("2025-07-15", photo_sha256=SHA, capture_region="US-CO", processing_region="US-CO")
    assert rules(run(world, "2027-01-31"), "colorado-6-1-1314") == {}  # 18 months end 2027-02-01
    found = rules(run(world, "2027-02-02"), "colorado-6-1-1314")
    assert found == {"CO-1314-RETENTION": "violation"}


# -- Washington RCW 19.375 and My Health My Data -----------------------------------------------------

WA = "[tool.bipacheck.packs.washington-mhmda]\nhealth_privacy_policy = true\n"


def test_washington_19_375_excludes_photos_but_mhmda_needs_consent(world):
    config(world, '"US-WA"', WA)
    with person(world, "US-WA") as opened:
        opened.record_processing("2025-08-01", photo_sha256=SHA, capture_region="US-WA", processing_region="US-WA")
    report = run(world, "2026-01-01")
    assert rules(report, "washington-19-375") == {"WA-19375-PHOTO-EXCLUSION": "info"}
    assert by_pack(report)["washington-19-375"]["violations"] == {"low": 0, "high": 0}
    assert rules(report, "washington-mhmda") == {"MHMDA-NO-CONSENT": "violation"}


def test_mhmda_reaches_anyone_whose_data_is_collected_in_washington_but_not_elsewhere(world):
    config(world, '"US-OR"', WA)
    with person(world, "US-OR") as opened:  # an Oregonian captured in Washington
        opened.record_processing("2025-08-01", photo_sha256=SHA, capture_region="US-WA", processing_region="US-OR")
    assert rules(run(world, "2026-01-01"), "washington-mhmda") == {"MHMDA-NO-CONSENT": "violation"}
    with Ledger.open(world / "ledger.db") as opened:  # processed in Washington, captured in Oregon
        opened.record_processing("2025-09-01", photo_sha256=SHA, capture_region="US-OR", processing_region="US-WA")
    (found,) = [f for f in run(world, "2026-01-01")["findings"] if f["rule_id"] == "MHMDA-NO-CONSENT"]
    assert [p["at"] for p in found["details"]["exposure"]["processing"]] == ["2025-08-01T00:00:00Z"]


def test_mhmda_sharing_needs_its_own_consent(world):
    write_attestation(world, WA, ATTESTATION.replace('processing_regions = ["US-IL"]', 'processing_regions = ["US-WA"]')
                      .replace("recipients = []", 'recipients = ["lab"]'))
    with person(world, "US-WA") as opened:
        opened.grant("u", "face_geometry", "2025-01-01", **COMPLETE)
        opened.grant("u", "disclose:lab", "2025-01-01", **COMPLETE)  # BIPA's disclosure consent
        opened.record_processing("2025-08-01", photo_sha256=SHA, capture_region="US-WA", processing_region="US-WA",
                                 recipients="lab")
    report = run(world, "2026-01-01")
    assert rules(report, "washington-mhmda") == {"MHMDA-SHARING": "violation"}
    with Ledger.open(world / "ledger.db") as opened:
        opened.grant("u", "share:lab", "2025-01-01", method="electronic")
    assert rules(run(world, "2026-01-01"), "washington-mhmda") == {}


# -- selection, unknown regions, the catalogue --------------------------------------------------------

def test_selected_pack_with_unknown_regions_is_review_and_bipa_can_be_left_out(world):
    write_attestation(world, text=ATTESTATION.replace('processing_regions = ["US-IL"]\n', ""))
    with person(world, "US-IL") as opened:
        opened.record_processing("2025-03-01", photo_sha256=SHA)  # no regions at all
    default = run(world, "2026-01-01")
    assert "unknown" in default["summary"]["packs"]["texas-cubi"]["status"]  # named, not silently passed
    unknown = CliRunner().invoke(cli, ["audit", "photos", "--ledger", "ledger.db", "--as-of", "2026-01-01"])
    assert unknown.exit_code == 3  # the face's reach could not be checked: never a pass
    report = run(world, "2026-01-01", "--jurisdiction", "texas-cubi")
    assert rules(report) == {"CUBI-503B-NO-CONSENT": "review", "CUBI-503C-DISCLOSURE": "review",
                             "CUBI-503-COMMERCIAL-PURPOSE": "review"}
    assert report["summary"]["packs"]["bipa"]["status"] == "not selected (--jurisdiction)"
    bad = CliRunner().invoke(cli, ["audit", "photos", "--jurisdiction", "atlantis"])
    assert bad.exit_code == 2 and "unknown jurisdiction pack" in bad.output


def test_sarif_tags_and_help_come_from_the_pack(world):
    config(world, packs=TX_FACTS)
    with person(world, "US-TX") as opened:
        opened.record_processing("2025-03-01", photo_sha256=SHA, capture_region="US-TX", processing_region="US-IL")
    result = CliRunner().invoke(cli, ["audit", "photos", "--ledger", "ledger.db", "--as-of", "2026-01-01",
                                      "--format", "sarif"])
    driver = json.loads(result.output)["runs"][0]["tool"]["driver"]
    (cubi,) = [r for r in driver["rules"] if r["id"] == "CUBI-503B-NO-CONSENT"]
    assert cubi["properties"]["tags"] == ["privacy", "biometric", "texas-cubi", "Tex. Bus. & Com. Code §503.001"]
    assert "§503.001(b), (b-1) [V]" in cubi["help"]["text"]
    # the help's Markdown keeps its paragraphs (it was shown as one line with literal `\x0a`s)
    assert "\n\n**Citation:**" in cubi["help"]["markdown"] and "\\x0a" not in cubi["help"]["markdown"]


def test_packs_and_rules_document_every_pack_with_marks():
    listed = CliRunner().invoke(cli, ["packs", "--format", "json"])
    packs = {p["id"]: p for p in json.loads(listed.output)}
    assert set(packs) == {"bipa", "texas-cubi", "california-ccpa", "eu-gdpr", "portland-34-10", "nyc-22-1201",
                          "eu-ai-act-5-1-e", "colorado-6-1-1314", "washington-19-375", "washington-mhmda"}
    assert packs["texas-cubi"]["effective"] == "2009-09-01" and packs["texas-cubi"]["needs"]
    shown = CliRunner().invoke(cli, ["rules", "--pack", "california-ccpa"]).output
    assert "CCPA-NOTICE-AT-COLLECTION  (Cal. Civ. Code §1798.100(a), (b); 11 CCR §7012) [V] violation, pack " \
           "california-ccpa" in shown and "BIPA-" not in shown
    assert "value california-ccpa.penalty = 2500 [M]" in shown
    assert CliRunner().invoke(cli, ["rules", "--pack", "nope"]).exit_code == 2


def test_every_shipped_pack_loads_and_each_rule_has_a_mark_and_a_check():
    for pack in available().values():
        assert pack.rules and pack.citation and pack.effective
        for rule in pack.rules:
            assert rule.mark in "VSM" and (rule.check or pack.evaluator), rule.id


# -- a new pack: one file, no other change ------------------------------------------------------------

TENTH = """
id = "atlantis"
name = "Atlantis Face Act"
citation = "Atl. Code 7"
effective = "2025-01-01"
mark = "M"
[trigger]
regions = ["AQ"]
on = ["capture"]
needs = "capture region"
[requires]
consent = "none"
ban = true
[retention]
rule = "none"
[disclosure]
rule = "none"
[enforcement]
kind = "private-action"
who = "anyone"
low = 100
high = "damages"
currency = "USD"
[values.damages]
value = 300
mark = "M"
about = "per face"
[facts]
venue = "true if faces are captured in a public venue"
[[rules]]
id = "ATL-7-BAN"
name = "face-ban"
check = "ban"
fact = "venue"
citation = "Atl. Code 7(a)"
mark = "M"
summary = "Faces may not be recognised in a public venue."
fix = "Stop."
"""


def test_a_new_pack_from_a_folder_outside_the_package(world, monkeypatch, tmp_path_factory):
    folder = tmp_path_factory.mktemp("packs")
    (folder / "atlantis.toml").write_text(TENTH)
    monkeypatch.setenv("BIPACHECK_PACKS_PATH", str(folder))
    config(world, packs="[tool.bipacheck.packs.atlantis]\nvenue = true\ndamages = 400\n")
    with person(world, "US-IL") as opened:
        opened.grant("u", "face_geometry", "2025-01-01", **COMPLETE)
        opened.record_processing("2025-03-01", photo_sha256=SHA, capture_region="AQ", processing_region="US-IL")
    report = run(world, "2026-01-01")
    assert rules(report, "atlantis") == {"ATL-7-BAN": "violation"}  # a release does not cure a ban
    assert by_pack(report)["atlantis"]["amount"] == {"low": 100, "high": 400}  # [M] value overridden
    assert "Atlantis Face Act" in CliRunner().invoke(cli, ["packs"]).output
    assert "ATL-7-BAN" in CliRunner().invoke(cli, ["rules", "--pack", "atlantis"]).output


def test_a_malformed_pack_names_its_file(tmp_path):
    (tmp_path / "bad.toml").write_text(TENTH.replace('check = "ban"', 'check = "bann"'))
    with pytest.raises(ConfigError, match="bad.toml.*bann"):
        load(tmp_path / "bad.toml")
    (tmp_path / "bad.toml").write_text(TENTH.replace('id = "ATL-7-BAN"', 'id = "BIPA-15B-NO-RELEASE"'))
    with pytest.raises(ConfigError, match="already declared by bipa"):
        available(tmp_path)


def test_pack_facts_cannot_be_misspelled(world):
    config(world, packs='[tool.bipacheck.packs]\nestablishment = ["DE"]\n')
    result = CliRunner().invoke(cli, ["audit", "photos", "--ledger", "ledger.db", "--format", "json"])
    assert result.exit_code == 2 and "unknown shared fact 'establishment'" in result.output
