"""A new user's first hour: `bipacheck init`, then a plain `bipacheck audit photos` that gives a verdict."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from bipacheck.cli import cli
from bipacheck.ledger import Ledger
from tests.images import encode, rgb, side_by_side

ALL_FACTS = ["--region", "US-IL", "--purpose", "tagging", "--policy-url", "https://photos.example/biometric-policy", "--policy-adopted",
             "2020-01-01", "--retention-schedule", "3 years after the last interaction", "--no-recipients",
             "--no-sells-or-profits", "--security-standard", "encrypted at rest, access logged"]


def run(*args) -> tuple[int, str]:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    return result.exit_code, result.output


@pytest.fixture
def site(tmp_path, monkeypatch) -> Path:
    """An empty folder with a few real face photos (and one without a face), as a new user has."""
    root = tmp_path / "site"
    photos = root / "photos"
    photos.mkdir(parents=True)
    (photos / "portrait.jpg").write_bytes(encode(rgb("astronaut"), "JPEG", quality=90))
    (photos / "cameraman.png").write_bytes(encode(rgb("camera")))
    (photos / "team.jpg").write_bytes(encode(side_by_side("astronaut", "camera"), "JPEG", quality=90))
    (photos / "coffee.jpg").write_bytes(encode(rgb("coffee"), "JPEG", quality=90))
    monkeypatch.chdir(root)
    return root


def test_init_region_then_a_plain_audit_gives_violations_and_no_15b_review(site, centerface):
    # before init: no verdict is possible, and the table says why and what to run
    code, out = run("audit", "photos")
    assert code == 3
    assert "exit code 3:" in out and "bipacheck init --region" in out.split("next step:")[1]

    code, out = run("init", "--region", "US-IL")
    assert code == 0, out
    assert (site / ".bipacheck.toml").is_file() and (site / "consent.db").is_file()

    code, out = run("audit", "photos")  # exactly what a user types next: no flag
    assert code == 1, out
    operator, photos, verdict = out.index("the operator ("), out.index("photos, worst first:"), out.index("verdict:")
    assert operator < photos < verdict  # the operator's findings first, the verdict last
    assert "verdict: FAIL" in out and "exit code 1: findings at or above --fail-on (violation)" in out
    assert re.search(r"next step: 4 face\(s\) have no written release", " ".join(out.split()))
    # faces are grouped per photo: the team photo's two bystanders are one finding line
    team = re.split(r"\n  \S", out.split("team.jpg (2 faces)")[1])[0]  # names relative to the audited root
    assert team.count("BIPA-15B-NO-RELEASE") == 1 and "2 faces (unidentified at" in " ".join(team.split())

    code, out = run("audit", "photos", "--format", "json")
    report = json.loads(out)
    consent = [f for f in report["findings"] if f["rule_id"].startswith("BIPA-15B")]
    assert {f["severity"] for f in consent} == {"violation"}  # no 15(b) finding left in review
    assert len([f for f in consent if f["rule_id"] == "BIPA-15B-NO-RELEASE"]) == report["summary"]["faces"] == 4
    assert report["run"]["ledger"]["path"] == str(site / "consent.db")


def test_unanswered_facts_are_review_and_name_the_flag_that_states_them(site, centerface):
    assert run("init", "--region", "US-IL")[0] == 0
    text = (site / ".bipacheck.toml").read_text()
    assert "# UNANSWERED" in text and "# policy_url = ..." in text  # marked, not stated
    assert "policy_url" not in tomllib.loads(text)["tool"]["bipacheck"]["org"]
    report = json.loads(run("audit", "photos", "--format", "json")[1])
    operator = {f["rule_id"]: f for f in report["findings"] if f["photo"]["sha256"] is None}
    assert operator["BIPA-15A-POLICY"]["severity"] == "review"
    assert "`bipacheck init --policy-url URL --force`" in operator["BIPA-15A-POLICY"]["message"]
    assert "--security-standard TEXT" in operator["BIPA-15E-CARE"]["message"]
    assert "--no-sells-or-profits" in operator["BIPA-15C-PROFIT"]["message"]


def test_init_never_overwrites_and_force_keeps_what_was_stated(site):
    assert run("init", "--region", "US-IL")[0] == 0
    with Ledger.open(site / "consent.db") as ledger:
        ledger.add_subject("u-1")
    before = (site / ".bipacheck.toml").read_text()
    code, out = run("init", "--region", "US-CA")
    assert code == 2 and "exists; --force" in out
    assert (site / ".bipacheck.toml").read_text() == before
    code, out = run("init", "--policy-url", "https://photos.example/policy", "--recipient", "search-co,crm-co",
                    "--force")
    assert code == 0, out
    org = tomllib.loads((site / ".bipacheck.toml").read_text())["tool"]["bipacheck"]["org"]
    assert org["processing_regions"] == ["US-IL"] and org["policy_url"] == "https://photos.example/policy"
    assert [r["name"] for r in org["recipients"]] == ["search-co", "crm-co"]
    with Ledger.open(site / "consent.db") as ledger:
        assert ledger.subject("u-1") is not None  # the ledger is kept, never replaced
    (site / "sub").mkdir()
    (site / "sub" / "consent.db").write_text("not a ledger")
    assert run("init", "sub", "--region", "US-IL")[0] == 2
    (site / "repo").mkdir()
    (site / "repo" / "pyproject.toml").write_text('[tool.bipacheck]\nledger = "c.db"\n')
    code, out = run("init", "repo", "--region", "US-IL")
    assert code == 2 and "would hide it" in out and not (site / "repo" / ".bipacheck.toml").exists()


def test_init_asks_in_a_terminal_and_says_why_each_fact_matters(site):
    answers = "Illinois\nUS-IL, US-WI\ntagging, search\nhttps://photos.example/policy\nsoon\n2024-01-01\n\nnone\nno\n\n"
    result = CliRunner().invoke(cli, ["init", "--ask"], input=answers)
    assert result.exit_code == 0, result.output
    assert "740 ILCS 14/15(a)" in result.output and "Mora v. J&M Plating" in result.output
    # an unusable answer is asked again, not written
    assert "'Illinois' is not a code like US-IL" in result.output and "'soon' is not an ISO 8601 date" in result.output
    assert "Where are face templates made" in result.output
    org = tomllib.loads((site / ".bipacheck.toml").read_text())["tool"]["bipacheck"]["org"]
    assert org["processing_regions"] == ["US-IL", "US-WI"] and org["recipients"] == []
    assert org["processing_purposes"] == ["tagging", "search"]
    assert org["sells_or_profits"] is False and str(org["policy_adopted_at"]) == "2024-01-01"
    assert "retention_schedule" not in org and "security_standard" not in org
    assert "retention_schedule: `bipacheck init --retention-schedule TEXT`" in result.output  # what is still open


def test_example_ledger_files_are_valid_as_written(site, centerface):
    code, out = run("init", *ALL_FACTS, "--examples")
    assert code == 0, out
    examples = sorted((site / "ledger-examples").glob("*.csv"))
    assert [p.name for p in examples] == ["1-subjects.csv", "2-consents.csv", "3-links.csv", "4-processing.csv"]
    for path in examples:
        assert run("ledger", "import", "consent.db", path)[0] == 0
    code, out = run("ledger", "status", "consent.db", "example-1", "--scope", "face_geometry")
    assert out.startswith("valid: ") and "defective" not in out
    photos = site / "photos"
    for other in photos.iterdir():
        other.unlink()
    (photos / "example.jpg").write_bytes(encode(rgb("astronaut"), "JPEG", quality=90))  # the linked photo
    code, out = run("audit", "photos", "--format", "json")
    report = json.loads(out)
    assert code == 0 and report["findings"] == [], out  # every fact stated, the one face consented
    assert report["photos"][0]["face_records"][0]["consent_status"] == "valid"
