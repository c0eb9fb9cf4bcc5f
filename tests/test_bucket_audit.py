"""Nightly bucket audits against a real local S3 server (moto over HTTP, read through s3fs):
incremental re-audits, consent changes without rescans, killed audits that resume, dask."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from datetime import timezone
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from tests.exits import expected_exit
from tests.requirements import require_module

require_module("s3fs")
boto3 = require_module("boto3")
require_module("moto.server")

import bipacheck.scanning.engine  # noqa: E402
from bipacheck.cli import cli  # noqa: E402
from bipacheck.ledger import Ledger  # noqa: E402
from bipacheck.report.formats import report_schema  # noqa: E402
from tests.conftest import bucket_client, fill_prefix  # noqa: E402
from tests.images import encode, rgb, side_by_side  # noqa: E402

BUCKET = "uploads"
REPO = Path(__file__).resolve().parents[1]

ASTRONAUT = encode(rgb("astronaut"), "JPEG", quality=90)  # one face
PAIR = encode(side_by_side("astronaut", "camera"), "JPEG", quality=90)  # two faces
CORPUS = {
    "team/astronaut.jpg": ASTRONAUT,
    "team/pair.jpg": PAIR,
    "scenes/coffee.jpg": encode(rgb("coffee"), "JPEG"),
    "scenes/rocket.png": encode(rgb("rocket")),
    "scenes/chelsea.jpg": encode(rgb("chelsea"), "JPEG"),
    "notes.txt": b"not a photo, just notes\n",
}

pytestmark = pytest.mark.usefixtures("operator")  # tests/conftest.py: an attested Illinois operator


@pytest.fixture(scope="module")
def s3(endpoint):
    return bucket_client(endpoint, BUCKET)


@pytest.fixture
def prefix(s3, request):
    """A fresh prefix per test holding CORPUS."""
    return fill_prefix(s3, BUCKET, request, CORPUS)


def audit(endpoint, source, *args, workers=1) -> dict:
    result = CliRunner().invoke(cli, ["audit", source, "--endpoint-url", endpoint, "--format", "json",
                                      "--workers", str(workers), *map(str, args)])
    report = json.loads(result.output)
    assert result.exit_code == expected_exit(report), result.output
    jsonschema.validate(report, report_schema())
    return report


def outcome(report: dict) -> dict:
    """Everything a report says about the photos: no timestamps (a face's verdicts are judged at the
    upload and audit times without --as-of), no cache statistics."""
    photos = [{**p, "face_records": [{k: v for k, v in f.items() if k != "verdicts"} for f in p["face_records"]]}
              for p in report["photos"]]
    return {
        "findings": sorted((f["fingerprint"], f["rule_id"], f["photo"]["path"]) for f in report["findings"]),
        "summary": report["summary"],
        "photos": photos,
        "skipped": report["skipped"],
    }


def cache_stats(report: dict) -> tuple[int, int, int]:
    c = report["run"]["cache"]
    return c["hits"], c["scanned"], c["dropped"]


@pytest.fixture
def scanned_urls(monkeypatch):
    """URLs that really went through scan_object in this process (--workers 1): a counter around
    the real function, the detector still runs."""
    seen: list[str] = []
    real = bipacheck.scanning.engine.scan_object

    def counting(obj, detector, settings):
        seen.append(obj.url)
        return real(obj, detector, settings)

    monkeypatch.setattr(bipacheck.scanning.engine, "scan_object", counting)
    return seen


def test_bucket_prefix_audit_reports_s3_urls_and_faces(endpoint, prefix, tmp_path, centerface):
    spec = f"s3://{BUCKET}/{prefix}"
    report = audit(endpoint, spec, "--cache", tmp_path / "c.db")
    assert {p["path"] for p in report["photos"]} | {s["path"] for s in report["skipped"]} == set(CORPUS)
    assert report["run"]["root"] == spec  # recorded once; every path is below it
    faces = {Path(p["path"]).name: p["faces"] for p in report["photos"]}
    assert faces["astronaut.jpg"] == 1 and faces["pair.jpg"] == 2
    assert faces["coffee.jpg"] == faces["rocket.png"] == 0
    assert Counter(f["rule_id"] for f in report["findings"]) == {"BIPA-15B-NO-RELEASE": 3,  # one per face
                                                                 "BIPA-15A-NO-DEADLINE": 2,  # per photo
                                                                 "BIPACHECK-UNSCANNED": 1}
    assert cache_stats(report) == (0, len(CORPUS), 0)


def test_reaudit_rescans_exactly_the_added_and_modified_and_drops_the_deleted(
        s3, endpoint, prefix, tmp_path, centerface, scanned_urls):
    spec, cache = f"s3://{BUCKET}/{prefix}", tmp_path / "c.db"
    audit(endpoint, spec, "--cache", cache)
    assert len(scanned_urls) == len(CORPUS)

    s3.put_object(Bucket=BUCKET, Key=f"{prefix}/team/new.jpg", Body=ASTRONAUT)  # added
    s3.put_object(Bucket=BUCKET, Key=f"{prefix}/team/pair.jpg", Body=CORPUS["scenes/coffee.jpg"])  # faces gone
    s3.delete_object(Bucket=BUCKET, Key=f"{prefix}/team/astronaut.jpg")
    scanned_urls.clear()
    second = audit(endpoint, spec, "--cache", cache)
    assert sorted(scanned_urls) == [f"{spec}/team/new.jpg", f"{spec}/team/pair.jpg"]
    assert cache_stats(second) == (len(CORPUS) - 2, 2, 1)
    violations = {Path(f["photo"]["path"]).name for f in second["findings"] if f["severity"] == "violation"}
    assert violations == {"new.jpg"}

    # The cache gave exactly what scanning everything afresh gives, and forgot the deleted object.
    assert outcome(second) == outcome(audit(endpoint, spec, "--no-cache"))
    with sqlite3.connect(cache) as db:
        urls = {u for (u,) in db.execute("SELECT url FROM results")}
    assert f"{spec}/team/astronaut.jpg" not in urls and f"{spec}/team/new.jpg" in urls

    scanned_urls.clear()
    third = audit(endpoint, spec, "--cache", cache)
    assert scanned_urls == [] and cache_stats(third) == (len(CORPUS), 0, 0)


@pytest.mark.parametrize("listing", ["include", "manifest"])
def test_sidecar_only_edits_count_when_the_listing_hides_the_sidecars(s3, endpoint, prefix, tmp_path, centerface,
                                                                      listing):
    from tests.test_cache import ALICE_TAG
    from tests.test_metadata_support import mwg_regions, packet

    spec, cache = f"s3://{BUCKET}/{prefix}", tmp_path / "c.db"
    (tmp_path / "keys.txt").write_text("team/astronaut.jpg\nteam/pair.jpg\nscenes/gone.jpg\n")
    args = ["--include", "**/*.jpg"] if listing == "include" else ["--manifest", tmp_path / "keys.txt"]
    s3.put_object(Bucket=BUCKET, Key=f"{prefix}/team/astronaut.xmp", Body=packet(mwg_regions([])))
    first = audit(endpoint, spec, "--cache", cache, *args)
    assert not any(f["rule_id"] == "BIPACHECK-FACE-TAGS" for f in first["findings"])
    if listing == "manifest":
        assert [p["path"] for p in first["photos"]] == ["team/astronaut.jpg", "team/pair.jpg"]
        assert [(s["path"], s["reason"]) for s in first["skipped"]] == [("scenes/gone.jpg", "not-found")]

    s3.put_object(Bucket=BUCKET, Key=f"{prefix}/team/astronaut.xmp", Body=packet(mwg_regions([ALICE_TAG])))
    second = audit(endpoint, spec, "--cache", cache, *args)
    assert cache_stats(second) == (cache_stats(first)[1] - 1, 1, 0)
    tagged = [f["photo"]["path"] for f in second["findings"] if f["rule_id"] == "BIPACHECK-FACE-TAGS"]
    assert tagged == ["team/astronaut.jpg"]


def test_a_failed_listing_drops_nothing(s3, endpoint, prefix, tmp_path, centerface):
    spec, cache = f"s3://{BUCKET}/{prefix}", tmp_path / "c.db"
    audit(endpoint, spec, "--cache", cache)
    for key in CORPUS:
        s3.delete_object(Bucket=BUCKET, Key=f"{prefix}/{key}")
    # The source cannot be listed at all: nothing is audited (exit 2), and that is not evidence that
    # its objects were deleted.
    result = CliRunner().invoke(cli, ["audit", spec, "--endpoint-url", endpoint, "--cache", str(cache)])
    assert result.exit_code == 2 and "no such bucket or prefix" in result.output
    with sqlite3.connect(cache) as db:
        assert db.execute("SELECT COUNT(*) FROM results").fetchone()[0] == len(CORPUS)


def test_revoked_consent_changes_findings_without_rescanning(endpoint, prefix, tmp_path, centerface):
    spec = f"s3://{BUCKET}/{prefix}"
    first = audit(endpoint, spec, "--no-cache")
    sha = next(p["sha256"] for p in first["photos"] if p["path"].endswith("team/astronaut.jpg"))
    ledger_path = tmp_path / "consent.db"
    ledger = Ledger.create(ledger_path)
    ledger.add_subject("u-1", jurisdictions="US-IL", last_interaction_at="2026-01-01")
    ledger.grant("u-1", "face_geometry", "2025-01-01", consent_id="c-1", method="electronic",
                 purpose="tagging", term="P5Y", notice_elements="collection;purpose;term", purposes="tagging")
    ledger.link("u-1", photo_sha256=sha)
    ledger.close()

    # No --cache: with a ledger the cache lives next to it.
    consented = audit(endpoint, spec, "--ledger", ledger_path, "--as-of", "2026-06-01")
    assert (tmp_path / "consent.db.cache.db").is_file()
    rules = {(Path(f["photo"]["path"]).name, f["rule_id"]) for f in consented["findings"]}
    assert ("astronaut.jpg", "BIPA-15B-NO-RELEASE") not in rules

    ledger = Ledger.open(ledger_path)
    ledger.revoke("c-1", "2026-03-01")
    ledger.close()
    revoked = audit(endpoint, spec, "--ledger", ledger_path, "--as-of", "2026-06-01")
    assert cache_stats(revoked) == (len(CORPUS), 0, 0)  # nothing scanned, nothing read
    rules = {(Path(f["photo"]["path"]).name, f["rule_id"]) for f in revoked["findings"]}
    assert ("astronaut.jpg", "BIPA-15B-REVOKED") in rules


def test_detector_and_setting_changes_rescan_everything(endpoint, prefix, tmp_path, centerface):
    spec, cache = f"s3://{BUCKET}/{prefix}", tmp_path / "c.db"
    base = audit(endpoint, spec, "--cache", cache)
    n = len(CORPUS)
    assert cache_stats(audit(endpoint, spec, "--cache", cache, "--threshold", "0.6")) == (0, n, 0)
    assert cache_stats(audit(endpoint, spec, "--cache", cache, "--min-face", "40")) == (0, n, 0)
    assert cache_stats(audit(endpoint, spec, "--cache", cache, "--no-tags")) == (0, n, 0)
    full = audit(endpoint, spec, "--cache", cache, "--full")
    assert cache_stats(full) == (0, n, 0) and full["run"]["cache"]["full"] is True
    # Each setting keeps its own rows: going back to the first settings is all hits again.
    again = audit(endpoint, spec, "--cache", cache)
    assert cache_stats(again) == (n, 0, 0) and outcome(again) == outcome(base)
    assert len({r["run"]["cache"]["fingerprint"] for r in (base, full)}) == 1


# -- several processes ----------------------------------------------------------------------

BIG = 20  # objects: more than the engine scans in-process before starting worker processes


def big_corpus(s3, prefix: str) -> None:
    """Objects large enough that scanning takes a while (so a kill lands mid-audit)."""
    for i in range(BIG):
        image = side_by_side("astronaut", "camera", "coffee", height=360 + 4 * i)
        s3.put_object(Bucket=BUCKET, Key=f"{prefix}/big/{i:02d}.jpg", Body=encode(image, "JPEG", quality=85))


def popen_audit(endpoint, spec, cache, out) -> subprocess.Popen:
    command = [sys.executable, "-m", "bipacheck.cli", "audit", spec, "--endpoint-url", endpoint,
               "--workers", "2", "--cache", str(cache), "--format", "json", "-o", str(out), "-q"]
    # A session of its own, so that killpg reaches the workers too and nothing else.
    return subprocess.Popen(command, env={**os.environ, "PYTHONPATH": str(REPO)}, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def rows(cache: Path) -> int:
    if not cache.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{cache}?mode=ro", uri=True, timeout=5) as db:
            return db.execute("SELECT COUNT(*) FROM results").fetchone()[0]
    except sqlite3.OperationalError:  # tables not created yet
        return 0


def wait_for_rows(proc, cache: Path, at_least: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while rows(cache) < at_least:
        assert proc.poll() is None, proc.stderr.read()
        assert time.monotonic() < deadline, "the audit wrote no results"
        time.sleep(0.01)


def pool_workers(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as fh:
        kids = [int(p) for p in fh.read().split()]
    return [k for k in kids if b"spawn_main" in Path(f"/proc/{k}/cmdline").read_bytes()]


def test_killed_audit_resumes_to_the_report_of_an_uninterrupted_run(s3, endpoint, prefix, tmp_path, centerface):
    big_corpus(s3, prefix)
    spec, cache = f"s3://{BUCKET}/{prefix}/big", tmp_path / "c.db"
    proc = popen_audit(endpoint, spec, cache, tmp_path / "killed.json")
    wait_for_rows(proc, cache, 2)
    os.killpg(proc.pid, signal.SIGKILL)  # the parent and its workers, mid-audit
    proc.wait()
    done = rows(cache)
    assert 0 < done < BIG, "the kill should land mid-audit"
    assert not (tmp_path / "killed.json").exists()

    resumed = audit(endpoint, spec, "--cache", cache, workers=2)
    assert cache_stats(resumed)[:2] == (done, BIG - done)  # nothing finished is scanned again
    fresh = audit(endpoint, spec, "--cache", tmp_path / "fresh.db", workers=2)
    assert cache_stats(fresh) == (0, BIG, 0)
    assert outcome(resumed) == outcome(fresh)
    assert fresh["summary"]["faces"] >= 2 * BIG


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="finds worker processes through /proc")
def test_a_killed_worker_stops_the_audit_cleanly_and_it_resumes(s3, endpoint, prefix, tmp_path, centerface):
    big_corpus(s3, prefix)
    spec, cache = f"s3://{BUCKET}/{prefix}/big", tmp_path / "c.db"
    proc = popen_audit(endpoint, spec, cache, tmp_path / "report.json")
    try:
        wait_for_rows(proc, cache, 2)
        os.kill(pool_workers(proc.pid)[0], signal.SIGKILL)  # e.g. the kernel's OOM killer
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    if rows(cache) < BIG:  # unless the kill came after the last scan, the audit must stop, not hang
        assert proc.returncode == 2 and "worker process died" in err and "again to resume" in err, err
    done = rows(cache)
    resumed = audit(endpoint, spec, "--cache", cache, workers=2)
    assert cache_stats(resumed)[:2] == (done, BIG - done)


def test_dask_local_cluster_gives_the_process_pool_report(s3, endpoint, prefix, tmp_path, centerface):
    require_module("distributed")
    spec = f"s3://{BUCKET}/{prefix}"
    pool = audit(endpoint, spec, "--cache", tmp_path / "pool.db", workers=2)
    dask = audit(endpoint, spec, "--cache", tmp_path / "dask.db", "--dask", "local", workers=2)
    assert outcome(dask) == outcome(pool)
    assert cache_stats(dask) == (0, len(CORPUS), 0)
    # and the dask run's cache serves a plain re-audit
    assert cache_stats(audit(endpoint, spec, "--cache", tmp_path / "dask.db")) == (len(CORPUS), 0, 0)


def test_without_processing_events_a_bucket_objects_last_modified_is_its_upload_time(endpoint, prefix, s3):
    spec = f"s3://{BUCKET}/{prefix}"
    listed = s3.head_object(Bucket=BUCKET, Key=f"{prefix}/team/astronaut.jpg")["LastModified"]
    report = audit(endpoint, f"{spec}/team/astronaut.jpg", "--as-of", "2999-01-01", "--no-cache")
    (finding,) = [f for f in report["findings"] if f["rule_id"] == "BIPA-15B-NO-RELEASE"]
    times = finding["details"]["exposure"]["processing"]
    assert [t["source"] for t in times] == ["upload-time", "audit-date"]
    assert times[0]["at"] == listed.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
