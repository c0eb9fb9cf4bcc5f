"""The audit: faces x ledger -> findings, exit codes, schema-valid reports, stable fingerprints."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from PIL import Image

import bipacheck
from bipacheck.cli import cli
from bipacheck.detect.runtime import default_runtime
from bipacheck.ledger import Ledger
from bipacheck.report.formats import report_schema
from tests.exits import expected_exit
from tests.exits import expected_exit
from tests.images import encode, rgb, side_by_side

DEMO = Path(__file__).resolve().parents[1] / "fixtures" / "demo"
AS_OF = "2026-11-01"
UTC = timezone.utc


NOTICE = "collection;purpose;term"


def load_demo_ledger(path: Path) -> Path:
    ledger = Ledger.create(path)
    for name in ("1-subjects.csv", "2-consents.csv", "3-links.csv", "4-processing.csv"):
        ledger.import_file(DEMO / "ledger" / name)
    ledger.close()
    return path


pytestmark = pytest.mark.usefixtures("operator")  # tests/conftest.py: an attested Illinois operator


@pytest.fixture
def demo_ledger(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(DEMO)  # the demo operator's attestation
    return load_demo_ledger(tmp_path / "demo.db")


def run_cli(*args) -> tuple[int, str]:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    return result.exit_code, result.output


def audit_json(*args) -> tuple[int, dict]:
    code, out = run_cli("audit", *args, "--format", "json")
    report = json.loads(out)
    assert code == expected_exit(report), out
    jsonschema.validate(report, report_schema())
    return code, report


def findings_by_photo(report: dict) -> set[tuple[str, str]]:
    return {(Path(f["photo"]["path"]).name, f["rule_id"]) for f in report["findings"]}


def test_the_cascade_finds_the_demo_problems_too_in_a_valid_report(demo_ledger, centerface, cascade):
    _, default = audit_json(DEMO / "photos", "--ledger", demo_ledger, "--as-of", AS_OF)
    code, report = audit_json(DEMO / "photos", "--ledger", demo_ledger, "--as-of", AS_OF, "--detector", "cascade")
    assert code == 1 and findings_by_photo(report) == findings_by_photo(default)
    detector = report["run"]["detector"]
    assert detector["detector"] == "cascade"
    assert detector["model_sha256"] == detector["verifier"]["model_sha256"] != detector["proposer"]["model_sha256"]


def test_demo_audit_finds_exactly_the_demo_problems(demo_ledger, centerface):
    code, report = audit_json(DEMO / "photos", "--ledger", demo_ledger, "--as-of", AS_OF)
    assert code == 1
    assert findings_by_photo(report) == {
        ("team_offsite.jpg", "BIPA-15B-NO-RELEASE"),  # the bystander next to Alice
        ("team_offsite.jpg", "BIPA-15D-DISCLOSURE"),  # ...whose face also went to the search vendor
        ("team_offsite.jpg", "BIPA-15A-NO-DEADLINE"),  # ...and has no destruction deadline
        ("bob_profile.png", "BIPA-15B-EXPIRED"),  # processed again after his release lapsed
        ("carol_selfie.jpg", "BIPA-15B-NOT-YET-VALID"),  # processed before she signed
        ("carol_selfie.jpg", "BIPA-15B-REVOKED"),  # and after she revoked; stored sideways, linked by path
        ("dave_event.webp", "BIPA-15B-OUT-OF-SCOPE"),
        ("dave_event.webp", "BIPA-15A-RETENTION"),
        ("broken_upload.jpg", "BIPACHECK-UNSCANNED"),
        ("notes.jpg", "BIPACHECK-UNSCANNED"),
        (".bipacheck.toml", "BIPA-15A-POLICY"),  # adopted after Bob's and Dave's first scans (Mora)
    }
    s = report["summary"]
    assert (s["files_listed"], s["scanned"], s["skipped"]) == (9, 7, 2)
    assert (s["faces"], s["photos_with_faces"], s["unconsented_faces"]) == (6, 5, 4)
    assert s["photos_with_violations"] == 4
    exposure = s["exposure"]
    assert exposure["sections"]["15(b)"]["persons"] == {"low": 4, "high": 4}
    assert exposure["sections"]["15(b)"]["violations"] == {"low": 4, "high": 4}  # one method: face-templates
    # Dave's passed deadline; Bob (2024-03-01) and Dave (2023-05-01) were processed before the policy (Mora)
    assert exposure["sections"]["15(a)"]["persons"] == {"low": 2, "high": 2}
    assert exposure["sections"]["15(a)"]["late_policy_persons"] == 2
    assert exposure["sections"]["15(d)"]["recipients"] == {"photo-search-co": {"low": 1, "high": 1}}
    assert exposure["total"]["negligent"] == {"low": 7000, "high": 7000}
    assert exposure["total"]["reckless"] == {"low": 35000, "high": 35000}
    per_scan = exposure["sections"]["15(b)"]["per_scan"]  # only before P.A. 103-0769: Dave, 2023-05-01
    assert (per_scan["scans"], per_scan["basis"]) == (1, "processing events")
    assert exposure["pre_amendment"]["scans"] == 1
    # Tims: Dave's 2021 scan, listed for his 15(b) finding and for the late policy
    assert [p["at"] for p in exposure["time_barred"]["processing"]] == ["2021-07-01T09:00:00Z"] * 2
    assert report["run"]["attestation"]["statement"]["entity"] == "Example Photos LLC"
    assert len(report["run"]["attestation"]["sha256"]) == 64
    assert {e["path"].split("/")[-1]: e["reason"] for e in report["skipped"]} == {
        "broken_upload.jpg": "truncated", "notes.jpg": "unsupported-format"}
    offsite = [f for f in report["findings"] if f["photo"]["path"].endswith("team_offsite.jpg")][0]
    assert offsite["faces"][0]["subject_id"] is None and offsite["faces"][0]["box"][0] > 512
    assert offsite["citation"] == "740 ILCS 14/15(b)"
    run = report["run"]
    assert run["processing"]["profile"] == "face-templates" and run["as_of"].startswith("2026-11-01")
    assert run["ledger"]["sha256"] == Ledger.open(demo_ledger).file_sha256()
    assert len(run["detector"]["model_sha256"]) == 64


def test_report_never_holds_names_or_biometrics(demo_ledger, centerface):
    _, out = run_cli("audit", DEMO / "photos", "--ledger", demo_ledger, "--as-of", AS_OF, "--format", "json")
    for forbidden in ("Alice Example", "Bob Example", "landmark", "embedding", "template_vector"):
        assert forbidden not in out


def test_as_of_date_changes_what_is_valid(demo_ledger, centerface):
    _, report = audit_json(DEMO / "photos", "--ledger", demo_ledger, "--as-of", "2024-06-01")
    found = findings_by_photo(report)
    assert not any(name == "bob_profile.png" for name, _ in found)  # Bob's release ran 2022-2025
    # Carol signed in 2025, but the ledger's events say her photo was first processed in 2025 too:
    # on 2024-06-01 nothing had been processed yet, so there is nothing to judge
    assert not any(name == "carol_selfie.jpg" for name, _ in found)
    assert ("dave_event.webp", "BIPA-15A-RETENTION") not in found  # deadline 2025-03-01 not yet passed


def make_folder(tmp_path: Path, name: str = "photos", /, **photos: bytes) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    for name, data in photos.items():
        (folder / name).write_bytes(data)
    return folder


def ledger_with(tmp_path: Path, *links, consents=()) -> Path:
    ledger = Ledger.create(tmp_path / "l.db")
    for subject in {link[0] for link in links} | {c[0] for c in consents}:
        ledger.add_subject(subject, jurisdictions="US-IL", last_interaction_at="2026-01-01")
    for subject, scope in consents:  # complete releases: notice, purpose and term (15(b)(1)-(2))
        ledger.grant(subject, scope, "2025-01-01", consent_id=f"c-{subject}", method="electronic",
                     purpose="photo tagging", purposes="tagging", term="P5Y", notice_elements=NOTICE,
                     signer_role="subject")
    for subject, sha, box in links:
        ledger.link(subject, photo_sha256=sha, box=box)
    ledger.close()
    return tmp_path / "l.db"


def test_box_links_decide_which_face_is_whom(tmp_path, centerface):
    photo = encode(side_by_side("astronaut", "camera"), "JPEG", quality=92)
    sha = bipacheck.scan([str(make_folder(tmp_path, **{"two.jpg": photo}))])["files"][0]["sha256"]
    # the consented subject is the cameraman (right), so the astronaut is the unconsented face
    ledger = ledger_with(tmp_path, ("cam", sha, [707, 115, 65, 85]), consents=[("cam", "face_geometry")])
    _, report = audit_json(tmp_path / "photos", "--ledger", ledger)
    finding, no_deadline = report["findings"]
    assert no_deadline["rule_id"] == "BIPA-15A-NO-DEADLINE" and no_deadline["severity"] == "review"
    assert finding["rule_id"] == "BIPA-15B-NO-RELEASE" and finding["faces"][0]["box"][0] < 512
    faces = {f["subject_id"] for f in finding["faces"]}
    assert faces == {None}


def test_boxless_links_cover_faces_by_count(tmp_path, centerface):
    photo = encode(side_by_side("astronaut", "camera"), "JPEG", quality=92)
    folder = make_folder(tmp_path, **{"two.jpg": photo})
    sha = bipacheck.scan([str(folder)])["files"][0]["sha256"]
    one = ledger_with(tmp_path, ("a", sha, None), consents=[("a", "face_geometry")])
    _, report = audit_json(folder, "--ledger", one)
    assert [f["rule_id"] for f in report["findings"]] == ["BIPA-15B-NO-RELEASE", "BIPA-15A-NO-DEADLINE"]
    assert report["summary"]["unconsented_faces"] == 1
    (tmp_path / "l.db").unlink()
    two = ledger_with(tmp_path, ("a", sha, None), ("b", sha, None),
                      consents=[("a", "face_geometry"), ("b", "face_geometry")])
    code, report = audit_json(folder, "--ledger", two)
    assert report["findings"] == [] and code == 0


def test_out_of_scope_and_no_release_rules(tmp_path, centerface):
    folder = make_folder(tmp_path, **{"a.png": encode(rgb("astronaut"))})
    sha = bipacheck.scan([str(folder)])["files"][0]["sha256"]
    ledger = ledger_with(tmp_path, ("a", sha, None), consents=[("a", "marketing_display")])
    _, report = audit_json(folder, "--ledger", ledger)
    assert [f["rule_id"] for f in report["findings"]] == ["BIPA-15B-OUT-OF-SCOPE"]
    assert report["findings"][0]["faces"][0]["consent_status"] == "out-of-scope"
    _, report = audit_json(folder)  # no ledger at all: every face is without a release
    assert [f["rule_id"] for f in report["findings"]] == ["BIPA-15B-NO-RELEASE", "BIPA-15A-NO-DEADLINE"]


def test_ledger_box_for_a_face_the_detector_missed_still_counts(tmp_path, centerface):
    folder = make_folder(tmp_path, **{"scene.png": encode(rgb("coffee"))})
    sha = bipacheck.scan([str(folder)])["files"][0]["sha256"]
    ledger = ledger_with(tmp_path, ("x", sha, [10, 10, 50, 60]))
    _, report = audit_json(folder, "--ledger", ledger)
    (finding,) = report["findings"]
    assert finding["faces"][0]["source"] == "ledger" and finding["faces"][0]["subject_id"] == "x"
    assert finding["rule_id"] == "BIPA-15B-NO-RELEASE"


@pytest.mark.parametrize("profile,severity,exposure", [
    ("face-templates", "violation", 1000), ("face-detection-only", "info", 0), ("none", "info", 0)])
def test_processing_profile_sets_severity_and_exposure(tmp_path, centerface, profile, severity, exposure):
    folder = make_folder(tmp_path, **{"a.png": encode(rgb("astronaut"))})
    code, report = audit_json(folder, "--processing", profile)
    assert [f["severity"] for f in report["findings"]][0] == severity
    assert report["summary"]["exposure"]["total"]["negligent"]["high"] == exposure
    assert code == (1 if severity == "violation" else 0)
    assert report["run"]["processing"]["derives_identifiers"] is (profile == "face-templates")


def test_low_confidence_faces_are_flagged_for_review(tmp_path, centerface):
    folder = make_folder(tmp_path, **{"a.png": encode(rgb("astronaut"))})
    code, report = audit_json(folder, "--threshold", "0.97", "--review-threshold", "0.3")
    assert [f["rule_id"] for f in report["findings"]] == ["BIPACHECK-LOW-CONFIDENCE"]
    assert report["findings"][0]["severity"] == "review"
    assert code == 0  # fail-on violation by default
    code, _ = run_cli("audit", folder, "--threshold", "0.97", "--review-threshold", "0.3", "--fail-on", "review")
    assert code == 1


def test_fingerprints_are_stable_across_runs_and_renames_but_not_edits(tmp_path, demo_ledger, centerface):
    _, first = audit_json(DEMO / "photos", "--ledger", demo_ledger, "--as-of", AS_OF)
    _, second = audit_json(DEMO / "photos", "--ledger", demo_ledger, "--as-of", AS_OF)
    prints = lambda r: sorted(f["fingerprint"] for f in r["findings"])  # noqa: E731
    assert prints(first) == prints(second) and len(set(prints(first))) == len(prints(first))

    copy = tmp_path / "renamed"
    shutil.copytree(DEMO / "photos", copy)
    (copy / "bob_profile.png").rename(copy / "IMG_0001")
    _, renamed = audit_json(copy, "--ledger", demo_ledger, "--as-of", AS_OF)
    assert prints(renamed) == prints(first)

    Image.open(copy / "IMG_0001").convert("RGB").save(copy / "IMG_0001", "BMP")  # same face, new bytes
    _, edited = audit_json(copy, "--ledger", demo_ledger, "--as-of", AS_OF)
    assert set(prints(edited)) != set(prints(first))


def test_exit_codes(tmp_path, demo_ledger, centerface):
    clean = make_folder(tmp_path, **{"scene.jpg": encode(rgb("coffee"), "JPEG")})
    assert run_cli("audit", clean, "--ledger", demo_ledger)[0] == 0
    (clean / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 20)
    assert run_cli("audit", clean, "--ledger", demo_ledger)[0] == 3
    assert run_cli("audit", clean, "--ledger", demo_ledger, "--fail-on", "review")[0] == 1
    code, out = run_cli("audit", clean, "--ledger", tmp_path / "missing.db")
    assert code == 2 and "Error" in out
    (tmp_path / "junk.db").write_bytes(b"not a database at all" * 100)
    assert run_cli("audit", clean, "--ledger", tmp_path / "junk.db")[0] == 2
    code, out = run_cli("audit", clean, "--as-of", "2026-01-01T10:00:00")
    assert code == 2 and "time zone" in out
    assert run_cli("audit", clean, "--processing", "telepathy")[0] == 2


def test_output_file_is_written_whole(tmp_path, demo_ledger, centerface):
    target = tmp_path / "report.json"
    code, _ = run_cli("audit", DEMO / "photos", "--ledger", demo_ledger, "--as-of", AS_OF,
                      "--format", "json", "--output", target)
    assert code == 1
    report = json.loads(target.read_text())
    jsonschema.validate(report, report_schema())
    assert not list(tmp_path.glob(".bipacheck-*"))  # no temporary file left behind


def test_table_format_summarises_the_worst_photos(demo_ledger, centerface):
    code, out = run_cli("audit", DEMO / "photos", "--ledger", demo_ledger, "--as-of", AS_OF)
    assert code == 1
    assert "4 without a valid written release" in out
    assert out.index("dave_event.webp") < out.index("notes.jpg")  # violations before review items
    assert "not legal advice" in out and "total" in out and "per person" not in out
    assert f"detector centerface on {default_runtime()} (threshold 0.3" in out


def test_python_api_returns_the_report_the_cli_writes(demo_ledger, centerface):
    report = bipacheck.audit([str(DEMO / "photos")], ledger=str(demo_ledger),
                             as_of=datetime(2026, 11, 1, tzinfo=UTC))  # reads the demo's config like the CLI
    data = report.as_dict()
    jsonschema.validate(data, report_schema())
    _, cli_report = audit_json(DEMO / "photos", "--ledger", demo_ledger, "--as-of", AS_OF)
    assert [f["fingerprint"] for f in data["findings"]] == [f["fingerprint"] for f in cli_report["findings"]]
    assert report.failing("violation")


def test_schema_command_prints_the_shipped_schema():
    code, out = run_cli("schema")
    assert code == 0 and json.loads(out)["properties"]["schema_version"]["const"] == "2.7.0"


def test_frames_left_unscanned_are_a_finding_not_a_clean_bill(tmp_path, centerface):
    frames = [Image.fromarray(rgb(n)).resize((256, 256)) for n in ("coffee", "rocket", "astronaut")]
    folder = tmp_path / "anim"
    folder.mkdir()
    frames[0].save(folder / "clip.gif", "GIF", save_all=True, append_images=frames[1:], duration=100)
    code, report = audit_json(folder, "--max-frames", "2")
    assert code == 3  # nothing failing, but not everything was scanned
    (finding,) = report["findings"]  # the face is in frame 3, which was not scanned
    assert finding["rule_id"] == "BIPACHECK-UNSCANNED" and finding["details"]["frames_total"] == 3
    _, report = audit_json(folder)
    assert [f["rule_id"] for f in report["findings"]] == ["BIPA-15B-NO-RELEASE", "BIPA-15A-NO-DEADLINE"]
