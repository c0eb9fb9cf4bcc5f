"""Legal model v3 (issue 24): one worked case per point, each citing the law it applies, run through
the command line and checked against the Python API, with a real ledger file, a real photo and a
real config file. Verification marks ([V] statute or opinion text, [S] secondary sources) follow
../shared/LEGAL.md; every case here failed on the model before it."""

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
from bipacheck.ledger import Ledger
from bipacheck.policy.pack import available
from bipacheck.policy.profiles import PROFILES
from bipacheck.report.formats import report_schema
from tests.conftest import ATTESTATION
from tests.exits import expected_exit
from tests.images import encode, rgb
from tests.requirements import require_module

PHOTO = encode(rgb("astronaut"), "JPEG", quality=92)  # one face
SHA = hashlib.sha256(PHOTO).hexdigest()
RELEASE = dict(purpose="photo tagging", purposes="tagging", term="P3Y", notice_elements="collection;purpose;term",
               signer_role="subject", method="electronic")
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def world(tmp_path, monkeypatch, centerface):
    """A folder with one photo, an empty ledger and an attested operator processing in Illinois."""
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "a.jpg").write_bytes(PHOTO)
    Ledger.create(tmp_path / "ledger.db").close()
    attest(tmp_path)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def attest(world: Path, org: str = "", packs: str = "", regions: str = '"US-IL"', text: str = ATTESTATION) -> None:
    """The operator's attestation (processing in `regions`, plus `org` keys) and its pack facts."""
    body = text.replace('processing_regions = ["US-IL"]', f"processing_regions = [{regions}]")
    (world / ".bipacheck.toml").write_text(body.replace("[tool.bipacheck.org]\n", "[tool.bipacheck.org]\n" + org)
                                           + packs)


def person(world: Path, residence: str = "US-IL", subject: str = "u", sha: str = SHA, **facts) -> Ledger:
    opened = Ledger.open(world / "ledger.db")
    opened.add_subject(subject, **{"residence": residence, "last_interaction_at": "2026-01-01", **facts})
    opened.link(subject, photo_sha256=sha)
    return opened


def run(world: Path, as_of: str, **options) -> dict:
    """The CLI's JSON report for `options` (flags), checked against the API given the same options
    as keywords and the config file's attestation and pack facts as the org= and packs= keywords."""
    flags = [a for name, value in options.items()
             for a in ([f"--{name.replace('_', '-')}", str(v)] for v in (value if isinstance(value, list) else [value]))
             for a in a]
    result = CliRunner().invoke(cli, ["audit", "photos", "--ledger", "ledger.db", "--as-of", as_of, "--format",
                                      "json", "--no-cache", *flags])
    report = json.loads(result.output)
    assert result.exit_code == expected_exit(report), result.output
    jsonschema.validate(report, report_schema())
    table = tomllib.loads((world / ".bipacheck.toml").read_text())["tool"]["bipacheck"]
    api = bipacheck.audit("photos", ledger="ledger.db", org=table["org"], packs=table.get("packs"), config=False,
                          no_cache=True, as_of=datetime.fromisoformat(as_of).replace(tzinfo=timezone.utc), **options)
    assert sorted((f.rule_id, f.severity) for f in api.findings) == sorted(
        (f["rule_id"], f["severity"]) for f in report["findings"])
    for key in ("total", "sections"):  # (an operator finding's fingerprint names where the attestation came from)
        assert api.summary["exposure"][key] == report["summary"]["exposure"][key]
    assert api.exit_code == result.exit_code
    return report


def rules(report: dict, pack: str | None = None) -> dict[str, str]:
    return {f["rule_id"]: f["severity"] for f in report["findings"] if pack is None or f.get("pack") == pack}


def finding(report: dict, rule_id: str) -> dict:
    (found,) = [f for f in report["findings"] if f["rule_id"] == rule_id]
    return found


def total(report: dict) -> tuple[int, int]:
    t = report["summary"]["exposure"]["total"]
    return t["negligent"]["high"], t["reckless"]["high"]


# -- 1. laws apply only from their effective date (and until a sunset) --------------------------------

CO = "[tool.bipacheck.packs.colorado-6-1-1314]\npublic_policy = true\n"


def test_1_colorado_does_not_reach_a_scan_before_6_1_1314_took_effect(world):
    """C.R.S. 6-1-1314 (HB24-1130) took effect 2025-07-01 [S]: a scan in March 2025 is outside it."""
    attest(world, regions='"US-CO"', packs=CO)
    with person(world, "US-CO") as opened:
        opened.record_processing("2025-03-01", photo_sha256=SHA, capture_region="US-CO", processing_region="US-CO")
    report = run(world, "2026-01-01")
    assert rules(report, "colorado-6-1-1314") == {}
    assert report["summary"]["packs"]["colorado-6-1-1314"] == {
        "citation": "C.R.S. 6-1-1314", "reach": ["not-in-force"],
        "status": "not evaluated: no processing in its territory while it was in force (effective 2025-07-01)"}
    with Ledger.open(world / "ledger.db") as opened:  # processed again once the law is in force
        opened.record_processing("2025-08-01", photo_sha256=SHA, capture_region="US-CO", processing_region="US-CO")
    report = run(world, "2026-01-01")
    early, late = finding(report, "CO-1314-NO-CONSENT")["details"]["exposure"]["processing"]
    assert (early["at"], early["counted"]) == ("2025-03-01T00:00:00Z", False)
    assert early["not_counted"] == "law not in force: before C.R.S. 6-1-1314 took effect (2025-07-01)"
    assert (late["at"], late["counted"]) == ("2025-08-01T00:00:00Z", True)


def test_1_every_pack_is_held_to_its_dates_bipa_and_a_sunset_included(world, tmp_path_factory, monkeypatch):
    """RCW 19.373 (My Health My Data) took effect 2024-03-31 [S]; 740 ILCS 14 on 2008-10-03 [V]; a
    law that ceased to apply reaches nothing after its sunset."""
    folder = tmp_path_factory.mktemp("packs")
    (folder / "repealed.toml").write_text(REPEALED)
    monkeypatch.setenv("BIPACHECK_PACKS_PATH", str(folder))
    attest(world, regions='"US-WA"', packs="[tool.bipacheck.packs.washington-mhmda]\nhealth_privacy_policy = true\n")
    with person(world, "US-WA") as opened:
        opened.record_processing("2024-02-01", photo_sha256=SHA, capture_region="US-WA", processing_region="US-WA")
        opened.record_processing("2007-06-01", photo_sha256=SHA, capture_region="US-IL", processing_region="US-IL")
    report = run(world, "2024-06-01")
    assert rules(report, "washington-mhmda") == {} and rules(report, "repealed") == {}
    assert "while it was in force (effective 2020-01-01, until 2023-01-01)" in report["summary"]["packs"]["repealed"][
        "status"]
    bipa = finding(report, "BIPA-15B-NO-RELEASE")  # Illinois, 2007: before BIPA
    assert bipa["severity"] == "info" and total(report) == (0, 0)
    (entry,) = [e for e in bipa["details"]["exposure"]["processing"] if e["at"].startswith("2007")]
    assert entry["not_counted"] == "law not in force: before 740 ILCS 14 took effect (2008-10-03)"


REPEALED = """
id = "repealed"
name = "A repealed face law"
citation = "Test Code 9"
effective = "2020-01-01"
sunset = "2023-01-01"
mark = "M"
[trigger]
regions = ["US-WA"]
on = ["capture"]
[requires]
consent = "written"
[retention]
rule = "none"
[disclosure]
rule = "none"
[enforcement]
kind = "unquantified"
text = "none"
[[rules]]
id = "REPEALED-NO-CONSENT"
name = "no-consent"
check = "consent"
citation = "Test Code 9(a)"
mark = "M"
summary = "No consent."
fix = "Get one."
"""


# -- 2. after P.A. 103-0769, repeated scans are one violation; per scan only before it ------------------

def test_2_four_scans_after_the_amendment_are_one_violation_not_four(world):
    """740 ILCS 14/20 as amended by P.A. 103-0769 (2024-08-02) [V]: collecting the same identifier
    from the same person by the same method is one violation. Cothron's per-scan accrual (2023 IL
    128004) [V] is shown only for earlier scans, as a contested ceiling (retroactivity [S])."""
    with person(world) as opened:
        for day in ("2025-01-01", "2025-02-01", "2025-03-01", "2025-04-01"):
            opened.record_processing(day, photo_sha256=SHA, processing_region="US-IL", method="face-templates")
    report = run(world, "2026-01-01")
    b = report["summary"]["exposure"]["sections"]["15(b)"]
    assert b["per_scan"]["scans"] == 0 and report["summary"]["exposure"]["pre_amendment"]["scans"] == 0
    assert b["violations"] == {"low": 1, "high": 1} and total(report) == (1000, 5000)
    with Ledger.open(world / "ledger.db") as opened:  # two scans before the amendment
        for day in ("2023-01-01", "2023-02-01"):
            opened.record_processing(day, photo_sha256=SHA, processing_region="US-IL", method="face-templates")
    report = run(world, "2026-01-01")
    b = report["summary"]["exposure"]["sections"]["15(b)"]
    assert b["per_scan"]["scans"] == 2 and b["per_scan"]["negligent"] == {"low": 2000, "high": 2000}
    assert "contested" in report["summary"]["exposure"]["pre_amendment"]["note"]
    assert total(report) == (1000, 5000)  # still one person, one method


# -- 3. one recovery per person per method: two methods can be two ------------------------------------

def test_3_one_person_processed_by_two_methods_is_a_range_of_one_to_two_violations(world):
    """740 ILCS 14/20(b)-(c) as amended [V]: one recovery per person per method of collection. What
    counts as one method is untested in court [S]: a range, with a note."""
    with person(world) as opened:
        opened.record_processing("2025-01-01", photo_sha256=SHA, processing_region="US-IL", method="face-templates")
        opened.record_processing("2025-02-01", photo_sha256=SHA, processing_region="US-IL", method="id-verification")
    report = run(world, "2026-01-01")
    b = report["summary"]["exposure"]["sections"]["15(b)"]
    assert b["persons"] == {"low": 1, "high": 1} and b["violations"] == {"low": 1, "high": 2}
    assert b["methods"] == {"face-templates": 1, "id-verification": 1}
    assert "has not been decided by a court" in b["note"]
    assert report["summary"]["exposure"]["total"]["negligent"] == {"low": 1000, "high": 2000}


# -- 4. GDPR: explicit consent for specified purposes; Art. 3 scope with the EEA ----------------------

EU = '[tool.bipacheck.packs]\nestablishments = ["DE"]\n[tool.bipacheck.packs.eu-gdpr]\ndpia_done = true\n'


@pytest.mark.parametrize("explicit, used, expected", [
    (None, "tagging", "review"),  # whether the consent was explicit is not recorded
    (False, "tagging", "violation"),  # Art. 9(2)(a): a consent that was not explicit
    (True, "marketing", "violation"),  # explicit, but not for this purpose
    (True, "tagging", None),  # explicit consent for the specified purpose
])
def test_4_gdpr_needs_explicit_consent_for_the_specified_purpose(world, explicit, used, expected):
    """GDPR Art. 9(2)(a) [V]: explicit consent "for one or more specified purposes"."""
    attest(world, regions='"DE"', packs=EU)
    with person(world, "DE") as opened:
        opened.grant("u", "face_geometry", "2025-01-01", **RELEASE, explicit=explicit)
        opened.record_processing("2025-03-01", photo_sha256=SHA, capture_region="DE", processing_region="DE",
                                 purpose=used)
    found = rules(run(world, "2026-01-01"), "eu-gdpr")
    assert found == ({"GDPR-9-NO-EXPLICIT-CONSENT": expected} if expected else {})


def test_4_gdpr_reaches_by_establishment_or_targeting_not_by_residence_and_the_eea_too(world):
    """GDPR Art. 3(1)-(2) [V]; IS, LI and NO apply it through the EEA Agreement [S]. A Frenchwoman
    photographed and processed in Chicago by an Illinois company that neither is established in nor
    targets the Union is outside it; a Norwegian photographed in Oslo by a company offering its
    service there is inside it."""
    attest(world, packs='[tool.bipacheck.packs]\nestablishments = ["US-IL"]\n[tool.bipacheck.packs.eu-gdpr]\n'
                        'offers_to_people_in_eea = false\nmonitors_people_in_eea = false\n')
    with person(world, "FR") as opened:
        opened.record_processing("2025-03-01", photo_sha256=SHA, capture_region="US-IL", processing_region="US-IL")
    report = run(world, "2026-01-01")
    assert rules(report, "eu-gdpr") == {}
    assert report["summary"]["packs"]["eu-gdpr"]["status"] == "not evaluated: no processing in its territory"
    (world / "ledger.db").unlink()
    Ledger.create(world / "ledger.db").close()
    attest(world, packs='[tool.bipacheck.packs]\nestablishments = ["US-IL"]\n[tool.bipacheck.packs.eu-gdpr]\n'
                        'offers_to_people_in_eea = true\ndpia_done = true\n')
    with person(world, "NO") as opened:
        opened.record_processing("2025-03-01", photo_sha256=SHA, capture_region="NO", processing_region="US-IL")
    report = run(world, "2026-01-01")
    assert rules(report, "eu-gdpr") == {"GDPR-9-NO-EXPLICIT-CONSENT": "violation"}
    where = finding(report, "GDPR-9-NO-EXPLICIT-CONSENT")["details"]["exposure"]["processing"][0]["where"]
    assert where == "establishment US-IL; targeting NO"


# -- 5. NYC: per-rule amounts, the cure only for signage ------------------------------------------------

def test_5_nyc_signage_is_500_per_violation_and_curable_sale_is_500_to_5000(world):
    """N.Y.C. Admin. Code 22-1203 [S]: $500 per violation of 22-1202(a) (signage), after a 30-day
    notice to cure; $500 negligent / $5,000 intentional or reckless for 22-1202(b) (sale or sharing)."""
    facts = "[tool.bipacheck.packs.nyc-22-1201]\nnyc_commercial_establishment = true\nsignage = false\n"
    attest(world, regions='"US-NY"', packs=facts + "sells_or_shares = false\n")
    with person(world, "US-NJ") as opened:
        opened.grant("u", "face_geometry", "2025-01-01", **RELEASE)
        opened.record_processing("2025-03-01", photo_sha256=SHA, capture_region="US-NY", processing_region="US-NY")
    nyc = run(world, "2026-01-01")["summary"]["exposure_by_pack"]["packs"]["nyc-22-1201"]
    assert nyc["amount"] == {"low": 500, "high": 500}
    assert "30 days" in nyc["by_rule"]["NYC-1202A-SIGNAGE"]["note"]
    attest(world, regions='"US-NY"', packs=facts + "sells_or_shares = true\n")
    nyc = run(world, "2026-01-01")["summary"]["exposure_by_pack"]["packs"]["nyc-22-1201"]
    sale = nyc["by_rule"]["NYC-1202B-SALE"]
    assert sale["per_violation"] == {"low": 500, "high": 5000} and "note" not in sale
    assert nyc["amount"] == {"low": 1000, "high": 5500}


# -- 6. a retention policy adopted late aggrieves every person processed before it ----------------------

def test_6_a_late_policy_is_15a_exposure_for_each_person_processed_before_it(world):
    """740 ILCS 14/15(a) [V]; the policy must exist at first collection (Mora v. J&M Plating, 2022 IL App
    (2d) 210692) [S]; each person is aggrieved without further harm (Rosenbach v. Six Flags, 2019 IL
    123186) [V]; federal standing for the public-disclosure half alone is doubtful (Bryant v. Compass
    Group, 7th Cir. 2020) [V]."""
    attest(world, text=ATTESTATION.replace("policy_adopted_at = 2020-01-01", "policy_adopted_at = 2025-06-01"))
    with person(world) as opened:  # consented, yet processed before the policy existed
        opened.grant("u", "face_geometry", "2025-01-01", **RELEASE)
        opened.record_processing("2025-03-01", photo_sha256=SHA, processing_region="US-IL")
    report = run(world, "2026-01-01")
    assert rules(report) == {"BIPA-15A-POLICY": "violation"}
    a = report["summary"]["exposure"]["sections"]["15(a)"]
    assert a["persons"] == {"low": 1, "high": 1} and a["late_policy_persons"] == 1 and "Bryant" in a["note"]
    assert total(report) == (1000, 5000)
    assert "Bryant v. Compass Group" in finding(report, "BIPA-15A-POLICY")["details"]["standing"]
    copy = encode(rgb("astronaut"), "JPEG", quality=80)  # a second person (a second photo), later
    (world / "photos" / "b.jpg").write_bytes(copy)
    with person(world, subject="v", sha=hashlib.sha256(copy).hexdigest()) as opened:
        opened.grant("v", "face_geometry", "2025-01-01", **RELEASE)
        opened.record_processing("2025-04-01", photo_sha256=hashlib.sha256(copy).hexdigest(), processing_region="US-IL")
    report = run(world, "2026-01-01")
    assert report["summary"]["exposure"]["sections"]["15(a)"]["persons"] == {"low": 2, "high": 2}
    with Ledger.open(world / "ledger.db") as opened:  # processing after the policy adds nobody
        opened.record_processing("2025-07-01", photo_sha256=SHA, processing_region="US-IL")
    assert run(world, "2026-01-01")["summary"]["exposure"]["sections"]["15(a)"]["late_policy_persons"] == 2


# -- 7. Texas: self-publication only lifts (b-1)'s bar; the commercial purpose is a fact -----------------

TX = "[tool.bipacheck.packs.texas-cubi]\nsells_or_discloses = false\npublic_images_as_consent = true\n"


def test_7_a_self_published_image_is_not_consent_under_cubi(world):
    """Tex. Bus. & Com. Code 503.001(b), (b-1) (HB 149, 2026) [V]: an image the person made public
    themselves may be relied on, but that is not the consent (b) requires: review, never a pass."""
    attest(world, packs=TX + "commercial_purpose = true\n")
    with person(world, "US-TX") as opened:
        opened.grant("u", "self_published", "2025-01-01", method="electronic")
        opened.record_processing("2026-02-01", photo_sha256=SHA, capture_region="US-TX", processing_region="US-IL")
    report = run(world, "2026-03-01")
    assert rules(report, "texas-cubi") == {"CUBI-503B-NO-CONSENT": "review"}
    assert "it does not supply consent" in finding(report, "CUBI-503B-NO-CONSENT")["message"]


def test_7_cubi_reaches_only_a_commercial_purpose_which_the_operator_must_state(world):
    """Tex. Bus. & Com. Code 503.001(b) [V]: capture "for a commercial purpose"."""
    attest(world, packs=TX)
    with person(world, "US-TX") as opened:
        opened.record_processing("2025-06-01", photo_sha256=SHA, capture_region="US-TX", processing_region="US-IL")
    report = run(world, "2026-01-01")
    assert rules(report, "texas-cubi") == {"CUBI-503-COMMERCIAL-PURPOSE": "review", "CUBI-503B-NO-CONSENT": "review"}
    assert report["summary"]["exposure_by_pack"]["packs"]["texas-cubi"]["amount"] == {"low": 0, "high": 0}
    attest(world, packs=TX + "commercial_purpose = false\n")
    report = run(world, "2026-01-01")
    assert rules(report, "texas-cubi") == {}
    assert report["summary"]["packs"]["texas-cubi"]["status"].endswith("commercial_purpose = false")


# -- 8. the use is compared with the release's purposes ---------------------------------------------------

def test_8_a_use_outside_the_releases_purposes_is_a_15b2_violation(world):
    """740 ILCS 14/15(b)(2) [V]: written notice of "the specific purpose": a release for photo
    tagging does not cover ad targeting; a purpose nobody recorded is review."""
    with person(world) as opened:
        opened.grant("u", "face_geometry", "2025-01-01", **RELEASE)
        opened.record_processing("2025-03-01", photo_sha256=SHA, processing_region="US-IL", purpose="marketing")
    report = run(world, "2026-01-01")
    found = finding(report, "BIPA-15B-PURPOSE")
    assert (found["severity"], found["citation"]) == ("violation", "740 ILCS 14/15(b)(2)")
    assert found["details"]["defects"] == ["used for marketing, outside the purposes of release "
                                           f"{found['faces'][0]['consent_id']} (tagging)"]
    assert total(report) == (1000, 5000)
    attest(world, text=ATTESTATION.replace('processing_purposes = ["tagging"]\n', ""))
    (world / "ledger.db").unlink()
    Ledger.create(world / "ledger.db").close()
    with person(world) as opened:  # the processing's purpose recorded nowhere
        opened.grant("u", "face_geometry", "2025-01-01", **RELEASE)
        opened.record_processing("2025-03-01", photo_sha256=SHA, processing_region="US-IL")
    report = run(world, "2026-01-01")
    assert rules(report) == {"BIPA-15B-PURPOSE": "review"} and total(report) == (0, 0)
    assert report["summary"]["unconsented_faces"] == 0  # a release nobody could check is not a missing one


# -- 9. evidence: the signed document is opened and its hash checked -------------------------------------

def _document(root: Path, name: str, content: bytes = b"%PDF-1.4 signed release\n") -> str:
    (root / "releases").mkdir(parents=True, exist_ok=True)
    (root / "releases" / name).write_bytes(content)
    return hashlib.sha256(content).hexdigest()


@pytest.mark.parametrize("case, expected", [
    ("verified", None), ("placeholder", "violation"), ("missing", "violation"), ("mismatch", "violation"),
    ("unreadable", "review"), ("no notice text", "review")])
def test_9_evidence_opens_each_release_document_and_checks_its_hash(world, case, expected):
    """740 ILCS 14/15(b)(3) [V]: "a written release": one whose signed document is missing, altered or
    recorded with a placeholder hash is not proven (a violation); one that could not be read, or whose
    notice text is missing, is review."""
    root = world / "evidence"
    digest = _document(root, "c1.pdf")
    (root / "notices").mkdir()
    if case != "no notice text":
        (root / "notices" / "notice-1.txt").write_text("We collect scans of face geometry for photo tagging, 3 years.")
    recorded = {"placeholder": "ab" * 32, "mismatch": hashlib.sha256(b"another file").hexdigest()}.get(case, digest)
    if case == "missing":
        (root / "releases" / "c1.pdf").unlink()
    if case == "unreadable":
        (root / "releases" / "c1.pdf").unlink()
        (root / "releases" / "c1.pdf").mkdir()  # something there that is not a readable file
    with person(world) as opened:
        opened.grant("u", "face_geometry", "2025-01-01", consent_id="c1", notice_version="notice-1",
                     evidence_uri="releases/c1.pdf", evidence_sha256=recorded, **RELEASE)
        opened.record_processing("2025-03-01", photo_sha256=SHA, processing_region="US-IL")
        opened.record_processing("2025-09-01", photo_sha256=SHA, processing_region="US-IL")
    report = run(world, "2026-01-01", evidence=str(root))
    assert rules(report) == ({"BIPA-15B-EVIDENCE": expected} if expected else {})
    (row,) = report["persons"]
    assert (row["first_processed"], row["last_processed"]) == ("2025-03-01T00:00:00Z", "2025-09-01T00:00:00Z")
    (document,) = row["documents"]
    status = {"no notice text": "verified"}.get(case, case)
    assert (document["consent_id"], document["evidence"]["status"]) == ("c1", status)
    assert [v["status"] for v in document["verdicts"]] == ["valid" if expected is None else "unproven"] * 2
    evidence = report["run"]["evidence"]
    assert evidence["checked"] is True and evidence["releases"] == {status: 1}
    if case != "no notice text":
        notice = hashlib.sha256((root / "notices" / "notice-1.txt").read_bytes()).hexdigest()
        assert evidence["notices"]["notice-1"]["sha256"] == notice


def test_9_without_an_evidence_root_the_report_says_documents_were_not_opened(world):
    with person(world) as opened:
        opened.grant("u", "face_geometry", "2025-01-01", evidence_uri="releases/c1.pdf", evidence_sha256="ab" * 32,
                     **RELEASE)
    report = run(world, "2026-01-01")
    assert report["run"]["evidence"]["checked"] is False and "not opened" in report["run"]["evidence"]["note"]
    assert rules(report) == {}


def test_9_where_no_writing_is_required_missing_evidence_is_review(world):
    """Tex. Bus. & Com. Code 503.001(b) [V]: consent in any form, so an unproven release is review."""
    attest(world, packs=TX + "commercial_purpose = true\n")
    (world / "evidence").mkdir()
    with person(world, "US-TX") as opened:
        opened.grant("u", "face_geometry", "2025-01-01", evidence_uri="releases/c1.pdf",
                     evidence_sha256=hashlib.sha256(b"x").hexdigest(), **RELEASE)
        opened.record_processing("2025-03-01", photo_sha256=SHA, capture_region="US-TX", processing_region="US-IL")
    report = run(world, "2026-01-01", evidence=str(world / "evidence"))
    assert rules(report)["BIPA-15B-EVIDENCE"] == "violation"  # BIPA: a written release
    assert rules(report, "texas-cubi") == {"CUBI-503B-NO-CONSENT": "review"}


def test_9_an_evidence_root_in_a_bucket(world, endpoint, monkeypatch):
    require_module("s3fs")
    from tests.conftest import bucket_client

    client = bucket_client(endpoint, "legal")
    content = b"%PDF-1.4 signed release in a bucket\n"
    client.put_object(Bucket="legal", Key="archive/releases/c1.pdf", Body=content)
    client.put_object(Bucket="legal", Key="archive/notices/notice-1.txt", Body=b"the notice")
    with person(world) as opened:
        opened.grant("u", "face_geometry", "2025-01-01", consent_id="c1", notice_version="notice-1",
                     evidence_uri="s3://legal/archive/releases/c1.pdf",
                     evidence_sha256=hashlib.sha256(content).hexdigest(), **RELEASE)
        opened.record_processing("2025-03-01", photo_sha256=SHA, processing_region="US-IL")
    report = run(world, "2026-01-01", evidence="s3://legal/archive", endpoint_url=endpoint)
    assert rules(report) == {}
    assert report["run"]["evidence"]["releases"] == {"verified": 1}
    assert report["run"]["evidence"]["notices"]["notice-1"]["sha256"] == hashlib.sha256(b"the notice").hexdigest()
    client.put_object(Bucket="legal", Key="archive/releases/c1.pdf", Body=b"edited afterwards")
    assert rules(run(world, "2026-01-01", evidence="s3://legal/archive", endpoint_url=endpoint)) == {
        "BIPA-15B-EVIDENCE": "violation"}


# -- 10. a photo's baseline never accepts findings about the operator ------------------------------------

def baseline(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["baseline", *args])
    return result.exit_code, result.output


def test_10_baselining_a_photo_does_not_accept_operator_findings(world):
    """Operator duties (740 ILCS 14/15(a) policy, 15(c), 15(d), 15(e)) are company-wide: accepted only
    by name, each with its own justification."""
    attest(world, text=ATTESTATION.replace("policy_adopted_at = 2020-01-01", "policy_adopted_at = 2025-06-01"))
    with person(world) as opened:
        opened.record_processing("2025-03-01", photo_sha256=SHA, processing_region="US-IL")
    common = ["--ledger", "ledger.db", "--as-of", "2026-01-01", "--baseline", "accepted.json"]
    code, out = baseline("update", "photos/a.jpg", *common, "--justification", "release on paper, being scanned")
    assert code == 0, out
    entries = json.loads((world / "accepted.json").read_text())["findings"]
    assert sorted(e["rule_id"] for e in entries.values()) == ["BIPA-15B-NO-RELEASE"]
    report = run(world, "2026-01-01", baseline="accepted.json")
    live = {f["rule_id"] for f in report["findings"] if "suppressed" not in f}
    assert live == {"BIPA-15A-POLICY"} and total(report) == (1000, 5000)
    assert baseline("operator", "BIPA-15A-POLICY", "--baseline", "accepted.json")[0] == 2  # no justification
    code, out = baseline("operator", "BIPA-15B-NO-RELEASE", "--baseline", "accepted.json", "--justification", "x")
    assert code == 2 and "not a finding about the operator" in out
    code, out = baseline("operator", "BIPA-15A-POLICY", "--baseline", "accepted.json",
                         "--justification", "policy published 2025-06-01; counsel reviewing")
    assert code == 0, out
    report = run(world, "2026-01-01", baseline="accepted.json")
    policy = finding(report, "BIPA-15A-POLICY")
    assert policy["suppressed"]["justification"] == "policy published 2025-06-01; counsel reviewing"
    assert total(report) == (0, 0) and report["run"]["baseline"]["stale"] == []


def test_10_an_old_baseline_that_accepted_an_operator_finding_by_fingerprint_no_longer_does(world):
    attest(world, text=ATTESTATION.replace("policy_adopted_at = 2020-01-01", "policy_adopted_at = 2025-06-01"))
    with person(world) as opened:
        opened.grant("u", "face_geometry", "2025-01-01", **RELEASE)
        opened.record_processing("2025-03-01", photo_sha256=SHA, processing_region="US-IL")
    fingerprint = finding(run(world, "2026-01-01"), "BIPA-15A-POLICY")["fingerprint"]
    (world / "accepted.json").write_text(json.dumps({"version": 1, "settings": {}, "findings": {
        fingerprint: {"rule_id": "BIPA-15A-POLICY", "sha256": None, "justification": "via a photo"}}}))
    report = run(world, "2026-01-01", baseline="accepted.json")
    assert "suppressed" not in finding(report, "BIPA-15A-POLICY")
    assert report["run"]["baseline"]["stale"] == [{"fingerprint": fingerprint, "rule_id": "BIPA-15A-POLICY"}]


# -- 11. words --------------------------------------------------------------------------------------------

def test_11_the_words_match_the_law():
    """Facebook, Google Photos and Shutterfly: claims survived dismissal and settled; no court found
    liability on the merits [V/S]. An unknown deadline is review, not a violation (15(a) has no text
    making it one). Texas's $25,000 is in 503.001(d) itself [V]."""
    for path in (REPO / "README.md", REPO / "docs" / "law.md", REPO / "bipacheck" / "policy" / "profiles.py"):
        assert "found liability" not in path.read_text(), path
    assert "survived motions to dismiss and then settled" in PROFILES["face-templates"].explanation
    shown = CliRunner().invoke(cli, ["rules"]).output
    assert "BIPA-15A-NO-DEADLINE  (740 ILCS 14/15(a)) [V] review" in shown
    assert "BIPA-15B-PURPOSE  (740 ILCS 14/15(b)(2)) [V] violation" in shown
    assert "BIPA-15B-EVIDENCE  (740 ILCS 14/15(b)(3)) [V] violation" in shown
    assert "CUBI-503-COMMERCIAL-PURPOSE  (Tex. Bus. & Com. Code §503.001(b)) [V] review" in shown
    texas = CliRunner().invoke(cli, ["rules", "--pack", "texas-cubi"]).output
    assert "value texas-cubi.max_penalty = 25000 [V]" in texas


def test_docs_law_lists_every_rule_with_its_citation_and_mark():
    """docs/law.md (the legal table) names every shipped rule with its mark, and every pack."""
    text = (REPO / "docs" / "law.md").read_text()
    rows = {line.split("|")[1].strip(" `"): line for line in text.splitlines() if line.startswith("| `")}
    for pack in available().values():
        assert f"`{pack.id}`" in text and pack.effective in text, pack.id
        for rule in pack.rules:
            assert rule.id in rows, rule.id
            assert f"| {rule.mark} |" in rows[rule.id], rule.id
