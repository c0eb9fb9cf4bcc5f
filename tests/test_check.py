"""`check`, config files, baselines and SARIF output."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from bipacheck.cli import cli
from bipacheck.ledger import Ledger
from tests.conftest import ATTESTATION
from tests.images import encode, rgb, side_by_side

# the official OASIS SARIF 2.1.0 schema, vendored (its $id names the upstream copy)
SARIF_SCHEMA = Path(__file__).resolve().parent / "schemas" / "sarif-schema-2.1.0.json"


def validate_sarif(text: str) -> dict:
    doc = json.loads(text)
    schema = json.loads(SARIF_SCHEMA.read_text())
    jsonschema.Draft7Validator(schema).validate(doc)
    return doc


@pytest.fixture
def project(tmp_path, monkeypatch, centerface):
    """A repository folder with a ledger and [tool.bipacheck] config, as a team would set it up."""
    root = tmp_path / "site"
    (root / "assets").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    Ledger.create(root / "consent.db").close()
    (root / "pyproject.toml").write_text(
        '[project]\nname = "site"\n\n[tool.bipacheck]\nledger = "consent.db"\n'
        'baseline = ".bipacheck-baseline.json"\n' + ATTESTATION)
    (root / "assets" / "team.jpg").write_bytes(encode(side_by_side("astronaut", "camera"), "JPEG", quality=90))
    (root / "assets" / "scene.jpg").write_bytes(encode(rgb("coffee"), "JPEG", quality=90))
    monkeypatch.chdir(root)
    return root


def run(*args) -> tuple[int, str]:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    return result.exit_code, result.output


def test_check_blocks_unconsented_faces_with_fix_instructions(project):
    code, out = run("check", "assets/team.jpg", "assets/scene.jpg")
    assert code == 1
    assert out.count("BIPA-15B-NO-RELEASE") == 2
    assert "bipacheck ledger link" in out and "redact" in out and "baseline update" in out
    assert run("check", "assets/scene.jpg")[0] == 0


def test_linking_consent_in_the_ledger_unblocks(project):
    code, out = run("check", "--format", "json", "assets/team.jpg")
    sha = json.loads(out)["photos"][0]["sha256"]
    ledger = Ledger.open(project / "consent.db")
    for subject in ("astro", "cam"):
        ledger.add_subject(subject, jurisdictions="US-IL", last_interaction_at="2026-01-01")
        ledger.grant(subject, "face_geometry", "2025-01-01", method="electronic", purpose="tagging",
                     term="P5Y", notice_elements="collection;purpose;term", purposes="tagging")
    ledger.link("astro", photo_path="assets/team.jpg", box=[180, 60, 90, 115])  # by repo-relative path
    ledger.link("cam", photo_sha256=sha, box=[707, 115, 65, 85])
    ledger.close()
    code, out = run("check", "assets/team.jpg")
    assert code == 0, out


def test_configuration_errors_exit_2_and_name_the_fix(project, tmp_path, monkeypatch):
    code, out = run("check", "--ledger", "nope.db", "assets/team.jpg")
    assert code == 2 and "bipacheck ledger init" in out
    (project / ".bipacheck.toml").write_text('ledger = "consent.db"\ncolour = "blue"\n')
    code, out = run("check", "assets/team.jpg")
    assert code == 2 and "unknown setting" in out
    (project / ".bipacheck.toml").unlink()


@pytest.mark.parametrize("detector", ["centerface", "cascade"])
def test_the_hook_needs_no_download_and_no_network(project, tmp_path, monkeypatch, detector):
    monkeypatch.setenv("BIPACHECK_MODEL_DIR", str(tmp_path / "never-created"))
    for proxy in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):  # any request would be refused
        monkeypatch.setenv(proxy, "http://127.0.0.1:9")
    code, out = run("check", "--detector", detector, "assets/team.jpg")
    assert code == 1, out  # a real audit ran: the team photo has faces without releases
    assert not (tmp_path / "never-created").exists()


def test_baseline_accepts_renamed_photos_but_not_edited_ones(project):
    assert run("baseline", "create", "assets/team.jpg", "--justification", "staff photo, releases on paper")[0] == 0
    data = json.loads((project / ".bipacheck-baseline.json").read_text())
    # two faces without a release, and one review: no destruction deadline for unlinked faces
    assert sorted(f["rule_id"] for f in data["findings"].values()) == [
        "BIPA-15A-NO-DEADLINE", "BIPA-15B-NO-RELEASE", "BIPA-15B-NO-RELEASE"]
    assert data["settings"]["detector"] == "centerface"
    text = (project / ".bipacheck-baseline.json").read_text()
    assert "team.jpg" not in text and "assets" not in text  # keyed by content, never by path
    assert run("check", "assets/team.jpg")[0] == 0

    os.rename(project / "assets" / "team.jpg", project / "assets" / "renamed.jpg")
    assert run("check", "assets/renamed.jpg")[0] == 0

    from PIL import Image

    Image.open(project / "assets" / "renamed.jpg").save(project / "assets" / "renamed.jpg", "JPEG", quality=70)
    code, out = run("check", "assets/renamed.jpg")
    assert code == 1 and "BIPA-15B-NO-RELEASE" in out


def test_stale_baseline_entries_are_reported(project):
    run("baseline", "create", "assets/team.jpg")
    data = json.loads((project / ".bipacheck-baseline.json").read_text())
    sha = next(iter(data["findings"].values()))["sha256"]
    data["findings"]["0" * 32] = {"rule_id": "BIPA-15B-EXPIRED", "sha256": sha, "justification": None}
    (project / ".bipacheck-baseline.json").write_text(json.dumps(data))
    code, out = run("check", "assets/team.jpg")
    assert code == 0 and "1 baseline entry no longer" in out
    code, out = run("audit", "assets", "--ledger", "consent.db", "--baseline", ".bipacheck-baseline.json",
                    "--format", "json")
    report = json.loads(out)
    assert [s["fingerprint"] for s in report["run"]["baseline"]["stale"]] == ["0" * 32]
    assert code == 0  # accepted findings do not fail
    # update prunes the stale entry of the audited photo
    run("baseline", "update", "assets/team.jpg")
    assert "0" * 32 not in (project / ".bipacheck-baseline.json").read_text()


def test_accepted_findings_leave_every_exposure_figure(project):
    _, out = run("audit", "assets", "--format", "json")  # the config names a baseline that does not exist yet
    before = json.loads(out)["summary"]
    assert before["exposure"]["total"]["violations"]["high"] == 2
    assert before["exposure_by_pack"]["packs"]["bipa"]["violations"]["high"] == 2
    run("baseline", "create", "assets/team.jpg")
    code, out = run("audit", "assets", "--ledger", "consent.db", "--baseline", ".bipacheck-baseline.json",
                    "--format", "json")
    after = json.loads(out)["summary"]
    assert code == 0
    assert after["exposure"]["total"]["violations"]["high"] == 0
    assert after["exposure_by_pack"]["packs"]["bipa"]["violations"]["high"] == 0  # was still 2: one of two recomputed


def test_sarif_output_validates_and_carries_boxes_and_baseline_states(project):
    run("baseline", "create", "assets/team.jpg")
    (project / "assets" / "new.png").write_bytes(encode(rgb("astronaut")))
    (project / "assets" / "broken.jpg").write_bytes(b"\xff\xd8\xff" + b"\x00" * 10)
    code, out = run("audit", "assets", "--ledger", "consent.db", "--baseline", ".bipacheck-baseline.json",
                    "--format", "sarif")
    doc = validate_sarif(out)
    results = doc["runs"][0]["results"]
    states = sorted((Path(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]).name,
                     r["baselineState"], "suppressions" in r) for r in results)
    assert states == [("broken.jpg", "new", False), ("new.png", "new", False), ("new.png", "new", False),
                      ("team.jpg", "unchanged", True), ("team.jpg", "unchanged", True),
                      ("team.jpg", "unchanged", True)]  # each photo: no release per face + no deadline
    rules = {r["id"] for r in doc["runs"][0]["tool"]["driver"]["rules"]}
    assert {r["ruleId"] for r in results} <= rules
    new = next(r for r in results if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith("new.png"))
    rect = new["attachments"][0]["rectangles"][0]
    assert 150 < rect["left"] < 200 and 240 < rect["right"] < 290 and new["level"] == "error"
    assert len(new["partialFingerprints"]["bipacheck/finding/v1"]) == 32
    code, out = run("check", "assets/new.png", "--format", "sarif")
    validate_sarif(out)
    assert code == 1


def test_staged_mode_scans_the_index_not_the_working_tree(project):
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}
    subprocess.run(["git", "add", "assets/scene.jpg"], check=True, env=env)
    # the working tree copy now shows a face, but the staged blob is the face-free scene
    (project / "assets" / "scene.jpg").write_bytes(encode(rgb("astronaut"), "JPEG"))
    assert run("check", "--staged", "assets/scene.jpg")[0] == 0
    assert run("check", "assets/scene.jpg")[0] == 1
    # and the other way round
    subprocess.run(["git", "add", "assets/scene.jpg"], check=True, env=env)
    (project / "assets" / "scene.jpg").write_bytes(encode(rgb("coffee"), "JPEG"))
    code, out = run("check", "--staged")
    assert code == 1 and "scene.jpg" in out


def test_unscannable_images_block_the_commit_and_non_images_pass_quietly(project):
    whole = encode(side_by_side("astronaut", "camera"), "JPEG", quality=90)
    (project / "assets" / "cut.jpg").write_bytes(whole[: len(whole) // 2])  # viewers still show a face
    (project / "assets" / "fake.jpg").write_text("not a photo at all, but named like one\n")
    (project / "assets" / "upload-7f3a").write_bytes(encode(rgb("astronaut"), "JPEG", quality=90))
    (project / "notes.txt").write_text("release notes\n")
    (project / "tool.py").write_text("print('hello')\n")

    code, out = run("check", "assets/cut.jpg")
    assert code == 3 and "NOT SCANNED (truncated)" in out and "assets/cut.jpg" in out
    # the summary names what blocks (never "0 blocking" while blocking), and the reason is said once
    assert "blocked by 1 file(s) not scanned" in out and "0 blocking" not in out
    assert out.count("(truncated)") == 1 and "Not scanned (truncated)" not in out
    code, out = run("check", "assets/fake.jpg")
    assert code == 3 and "NOT SCANNED (unsupported-format)" in out
    # content decides: an extension-less photo is checked, text and code are passed over
    code, out = run("check", "assets/upload-7f3a", "notes.txt", "tool.py")
    assert code == 1 and "assets/upload-7f3a" in out and "BIPA-15B-NO-RELEASE" in out
    code, out = run("check", "notes.txt", "tool.py")
    assert code == 0 and "NOT SCANNED" not in out
    # the API says the same as the hook
    import bipacheck

    assert bipacheck.check(["assets/cut.jpg"]).exit_code == 3
    assert bipacheck.check(["notes.txt"]).exit_code == 0


def test_every_argument_after_a_double_dash_is_a_file(project):
    """A committed file named like an option is a file to check, never an option obeyed (the hook's
    entry ends with `--`, so pre-commit's file names all come after it)."""
    (project / "--fail-on=never").write_bytes(b"")
    code, out = run("check", "--", "--fail-on=never", "assets/team.jpg")
    assert code == 1 and "BIPA-15B-NO-RELEASE" in out
    manifest = (Path(__file__).resolve().parents[1] / ".pre-commit-hooks.yaml").read_text()
    entry = next(line for line in manifest.splitlines() if line.strip().startswith("entry:"))
    assert entry.split() == ["entry:", "bipacheck", "check", "--"]


def test_every_format_pillow_reads_is_checked_by_content(project):
    """A face in a PPM named .dat (or a TGA named .bin) is an image whatever its name; a PDF, an HDF5
    file or an empty __init__.py is not, and passes like source code."""
    face = side_by_side("astronaut", "camera")
    for name, fmt in (("frame.dat", "PPM"), ("texture.bin", "TGA")):
        (project / "assets" / name).write_bytes(encode(face, fmt))
        code, out = run("check", f"assets/{name}")
        assert code == 1 and "BIPA-15B-NO-RELEASE" in out and f"assets/{name}" in out, (name, out)
    (project / "manual.pdf").write_bytes(encode(rgb("coffee")[::4, ::4], "PDF"))
    (project / "data.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(64))
    (project / "__init__.py").write_bytes(b"")
    code, out = run("check", "manual.pdf", "data.h5", "__init__.py")
    assert code == 0 and "NOT SCANNED" not in out, out
    (project / "assets" / "empty.jpg").write_bytes(b"")  # named like an image: still blocks
    code, out = run("check", "assets/empty.jpg")
    assert code == 3 and "NOT SCANNED (empty-file)" in out


def test_check_spreads_files_over_worker_processes(project, monkeypatch):
    """A commit of many photos goes to a process pool (one model load per worker), with the same
    findings as scanning them one by one in this process; a few photos stay in the hook's process."""
    import concurrent.futures as cf

    from PIL import Image

    from bipacheck.scanning import engine

    pools = []

    class CountedPool(cf.ProcessPoolExecutor):
        def __init__(self, *args, **kwargs):
            pools.append(self)
            super().__init__(*args, **kwargs)

    base = Image.fromarray(side_by_side("astronaut", "camera")).resize((512, 256))
    files = []
    for i in range(engine.INLINE_AHEAD_PER_WORKER * 2 + 1):  # more than two workers' look-ahead
        (project / "assets" / f"p{i}.png").write_bytes(encode(base.rotate(i)))
        files.append(f"assets/p{i}.png")
    monkeypatch.setattr(engine.cf, "ProcessPoolExecutor", CountedPool)
    pooled = json.loads(run("check", "--workers", "2", "--format", "json", *files)[1])
    assert len(pools) == 1
    inline = json.loads(run("check", "--workers", "1", "--format", "json", *files)[1])
    assert len(pools) == 1  # one worker: scanned in this process
    run("check", "--workers", "2", *files[:3])
    assert len(pools) == 1  # a few photos: this process, where ONNX Runtime's threads use every core
    assert [f["fingerprint"] for f in pooled["findings"]] == [f["fingerprint"] for f in inline["findings"]]
    assert len(pooled["findings"]) >= len(files)


def test_without_an_attestation_an_unconsented_face_still_blocks_the_commit(tmp_path, monkeypatch, centerface):
    """No processing region stated: whether BIPA reaches the face is unknown, so the finding is a
    review, and the hook blocks (exit 3) rather than passing a face nobody could clear."""
    root = tmp_path / "site"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    Ledger.create(root / "consent.db").close()
    (root / ".bipacheck.toml").write_text('ledger = "consent.db"\n')  # no [org] table
    (root / "team.jpg").write_bytes(encode(side_by_side("astronaut", "camera"), "JPEG", quality=90))
    monkeypatch.chdir(root)
    code, out = run("check", "team.jpg")
    assert code == 3 and "REACH UNKNOWN" in out and "processing_regions" in out
    import bipacheck

    assert bipacheck.check("team.jpg").exit_code == 3
    assert run("audit", "team.jpg", "--quiet")[0] == 3
