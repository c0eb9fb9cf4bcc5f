"""Videos in audits (issue 26): folders, the pre-commit hook, git history, the ledger, the reports.

Real detector, real videos made at test time by fixtures/make_video.py (scikit-image faces composited
into frames: the astronaut's face on screen from FACE_FROM to FACE_TO, 2.0-4.0 s), CliRunner, real git.
"""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import io
import json
import os
import subprocess
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from click.testing import CliRunner

from bipacheck.cli import cli
from bipacheck.ledger import Ledger
from bipacheck.report.formats import report_schema
from bipacheck.scanning import scan as scan_module
from tests.conftest import ATTESTATION
from tests.exits import expected_exit
from tests.requirements import require_module, require_tool
from tests.test_audit import make_folder
from tests.test_check import validate_sarif
from tests.test_sources_history import Repo, isolated_git  # noqa: F401 (fixture)

require_module("av")

_spec = importlib.util.spec_from_file_location("make_video", Path(__file__).resolve().parents[1] / "fixtures" /
                                               "make_video.py")
make_video = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_video)

pytestmark = pytest.mark.usefixtures("operator")  # an attested Illinois operator: faces are violations

NOTICE = "collection;purpose;term"


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("clips")
    return {"face.mp4": make_video.face_video(folder / "face.mp4").read_bytes(),
            "faststart.mp4": make_video.face_video(folder / "faststart.mp4", faststart=True).read_bytes(),
            "face.webm": make_video.face_video(folder / "face.webm").read_bytes(),
            "scenes.mp4": make_video.scene_video(folder / "scenes.mp4", cut_at=3.0).read_bytes()}


def folder_with(tmp_path: Path, **files: bytes) -> Path:
    return make_folder(tmp_path, "media", **files)


def audit(*args) -> tuple[int, dict]:
    result = CliRunner().invoke(cli, ["audit", *map(str, args), "--format", "json", "--no-cache"])
    assert result.output.startswith("{"), result.output
    report = json.loads(result.output)
    jsonschema.validate(report, report_schema())
    assert result.exit_code == expected_exit(report), result.output
    return result.exit_code, report


def render(fmt: str, *args) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["audit", *map(str, args), "--format", fmt, "--no-cache"])
    return result.exit_code, result.output


def ledger_linking(tmp_path: Path, sha: str, *, box=None, time_s=None, release: bool = True) -> Path:
    ledger = Ledger.create(tmp_path / "l.db")
    ledger.add_subject("astro", jurisdictions="US-IL", last_interaction_at="2026-01-01")
    if release:
        ledger.grant("astro", "face_geometry", "2025-01-01", consent_id="c-astro", method="electronic",
                     purpose="photo tagging", purposes="tagging", term="P5Y", notice_elements=NOTICE,
                     signer_role="subject")
    ledger.link("astro", photo_sha256=sha, box=box, time_s=time_s)
    ledger.close()
    return tmp_path / "l.db"


def the_track(report: dict, name: str = "face.mp4") -> tuple[dict, dict]:
    (row,) = [p for p in report["photos"] if p["path"].endswith(name)]
    (face,) = row["face_records"]
    return row, face


@pytest.mark.parametrize("name", ["face.mp4", "face.webm"])
def test_a_face_on_screen_from_2_to_4_s_is_one_track_and_a_violation_without_consent(tmp_path, clips, name,
                                                                                        centerface):
    code, report = audit(folder_with(tmp_path, **{name: clips[name], "scenes.mp4": clips["scenes.mp4"]}))
    assert code == 1
    row, face = the_track(report, name)
    assert row["kind"] == "video" and row["format"] == ("MP4" if name.endswith("mp4") else "WEBM")
    assert row["video"]["coverage"]["complete"] is True and "complete" in row["video"]["coverage"]["statement"]
    assert row["video"]["duration_s"] == pytest.approx(6.0, abs=0.2)
    track = face["track"]
    assert track["start_s"] == pytest.approx(make_video.FACE_FROM, abs=0.5)
    assert track["end_s"] == pytest.approx(make_video.FACE_TO, abs=0.5)
    assert track["start_s"] <= track["best_time_s"] <= track["end_s"]
    assert track["may_start_s"] <= track["start_s"] and track["end_s"] <= track["may_end_s"]
    (finding,) = [f for f in report["findings"] if f["rule_id"] == "BIPA-15B-NO-RELEASE"]
    assert finding["severity"] == "violation" and finding["faces"][0]["track"] == track
    assert f"at {track['best_time_s']:.2f} s (on screen {track['start_s']:.2f}-{track['end_s']:.2f} s" \
        in finding["message"]
    (scenes,) = [p for p in report["photos"] if p["path"].endswith("scenes.mp4")]
    assert scenes["kind"] == "video" and scenes["faces"] == 0 and scenes["face_records"] == []
    assert report["summary"]["faces"] == 1 and report["summary"]["unconsented_faces"] == 1
    assert report["summary"]["photos_with_violations"] == 1
    assert [p["key"] for p in report["persons"]] == [f"face:{row['sha256']}:{face['box']}@{track['best_time_s']:.3f}"]


def test_fingerprints_are_stable_and_carry_the_best_time(tmp_path, clips, centerface):
    folder = folder_with(tmp_path, **{"face.mp4": clips["face.mp4"]})
    _, first = audit(folder)
    os.rename(folder / "face.mp4", folder / "renamed.mp4")
    _, second = audit(folder)
    prints = lambda r: sorted(f["fingerprint"] for f in r["findings"] if f["faces"])  # noqa: E731
    assert prints(first) == prints(second) and prints(first)
    from bipacheck.findings.model import fingerprint
    _, face = the_track(first)
    (finding,) = [f for f in first["findings"] if f["rule_id"] == "BIPA-15B-NO-RELEASE"]
    assert finding["fingerprint"] == fingerprint(finding["photo"]["sha256"], "BIPA-15B-NO-RELEASE", face["box"],
                                                 "", face["track"]["best_time_s"])
    assert finding["fingerprint"] != fingerprint(finding["photo"]["sha256"], "BIPA-15B-NO-RELEASE", face["box"])


def test_a_release_linked_to_the_video_clears_it(tmp_path, clips, centerface):
    sha = hashlib.sha256(clips["face.mp4"]).hexdigest()
    folder = folder_with(tmp_path, **{"face.mp4": clips["face.mp4"]})
    code, report = audit(folder, "--ledger", ledger_linking(tmp_path, sha))
    assert code == 0, [f["message"] for f in report["findings"]]
    _, face = the_track(report)
    assert face["subject_id"] == "astro" and face["consent_status"] == "valid"
    assert not [f for f in report["findings"] if f["severity"] == "violation"]


def test_a_box_link_with_a_time_names_the_track_on_screen_then(tmp_path, clips, centerface):
    sha = hashlib.sha256(clips["face.mp4"]).hexdigest()
    folder = folder_with(tmp_path, **{"face.mp4": clips["face.mp4"]})
    box = list(make_video.face_box(3.0))
    (tmp_path / "on").mkdir()
    code, report = audit(folder, "--ledger", ledger_linking(tmp_path / "on", sha, box=box, time_s=3.0))
    _, face = the_track(report)
    assert code == 0 and face["subject_id"] == "astro" and face["consent_status"] == "valid"
    # the same box at a time the face is not on screen names nobody: the track stays unconsented
    (tmp_path / "off").mkdir()
    code, report = audit(folder, "--ledger", ledger_linking(tmp_path / "off", sha, box=box, time_s=5.5))
    (row,) = report["photos"]
    detected, linked = sorted(row["face_records"], key=lambda f: f["source"])
    assert code == 1 and detected["source"] == "detector" and detected["subject_id"] is None
    assert linked["source"] == "ledger" and linked["subject_id"] == "astro"  # a face the ledger knows of


def test_ledger_links_carry_a_time_through_csv_the_api_and_the_cli(tmp_path):
    (tmp_path / "links.csv").write_text("subject_id,photo_path,box,time_s\nastro,media/intro.mp4,10 20 30 40,2.5\n")
    with Ledger.create(tmp_path / "l.db") as ledger:
        ledger.add_subject("astro")
        ledger.import_file(tmp_path / "links.csv")
        plain = ledger.link("astro", photo_path="media/intro.mp4", box=[10, 20, 30, 40])
        (timed, untimed) = sorted(ledger.photo_links(relpath="media/intro.mp4"), key=lambda l: l.time_s is None)
        assert timed.time_s == 2.5 and untimed.time_s is None and timed.link_id != plain.link_id == untimed.link_id
        assert ledger.verify().ok
        with pytest.raises(Exception, match="time in seconds"):
            ledger.link("astro", photo_path="media/intro.mp4", box=[10, 20, 30, 40], time_s=-1)
    result = CliRunner().invoke(cli, ["ledger", "link", str(tmp_path / "l.db"), "astro", "--photo-path", "b.mp4",
                                      "--box", "1 2 3 4", "--time", "7"])
    assert result.exit_code == 0, result.output
    shown = CliRunner().invoke(cli, ["ledger", "show", str(tmp_path / "l.db"), "astro"]).output
    assert "time=7s" in shown and "time=2.5s" in shown


def test_the_video_interval_is_an_option_and_is_reported(tmp_path, clips, operator, centerface):
    folder = folder_with(tmp_path, **{"face.mp4": clips["face.mp4"]})
    _, report = audit(folder, "--video-interval", "0.5")
    row, face = the_track(report)
    assert row["video"]["coverage"]["interval_s"] == 0.5 and row["video"]["settings"]["interval_s"] == 0.5
    assert face["track"]["start_s"] == pytest.approx(make_video.FACE_FROM, abs=0.25)
    (operator / ".bipacheck.toml").write_text("[tool.bipacheck]\nvideo_interval = 2\n" + ATTESTATION)  # the config file
    _, report = audit(folder)
    assert the_track(report)[0]["video"]["coverage"]["interval_s"] == 2.0
    result = CliRunner().invoke(cli, ["audit", str(folder), "--video-interval", "0"])
    assert result.exit_code == 2


def test_a_face_free_video_gives_no_face(tmp_path, clips, centerface):
    code, report = audit(folder_with(tmp_path, **{"scenes.mp4": clips["scenes.mp4"]}))
    assert code == 0 and report["summary"]["faces"] == 0 and report["photos"][0]["kind"] == "video"


@pytest.mark.parametrize("cut", ["zero-length", "truncated"])
def test_a_broken_video_is_skipped_with_its_reason_and_exit_3(tmp_path, clips, cut, centerface):
    data = b"" if cut == "zero-length" else clips["face.mp4"][:300]
    code, report = audit(folder_with(tmp_path, **{"clip.mp4": data}))
    assert code == 3 and report["photos"] == []
    (skip,) = report["skipped"]
    assert skip["path"] == "clip.mp4" and skip["reason"] in ("empty-file", "truncated", "corrupt")
    (finding,) = report["findings"]
    assert finding["rule_id"] == "BIPACHECK-UNSCANNED" and finding["severity"] == "review"


def test_a_video_scanned_in_part_is_review_with_its_unscanned_range(tmp_path, clips, centerface):
    data = clips["faststart.mp4"]  # the index first: the frames before the cut decode
    code, report = audit(folder_with(tmp_path, **{"cut.mp4": data[: len(data) * 3 // 4]}))
    (row,) = report["photos"]
    coverage = row["video"]["coverage"]
    # the face before the cut is a violation (exit 1); the rest was never looked at: never a pass
    assert code == 1 and coverage["complete"] is False and coverage["unscanned"]
    (unscanned,) = [f for f in report["findings"] if f["rule_id"] == "BIPACHECK-UNSCANNED"]
    assert unscanned["severity"] == "review" and unscanned["details"]["reason"] == "video-not-fully-scanned"
    assert unscanned["details"]["unscanned"] == coverage["unscanned"] and "INCOMPLETE" in unscanned["message"]


def test_a_large_video_is_streamed_not_read_whole(tmp_path, clips, monkeypatch, centerface):
    monkeypatch.setattr(scan_module, "WHOLE_READ_BYTES", 1000)
    folder = folder_with(tmp_path, **{"face.mp4": clips["face.mp4"]})
    read_whole = []
    from bipacheck.sources.local import LocalFile
    original = LocalFile.read
    monkeypatch.setattr(LocalFile, "read", lambda self: read_whole.append(self.path) or original(self))
    code, report = audit(folder, "--workers", "1")
    row, face = the_track(report)
    assert code == 1 and read_whole == [] and row["sha256"] == hashlib.sha256(clips["face.mp4"]).hexdigest()
    assert face["track"]["start_s"] == pytest.approx(make_video.FACE_FROM, abs=0.5)


def test_the_cache_keeps_a_video_result_with_its_tracks(tmp_path, clips, centerface):
    folder = folder_with(tmp_path, **{"face.mp4": clips["face.mp4"]})
    cache = tmp_path / "scan.db"
    runs = []
    for _ in range(2):
        result = CliRunner().invoke(cli, ["audit", str(folder), "--format", "json", "--cache", str(cache)])
        runs.append(json.loads(result.output))
    assert runs[1]["run"]["cache"]["hits"] == 1
    (first, _), (second, _) = the_track(runs[0]), the_track(runs[1])
    assert first["video"] == second["video"] and first["sha256"] == second["sha256"]
    assert the_track(runs[0])[1]["track"] == the_track(runs[1])[1]["track"]


def test_sarif_csv_markdown_and_html_carry_the_times(tmp_path, clips, centerface):
    folder = folder_with(tmp_path, **{"face.mp4": clips["face.mp4"]})
    _, report = audit(folder)
    _, face = the_track(report)
    t = face["track"]
    code, out = render("sarif", folder)
    doc = validate_sarif(out)
    (result,) = [r for r in doc["runs"][0]["results"] if r["ruleId"] == "BIPA-15B-NO-RELEASE"]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith("face.mp4")
    assert f"on screen {t['start_s']:.2f}-{t['end_s']:.2f} s" in result["message"]["text"]
    assert result["properties"]["video"] == {"start_s": t["start_s"], "end_s": t["end_s"],
                                             "best_time_s": t["best_time_s"]}
    _, out = render("csv", folder)
    rows = list(csv.DictReader(io.StringIO(out)))
    (row,) = [r for r in rows if r["rule_id"] == "BIPA-15B-NO-RELEASE"]
    assert float(row["start_s"]) == t["start_s"] and float(row["end_s"]) == t["end_s"]
    assert float(row["best_time_s"]) == t["best_time_s"]
    _, out = render("markdown", folder)
    assert f"{t['start_s']:.2f}-{t['end_s']:.2f} s" in out
    _, out = render("html", folder)
    assert f"{t['start_s']:.2f}-{t['end_s']:.2f} s" in out and "data:image/" in out


# -- the pre-commit hook and the history (real git) ---------------------------------------------------

@pytest.fixture
def project(tmp_path, monkeypatch, isolated_git, centerface):
    root = tmp_path / "site"
    (root / "assets").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    Ledger.create(root / "consent.db").close()
    (root / "pyproject.toml").write_text('[project]\nname = "site"\n\n[tool.bipacheck]\nledger = "consent.db"\n'
                                         + ATTESTATION)
    monkeypatch.chdir(root)
    return root


def test_check_blocks_a_staged_video_with_an_unconsented_face(project, clips):
    (project / "assets" / "intro.mp4").write_bytes(clips["face.mp4"])
    (project / "assets" / "b-roll.mp4").write_bytes(clips["scenes.mp4"])
    subprocess.run(["git", "add", "assets"], check=True)
    result = CliRunner().invoke(cli, ["check", "--staged"])
    assert result.exit_code == 1 and "intro.mp4" in result.output and "b-roll.mp4" not in result.output
    result = CliRunner().invoke(cli, ["check", "--staged", "--format", "json"])
    report = json.loads(result.output)
    (finding,) = [f for f in report["findings"] if f["rule_id"] == "BIPA-15B-NO-RELEASE"]
    assert finding["photo"]["path"] == "assets/intro.mp4" and finding["faces"][0]["track"]["samples"] >= 2
    # the face-free video alone passes; an empty file named like a video blocks (never passed over)
    subprocess.run(["git", "rm", "-q", "--cached", "assets/intro.mp4"], check=True)
    assert CliRunner().invoke(cli, ["check", "--staged"]).exit_code == 0
    (project / "assets" / "empty.mov").write_bytes(b"")
    subprocess.run(["git", "add", "assets/empty.mov"], check=True)
    assert CliRunner().invoke(cli, ["check", "--staged"]).exit_code == 3


def test_history_finds_a_deleted_video(tmp_path, clips, isolated_git, centerface):
    repo = Repo(tmp_path / "site")
    added = repo.commit("add the intro", files={"media/intro.mp4": clips["face.mp4"],
                                                "media/b-roll.mp4": clips["scenes.mp4"]})
    repo.commit("remove the intro", remove=("media/intro.mp4",))
    code, report = audit(repo.root, "--history")
    assert code == 1
    (finding,) = [f for f in report["findings"] if f["rule_id"] == "BIPA-15B-NO-RELEASE"]
    assert finding["history"]["commit"] == added and finding["history"]["in_head"] is False
    assert finding["faces"][0]["track"]["start_s"] == pytest.approx(make_video.FACE_FROM, abs=0.5)
    assert {p["kind"] for p in report["photos"]} == {"video"}
    assert not [s for s in report["skipped"] if s["reason"] == "video-not-audited"]


def test_html_report_shows_each_track_on_its_keyframe_with_its_box_and_times(tmp_path, clips, centerface):
    from PIL import Image

    from bipacheck.video import frame_at
    from tests.browser import PageWatch, launch_browser

    folder = folder_with(tmp_path, **{"face.mp4": clips["face.mp4"], "scenes.mp4": clips["scenes.mp4"]})
    _, report = audit(folder)
    _, face = the_track(report)
    t = face["track"]
    assert render("html", folder, "--output", tmp_path / "r.html")[0] == 1
    pw, browser = launch_browser()
    try:
        watch = PageWatch(browser, tmp_path / "r.html")
        card = watch.page.locator("article.photo[data-path='face.mp4']")
        assert card.count() == 1 and watch.errors == [] and watch.foreign_requests == []
        when = card.locator(".when").inner_text()
        assert f"on screen {t['start_s']:.2f}-{t['end_s']:.2f} s" in when and f"{t['best_time_s']:.2f} s" in when
        (rect,) = card.locator("svg rect.box").all()
        assert [int(float(rect.get_attribute(a))) for a in ("x", "y", "width", "height")] == face["box"]
        href = card.locator("svg image").get_attribute("href")
        assert href.startswith("data:image/jpeg;base64,")
    finally:
        browser.close()
        pw.stop()
    # the keyframe is the frame at the track's best time (the whole frame, downscaled: no crop)
    import base64
    shown = np.asarray(Image.open(io.BytesIO(base64.b64decode(href.split(",", 1)[1]))).convert("L"), np.float64)
    at_best = np.asarray(Image.fromarray(frame_at(folder / "face.mp4", t["best_time_s"])).convert("L"), np.float64)
    first = np.asarray(Image.fromarray(frame_at(folder / "face.mp4", 0.0)).convert("L"), np.float64)
    assert shown.shape == at_best.shape
    assert np.abs(shown - at_best).mean() < np.abs(shown - first).mean()


def test_redact_obscures_the_unconsented_track_and_the_copy_audits_clean(tmp_path, clips, centerface):
    folder = folder_with(tmp_path, **{"intro.mp4": clips["face.mp4"], "b-roll.mp4": clips["scenes.mp4"]})
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["redact", str(folder), "--out", str(out), "--no-cache"])
    assert result.exit_code == 0, result.output
    assert "obscure [" in result.output and "on screen" in result.output
    manifest = json.loads((out / "bipacheck-redaction.json").read_text())
    intro = next(p for p in manifest["photos"] if p["source"].endswith("intro.mp4"))
    (face,) = intro["obscured"]
    assert intro["kind"] == "video" and face["track"]["start_s"] == pytest.approx(make_video.FACE_FROM, abs=0.5)
    (track,) = intro["video"]["tracks"]
    assert track["frames"] > 0 and track["may_start_s"] <= face["track"]["start_s"]
    assert intro["output_sha256"] == hashlib.sha256((out / "media" / "intro.mp4").read_bytes()).hexdigest()
    # the copy, audited again: no face without a release is left
    code, report = audit(out / "media")
    assert code == 0 and report["summary"]["faces"] == 0, [f["message"] for f in report["findings"]]
    assert {p["kind"] for p in report["photos"]} == {"video"}


def test_redact_leaves_a_partly_scanned_video_uncopied(tmp_path, clips, centerface):
    data = clips["faststart.mp4"]
    folder = folder_with(tmp_path, **{"cut.mp4": data[: len(data) * 3 // 4]})
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["redact", str(folder), "--out", str(out), "--no-cache"])
    assert result.exit_code == 3 and "not copied (video-not-fully-scanned)" in result.output
    assert not (out / "media" / "cut.mp4").exists()


@pytest.mark.parametrize("streamed", [False, True])
def test_a_video_in_a_bucket_is_audited_and_a_large_one_is_streamed(endpoint, request, clips, monkeypatch, streamed,
                                                                    centerface):
    from bipacheck.sources.remote import BucketObject
    from tests.conftest import bucket_client, fill_prefix

    prefix = fill_prefix(bucket_client(endpoint, "videos"), "videos", request,
                         {"media/intro.mp4": clips["face.mp4"], "media/b-roll.webm": clips["face.webm"]})
    whole, spooled = [], []
    read, consume = BucketObject.read, BucketObject.consume
    monkeypatch.setattr(BucketObject, "read", lambda self: whole.append(self.path) or read(self))
    monkeypatch.setattr(BucketObject, "consume", lambda self, fn: spooled.append(self.path) or consume(self, fn))
    if streamed:  # above the threshold: spooled to a temporary file in blocks, never read whole
        monkeypatch.setattr(scan_module, "WHOLE_READ_BYTES", 1000)
    result = CliRunner().invoke(cli, ["audit", f"s3://videos/{prefix}", "--endpoint-url", endpoint, "--format",
                                      "json", "--workers", "1", "--no-cache"])
    report = json.loads(result.output)
    jsonschema.validate(report, report_schema())
    assert result.exit_code == 1 and report["summary"]["faces"] == 2, result.output
    for row in report["photos"]:
        (face,) = row["face_records"]
        assert row["kind"] == "video" and face["track"]["start_s"] == pytest.approx(make_video.FACE_FROM, abs=0.5)
    assert (len(whole), len(spooled)) == ((0, 2) if streamed else (2, 0))


def test_a_large_photo_in_a_bucket_is_fetched_once_and_scanned_as_a_photo(endpoint, request, monkeypatch,
                                                                          centerface):
    """Above the streaming threshold a photo is spooled to find out it is no video; its bytes are then
    scanned from that copy, not fetched a second time."""
    from bipacheck.sources.remote import BucketObject
    from tests.conftest import bucket_client, fill_prefix
    from tests.images import encode, rgb

    photo = encode(rgb("astronaut"), "JPEG", quality=90)
    prefix = fill_prefix(bucket_client(endpoint, "photos"), "photos", request, {"media/astronaut.jpg": photo})
    whole, spooled = [], []
    read, consume = BucketObject.read, BucketObject.consume
    monkeypatch.setattr(BucketObject, "read", lambda self: whole.append(self.path) or read(self))
    monkeypatch.setattr(BucketObject, "consume", lambda self, fn: spooled.append(self.path) or consume(self, fn))
    monkeypatch.setattr(scan_module, "WHOLE_READ_BYTES", 1000)
    result = CliRunner().invoke(cli, ["audit", f"s3://photos/{prefix}", "--endpoint-url", endpoint, "--format",
                                      "json", "--workers", "1", "--no-cache"])
    report = json.loads(result.output)
    (row,) = report["photos"]
    assert result.exit_code == 1 and row.get("kind", "image") == "image" and row["faces"] == 1, result.output
    assert row["sha256"] == hashlib.sha256(photo).hexdigest()
    assert (len(whole), len(spooled)) == (0, 1)


def test_without_pyav_a_video_is_skipped_with_a_clear_reason(tmp_path, clips, monkeypatch, centerface):
    import sys

    monkeypatch.setitem(sys.modules, "av", None)  # `import av` now fails as without the [video] extra
    code, report = audit(folder_with(tmp_path, **{"face.mp4": clips["face.mp4"]}), "--workers", "1")
    (skip,) = report["skipped"]
    assert code == 3 and skip["reason"] == "video-support-missing" and "bipacheck[video]" in skip["message"]
    result = CliRunner().invoke(cli, ["scan", str(tmp_path / "media"), "--workers", "1"])
    assert result.exit_code == 3 and "video-support-missing" in result.output


def test_scan_lists_a_videos_tracks_and_an_incomplete_one_is_not_scanned_in_full(tmp_path, clips, centerface):
    data = clips["faststart.mp4"]
    folder = folder_with(tmp_path, **{"face.mp4": clips["face.mp4"], "cut.mp4": data[: len(data) * 3 // 4]})
    result = CliRunner().invoke(cli, ["scan", str(folder), "--format", "json"])
    files = {Path(f["path"]).name: f for f in json.loads(result.output)["files"]}
    assert result.exit_code == 3  # the cut video was scanned only in part
    (face,) = files["face.mp4"]["faces"]
    assert files["face.mp4"]["kind"] == "video" and face["track"]["start_s"] == pytest.approx(2.0, abs=0.5)
    assert "not_scanned" not in files["face.mp4"] and "INCOMPLETE" in files["cut.mp4"]["not_scanned"][0]
