"""`bipacheck audit REPO --history`: every photo reachable in a repository's history is audited once,
and each finding names the commit that added it and whether HEAD still holds it (a photo deleted
from HEAD is still retained in every clone)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

import bipacheck
from bipacheck.cli import cli
from bipacheck.report.formats import report_schema
from tests.exits import expected_exit
from tests.requirements import require_tool
from tests.test_sources_history import FACE_JPEG, SCENE_PNG, Repo, isolated_git  # noqa: F401 (fixture)

require_tool("git", "git")

pytestmark = pytest.mark.usefixtures("operator")  # an attested Illinois operator: faces are violations


@pytest.fixture
def repo(tmp_path) -> tuple[Path, str, str]:
    """A face photo committed, then deleted; a face-free scene that stays."""
    r = Repo(tmp_path / "site")
    added = r.commit("add the team photo", files={"assets/team.jpg": FACE_JPEG, "assets/scene.png": SCENE_PNG})
    deleted = r.commit("remove the team photo", remove=("assets/team.jpg",))
    return r.root, added, deleted


def audit(*args) -> tuple[int, dict]:
    result = CliRunner().invoke(cli, ["audit", *map(str, args), "--format", "json", "--no-cache"])
    report = json.loads(result.output)
    jsonschema.validate(report, report_schema())
    assert result.exit_code == expected_exit(report), result.output
    return result.exit_code, report


def test_a_deleted_face_photo_is_found_in_history_with_the_commit_that_added_it(repo, centerface):
    root, added, _ = repo
    code, report = audit(root, "--history")
    assert code == 1
    (finding,) = [f for f in report["findings"] if f["rule_id"] == "BIPA-15B-NO-RELEASE"]
    history = finding["history"]
    assert history["commit"] == added and history["in_head"] is False and history["head_paths"] == []
    assert history["paths"] == ["assets/team.jpg"] and history["refs"] == ["refs/heads/main"]
    assert finding["photo"]["path"].startswith("git:") and finding["photo"]["path"].endswith(":assets/team.jpg")
    assert f"added in commit {added[:12]}" in finding["message"] and "only in history" in finding["message"]
    photos = {Path(p["path"].split(":", 2)[2]).name: p for p in report["photos"]}
    assert set(photos) == {"team.jpg", "scene.png"} and photos["scene.png"]["history"]["in_head"] is True
    assert report["run"]["history"] == {"since": None, "range": None}


def test_without_history_only_the_work_tree_is_audited_and_the_history_is_named(repo, centerface):
    root, _, _ = repo
    code, report = audit(root)
    assert code == 3 and report["summary"]["faces"] == 0  # the history was not checked: never a pass
    assert [Path(p["path"]).name for p in report["photos"]] == ["scene.png"]
    assert "history" not in report["photos"][0]
    (git,) = report["skipped"]
    assert git["path"] == ".git" and report["run"]["root"] == str(root) and git["reason"] == "git-history" and "--history" in git["message"]
    code, report = audit(root, "--exclude", ".git")
    assert code == 0 and [Path(p["path"]).name for p in report["photos"]] == ["scene.png"]


def test_since_and_range_narrow_the_history(repo, centerface):
    root, added, deleted = repo
    result = CliRunner().invoke(cli, ["audit", str(root), "--history", "--range", f"{added}..{deleted}"])
    assert result.exit_code == 2 and "nothing to audit" in result.output  # the deleting commit adds no photo
    code, report = audit(root, "--history", "--since", "2000-01-01")
    assert report["summary"]["files_listed"] == 2
    result = CliRunner().invoke(cli, ["audit", str(root), "--since", "2000-01-01"])
    assert result.exit_code == 2 and "pass --history" in result.output


def test_the_api_and_a_folder_that_is_no_repository(repo, tmp_path, centerface):
    root, added, _ = repo
    report = bipacheck.audit(str(root), history=True, config=False, workers=1, quiet=True,
                             org={"processing_regions": ["US-IL"]})
    assert report.exit_code == 1 and any(f.provenance and f.provenance["history"]["commit"] == added
                                         for f in report.findings)
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "a.png").write_bytes(SCENE_PNG)
    result = CliRunner().invoke(cli, ["audit", str(plain), "--history"])
    assert result.exit_code == 2 and "git" in result.output
