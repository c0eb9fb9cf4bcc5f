"""The real pre-commit tool runs this repository's hook on real commits."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from bipacheck.ledger import Ledger
from tests.conftest import ATTESTATION
from tests.images import encode, rgb, side_by_side
from tests.requirements import require_module, unavailable

CHECKOUT = Path(__file__).resolve().parents[1]


def git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "GIT_AUTHOR_NAME": "Dev", "GIT_AUTHOR_EMAIL": "dev@example.com",
           "GIT_COMMITTER_NAME": "Dev", "GIT_COMMITTER_EMAIL": "dev@example.com"}
    return subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=check)


@pytest.fixture(scope="module")
def checkout_rev() -> str:
    require_module("pre_commit")  # run as `python -m pre_commit`: it need not be on PATH
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "bipacheck", "pyproject.toml",
                            ".pre-commit-hooks.yaml"], cwd=CHECKOUT, capture_output=True, text=True).stdout
    if dirty.strip():
        unavailable("pre-commit installs the hook from a commit; commit the package first")
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=CHECKOUT, capture_output=True, text=True,
                          check=True).stdout.strip()


def test_hook_blocks_then_passes_after_consent_baseline_and_rename(tmp_path, checkout_rev, model_dir):
    repo = tmp_path / "site"
    repo.mkdir()
    git(repo, "init", "-q")
    ledger_path = tmp_path / "consent.db"
    Ledger.create(ledger_path).close()
    (repo / "pyproject.toml").write_text(
        f'[tool.bipacheck]\nledger = "{ledger_path}"\nbaseline = ".bipacheck-baseline.json"\n' + ATTESTATION)
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n- repo: {CHECKOUT}\n  rev: {checkout_rev}\n  hooks:\n  - id: bipacheck\n")
    git(repo, "add", "pyproject.toml", ".pre-commit-config.yaml")
    git(repo, "commit", "-q", "-m", "setup", "--no-verify")
    subprocess.run([sys.executable, "-m", "pre_commit", "install"], cwd=repo, check=True, capture_output=True)

    # 1. a photo with an unconsented face is blocked, with a readable reason
    (repo / "team.jpg").write_bytes(encode(side_by_side("astronaut", "coffee"), "JPEG", quality=90))
    git(repo, "add", "team.jpg")
    blocked = git(repo, "commit", "-m", "add team photo", check=False)
    assert blocked.returncode != 0
    output = blocked.stdout + blocked.stderr
    assert "BIPA-15B-NO-RELEASE" in output and "team.jpg" in output and "written release" in output

    # 2. after the person's release is linked in the ledger, the same commit passes
    ledger = Ledger.open(ledger_path)
    ledger.add_subject("u-1", jurisdictions="US-IL", last_interaction_at="2026-01-01")
    ledger.grant("u-1", "face_geometry", "2025-01-01", method="electronic", purpose="tagging", term="P5Y",
                 notice_elements="collection;purpose;term", purposes="tagging")
    ledger.link("u-1", photo_path="team.jpg")
    ledger.close()
    passed = git(repo, "commit", "-m", "add team photo", check=False)
    assert passed.returncode == 0, passed.stdout + passed.stderr

    # 3. a baselined photo passes, and still passes once renamed
    (repo / "poster.png").write_bytes(encode(rgb("camera")))
    subprocess.run([sys.executable, "-m", "bipacheck.cli", "baseline", "create", "poster.png",
                    "--justification", "public-domain poster"], cwd=repo, check=True, capture_output=True)
    git(repo, "add", "poster.png", ".bipacheck-baseline.json")
    result = git(repo, "commit", "-m", "poster", check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    git(repo, "mv", "poster.png", "poster-final.png")
    result = git(repo, "commit", "-m", "rename", check=False)
    assert result.returncode == 0, result.stdout + result.stderr

    # 4. images are chosen by content: an extension-less photo and a truncated one block the commit,
    #    a text file passes quietly
    (repo / "notes.txt").write_text("meeting notes, no pictures\n")
    git(repo, "add", "notes.txt")
    result = git(repo, "commit", "-m", "notes", check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    (repo / "upload-7f3a").write_bytes(encode(rgb("astronaut"), "JPEG", quality=90))
    git(repo, "add", "upload-7f3a")
    blocked = git(repo, "commit", "-m", "extension-less upload", check=False)
    assert blocked.returncode != 0 and "upload-7f3a" in blocked.stdout + blocked.stderr
    git(repo, "rm", "-q", "--cached", "upload-7f3a")
    whole = encode(side_by_side("astronaut", "coffee"), "JPEG", quality=90)
    (repo / "cut.jpg").write_bytes(whole[: len(whole) // 2])
    git(repo, "add", "cut.jpg")
    blocked = git(repo, "commit", "-m", "truncated photo", check=False)
    output = blocked.stdout + blocked.stderr
    assert blocked.returncode != 0 and "cut.jpg" in output and "NOT SCANNED (truncated)" in output
    git(repo, "rm", "-q", "--cached", "cut.jpg")

    # 5. an edited photo is a new photo: blocked again
    Image.open(repo / "poster-final.png").crop((0, 0, 500, 500)).save(repo / "poster-final.png")
    git(repo, "add", "poster-final.png")
    blocked = git(repo, "commit", "-m", "crop poster", check=False)
    assert blocked.returncode != 0 and "BIPA-15B-NO-RELEASE" in blocked.stdout + blocked.stderr


def test_a_committed_file_named_like_an_option_cannot_turn_the_hook_off(tmp_path, checkout_rev, model_dir):
    """pre-commit appends the staged file names to the hook's entry; without `--` an empty file named
    `--fail-on=never` was read as that option and the blocked photo passed."""
    repo = tmp_path / "site"
    repo.mkdir()
    git(repo, "init", "-q")
    Ledger.create(tmp_path / "consent.db").close()
    (repo / "pyproject.toml").write_text(f'[tool.bipacheck]\nledger = "{tmp_path / "consent.db"}"\n' + ATTESTATION)
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n- repo: {CHECKOUT}\n  rev: {checkout_rev}\n  hooks:\n  - id: bipacheck\n")
    git(repo, "add", "pyproject.toml", ".pre-commit-config.yaml")
    git(repo, "commit", "-q", "-m", "setup", "--no-verify")
    subprocess.run([sys.executable, "-m", "pre_commit", "install"], cwd=repo, check=True, capture_output=True)
    (repo / "--fail-on=never").write_bytes(b"")
    (repo / "team.jpg").write_bytes(encode(side_by_side("astronaut", "coffee"), "JPEG", quality=90))
    git(repo, "add", "--", "--fail-on=never", "team.jpg")
    blocked = git(repo, "commit", "-m", "sneak a face past the hook", check=False)
    assert blocked.returncode != 0, blocked.stdout + blocked.stderr
    assert "BIPA-15B-NO-RELEASE" in blocked.stdout + blocked.stderr
