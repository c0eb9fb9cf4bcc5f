"""What a bucket audit asks of the store, counted where the store receives it: a local S3 server
(moto over HTTP) behind a proxy that records every request (tests/request_counter.py). A first
audit lists each page once and reads each object once; a re-audit lists and reads only what
changed; a listing, a read or a version that fails is a skip with its reason, never stale data."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from tests.exits import expected_exit
from tests.requirements import require_module

require_module("s3fs")
boto3 = require_module("boto3")
require_module("moto.server")

from bipacheck.cli import cli  # noqa: E402
from bipacheck.errors import UnreadableFile  # noqa: E402
from bipacheck.report.formats import report_schema  # noqa: E402
from bipacheck.sources import Skipped, SourceObject, iter_sources  # noqa: E402
from tests.conftest import bucket_client, fill_prefix  # noqa: E402
from tests.images import encode, rgb  # noqa: E402
from tests.request_counter import RequestCounter  # noqa: E402
from tests.test_cache import ALICE_TAG  # noqa: E402
from tests.test_metadata_support import mwg_regions, packet  # noqa: E402

BUCKET = "counted"
ASTRONAUT = encode(rgb("astronaut"), "JPEG", quality=85)  # one face
COFFEE = encode(rgb("coffee"), "JPEG", quality=85)
ROCKET = encode(rgb("rocket"))
NO_TAGS = packet(mwg_regions([]))
CORPUS = {
    "trip/.picasa.ini": b"[c.png]\nfaces=\n",
    "trip/a.jpg": ASTRONAUT,
    "trip/a.xmp": NO_TAGS,  # Lightroom's name for a.jpg's sidecar
    "trip/b.jpg": COFFEE,
    "trip/b.jpg.json": b'{"title": "b.jpg", "people": []}',  # Google Takeout's
    "trip/c.png": ROCKET,
    **{f"home/{i:02d}.jpg": COFFEE for i in range(8)},
    "home/03.jpg.xmp": NO_TAGS,  # digiKam's
    "notes.txt": b"not a photo\n",
}
SIDECARS = {"trip/.picasa.ini", "trip/a.xmp", "trip/b.jpg.json", "home/03.jpg.xmp"}

pytestmark = pytest.mark.usefixtures("operator")  # tests/conftest.py: an attested Illinois operator


@pytest.fixture(scope="module")
def s3(endpoint):
    return bucket_client(endpoint, BUCKET)


@pytest.fixture(scope="module")
def counter(endpoint):
    proxy = RequestCounter(endpoint)
    yield proxy
    proxy.close()


@pytest.fixture
def prefix(s3, counter, request):
    """A fresh prefix per test holding CORPUS; the counter starts empty and passes everything on."""
    name = fill_prefix(s3, BUCKET, request, CORPUS)
    counter.clear()
    counter.answer, counter.before = (lambda r: None), (lambda r: None)
    return name


def audit(counter, source, *args, workers=1) -> dict:
    """An audit through the counting proxy (the counter is cleared first: it holds this audit's requests)."""
    counter.clear()
    result = CliRunner().invoke(cli, ["audit", source, "--endpoint-url", counter.url, "--format", "json",
                                      "--workers", str(workers), *map(str, args)])
    report = json.loads(result.output)
    assert result.exit_code == expected_exit(report), result.output
    jsonschema.validate(report, report_schema())
    return report


def keys_read(counter, prefix: str) -> list[str]:
    return sorted(p.split(f"/{BUCKET}/{prefix}/", 1)[1] for p in counter.paths("GET"))


def cache_stats(report: dict) -> tuple[int, int, int]:
    c = report["run"]["cache"]
    return c["hits"], c["scanned"], c["dropped"]


def tagged(report: dict) -> list[str]:
    return [Path(f["photo"]["path"]).name for f in report["findings"] if f["rule_id"] == "BIPACHECK-FACE-TAGS"]


def test_a_first_audit_lists_once_and_reads_each_object_once(counter, prefix, tmp_path, centerface):
    report = audit(counter, f"s3://{BUCKET}/{prefix}", "--cache", tmp_path / "c.db")
    assert report["summary"]["files_listed"] == len(CORPUS) and report["summary"]["faces"] == 1
    assert counter.kinds() == {"LIST": 1, "GET": len(CORPUS)}  # no HEAD, no probe of absent names
    assert keys_read(counter, prefix) == sorted(CORPUS)
    assert sum(counter.kinds().values()) / len(CORPUS) <= 1.5


def test_with_worker_processes_each_object_is_still_read_once(counter, prefix, tmp_path, centerface):
    report = audit(counter, f"s3://{BUCKET}/{prefix}", "--no-cache", workers=2)
    assert report["summary"]["files_listed"] == len(CORPUS) and report["summary"]["faces"] == 1
    kinds = counter.kinds()
    assert set(kinds) == {"LIST", "GET"} and kinds["LIST"] == 1
    read = keys_read(counter, prefix)
    # A sidecar listed after its photo gets its own result from the photo's read, whichever process
    # ran it. .picasa.ini is listed before the photos: once in each process that needs it.
    assert sorted(set(read)) == sorted(CORPUS) and all(read.count(k) == 1 for k in CORPUS if k != "trip/.picasa.ini")
    assert read.count("trip/.picasa.ini") <= 2
    assert sum(kinds.values()) / len(CORPUS) <= 1.5


def test_a_sidecar_result_from_its_photos_read_is_the_one_its_own_scan_gives(counter, prefix, centerface):
    from bipacheck.scanning.scan import scan_object

    objects = {o.relpath: o for o in iter_sources([f"s3://{BUCKET}/{prefix}"], endpoint_url=counter.url)}
    photo = scan_object(objects["trip/b.jpg"], centerface)
    assert sorted(photo.sidecar_skips) == ["b.jpg.json"]  # not the folder's Picasa file: read on its own
    key, skip = photo.sidecar_skips["b.jpg.json"]
    own = scan_object(objects["trip/b.jpg.json"], centerface)
    assert key == objects["trip/b.jpg.json"].change_key and own.reason == "sidecar-metadata"
    assert (skip.reason, skip.message, skip.sha256, skip.size) == (own.reason, own.message, own.sha256, own.size)


def test_an_image_named_like_a_sidecar_is_still_scanned_on_its_own(s3, counter, prefix, centerface):
    s3.put_object(Bucket=BUCKET, Key=f"{prefix}/trip/b.jpg.json", Body=ASTRONAUT)  # a photo hiding as JSON
    report = audit(counter, f"s3://{BUCKET}/{prefix}/trip", "--no-cache", workers=1)
    faces = {Path(p["path"]).name: p["faces"] for p in report["photos"]}
    assert faces["b.jpg.json"] == 1 and faces["a.jpg"] == 1


def test_each_reaudit_reads_only_what_changed(s3, counter, prefix, tmp_path, centerface):
    spec, cache = f"s3://{BUCKET}/{prefix}", tmp_path / "c.db"
    audit(counter, spec, "--cache", cache)

    unchanged = audit(counter, spec, "--cache", cache)
    assert counter.kinds() == {"LIST": 1} and cache_stats(unchanged) == (len(CORPUS), 0, 0)

    s3.put_object(Bucket=BUCKET, Key=f"{prefix}/home/05.jpg", Body=ASTRONAUT)
    one_photo = audit(counter, spec, "--cache", cache)
    assert counter.kinds() == {"LIST": 1, "GET": 1} and keys_read(counter, prefix) == ["home/05.jpg"]
    assert one_photo["summary"]["faces"] == 2

    s3.put_object(Bucket=BUCKET, Key=f"{prefix}/trip/a.xmp", Body=packet(mwg_regions([ALICE_TAG])))
    sidecar = audit(counter, spec, "--cache", cache)
    assert keys_read(counter, prefix) == ["trip/a.jpg", "trip/a.xmp"]  # the sidecar once, with its photo
    assert tagged(sidecar) == ["a.jpg"] and cache_stats(sidecar)[1] == 2

    s3.delete_object(Bucket=BUCKET, Key=f"{prefix}/trip/a.xmp")
    deleted = audit(counter, spec, "--cache", cache)
    assert keys_read(counter, prefix) == ["trip/a.jpg"]
    assert tagged(deleted) == [] and cache_stats(deleted) == (len(CORPUS) - 2, 1, 1)

    s3.put_object(Bucket=BUCKET, Key=f"{prefix}/trip/.picasa.ini",
                  Body=b"[c.png]\nfaces=rect64(3f845bcb59418507),8e62398ebda8c1a5\n")
    picasa = audit(counter, spec, "--cache", cache)
    # every photo of the folder is rescanned; the folder's Picasa file is read once for all of them
    assert keys_read(counter, prefix) == ["trip/.picasa.ini", "trip/a.jpg", "trip/b.jpg", "trip/c.png"]
    assert tagged(picasa) == ["c.png"]


def test_sidecars_left_out_by_include_are_read_and_stamped_without_a_request_more(
        s3, counter, prefix, tmp_path, centerface):
    spec, cache = f"s3://{BUCKET}/{prefix}", tmp_path / "c.db"
    photos = [k for k in CORPUS if k.endswith((".jpg", ".png"))]
    audit(counter, spec, "--cache", cache, "--include", "**/*.jpg", "--include", "**/*.png")
    assert counter.kinds() == {"LIST": 1, "GET": len(photos) + len(SIDECARS)}  # photos, sidecars next to them
    s3.put_object(Bucket=BUCKET, Key=f"{prefix}/trip/a.xmp", Body=packet(mwg_regions([ALICE_TAG])))
    second = audit(counter, spec, "--cache", cache, "--include", "**/*.jpg", "--include", "**/*.png")
    assert keys_read(counter, prefix) == ["trip/a.jpg", "trip/a.xmp"] and tagged(second) == ["a.jpg"]


def test_a_large_folder_asks_for_its_picasa_file_once(s3, counter, prefix):
    # 300 objects whose names sort before picasa.ini: more than wait in the window (256)
    for i in range(300):
        s3.put_object(Bucket=BUCKET, Key=f"{prefix}/big/{i:03d}.jpg", Body=b"x")
    s3.put_object(Bucket=BUCKET, Key=f"{prefix}/big/picasa.ini", Body=b"[000.jpg]\nfaces=\n")
    counter.clear()
    objects = list(iter_sources([f"s3://{BUCKET}/{prefix}/big"], endpoint_url=counter.url))
    assert len(objects) == 301 and all(isinstance(o, SourceObject) for o in objects)
    assert {o.sidecars[0][0] for o in objects[:300]} == {"picasa.ini"}
    assert counter.kinds() == {"LIST": 2}  # the listing, and one look-up of big/picasa.ini


# -- failures: a skip with its reason, never stale data ----------------------------------------

ACCESS_DENIED = (403, b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>AccessDenied</Code>"
                      b"<Message>Access Denied</Message></Error>")


def test_a_listing_that_fails_midway_says_so_and_hands_on_nothing_it_could_not_place(s3, counter, prefix):
    from tests.test_sources_s3 import put_many

    keys = put_many(s3, f"{prefix}", 1100, bucket=BUCKET)  # two pages: S3 lists 1,000 keys a request
    counter.answer = lambda r: ACCESS_DENIED if r.kind == "LIST" and "continuation-token" in r.query else None
    spec = f"s3://{BUCKET}/{prefix}/many"
    items = list(iter_sources([spec], endpoint_url=counter.url))
    assert (items[-1].url, items[-1].reason) == (spec, "permission-denied")
    # The first page is accounted for: objects, or skips because their sidecars were never listed
    # (the sidecar names of the page's last objects lie beyond it); nothing from the second page.
    assert [i.url for i in items[:-1]] == [f"s3://{BUCKET}/{k}" for k in keys[:1000]]
    waiting = [i for i in items[:-1] if isinstance(i, Skipped)]
    assert waiting and all(i.reason == "unreadable" and "sidecars" in i.message for i in waiting)
    assert [i for i in items[:-1] if isinstance(i, SourceObject)]


def test_a_read_that_fails_is_skipped_and_read_again_next_time(counter, prefix, tmp_path, centerface):
    spec, cache = f"s3://{BUCKET}/{prefix}", tmp_path / "c.db"
    counter.answer = lambda r: ACCESS_DENIED if r.method == "GET" and r.path.endswith("trip/a.jpg") else None
    first = audit(counter, spec, "--cache", cache)
    (skip,) = [s for s in first["skipped"] if s["path"].endswith("trip/a.jpg")]
    assert (skip["reason"], skip["message"]) == ("unreadable", "permission denied")
    counter.answer = lambda r: None
    second = audit(counter, spec, "--cache", cache)
    assert keys_read(counter, prefix) == ["trip/a.jpg"] and second["summary"]["faces"] == 1


def test_an_object_rewritten_between_listing_and_reading_is_skipped_then_rescanned(
        s3, counter, prefix, tmp_path, centerface):
    spec, cache = f"s3://{BUCKET}/{prefix}", tmp_path / "c.db"
    rewritten = {f"/{BUCKET}/{prefix}/home/05.jpg": ASTRONAUT,  # a face appears after the listing
                 f"/{BUCKET}/{prefix}/trip/a.xmp": packet(mwg_regions([ALICE_TAG]))}

    def rewrite_once(request):
        if request.method == "GET" and request.path in rewritten:
            s3.put_object(Bucket=BUCKET, Key=request.path.split("/", 2)[2], Body=rewritten.pop(request.path))

    counter.before = rewrite_once
    first = audit(counter, spec, "--cache", cache)
    skipped = {Path(s["path"]).name: s for s in first["skipped"]}
    assert skipped["05.jpg"]["reason"] == "unreadable" and "changed since listing" in skipped["05.jpg"]["message"]
    assert "changed since listing" in skipped["a.xmp"]["message"]
    (a_jpg,) = [p for p in first["photos"] if p["path"].endswith("trip/a.jpg")]
    assert any("sidecar a.xmp: changed since listing" in w for w in a_jpg["warnings"])
    assert first["summary"]["faces"] == 1 and tagged(first) == []  # neither old nor new data of 05.jpg

    second = audit(counter, spec, "--cache", cache)
    assert keys_read(counter, prefix) == ["home/05.jpg", "trip/a.jpg", "trip/a.xmp"]
    assert second["summary"]["faces"] == 2 and tagged(second) == ["a.jpg"]
    assert not [s for s in second["skipped"] if "changed" in s["message"]]


def test_a_single_object_spec_finds_its_sidecars_with_narrow_listings(counter, prefix):
    counter.clear()
    (photo,) = iter_sources([f"s3://{BUCKET}/{prefix}/trip/b.jpg"], endpoint_url=counter.url)
    assert [name for name, _ in photo.sidecars] == [".picasa.ini", "b.jpg.json"]
    assert counter.kinds() == {"LIST": 4, "HEAD": 1}  # is it an object? then its sidecars, three narrow LISTs
    counter.clear()
    assert photo.sibling("b.jpg.json") == CORPUS["trip/b.jpg.json"] and photo.sibling("b.xmp") is None
    assert counter.kinds() == {"GET": 1}


def test_a_vanished_sidecar_is_a_warning_not_silence(s3, counter, prefix):
    objects = {o.relpath: o for o in iter_sources([f"s3://{BUCKET}/{prefix}"], endpoint_url=counter.url)
               if not isinstance(o, Skipped)}
    s3.delete_object(Bucket=BUCKET, Key=f"{prefix}/trip/b.jpg.json")
    with pytest.raises(UnreadableFile, match="sidecar b.jpg.json: vanished since listing"):
        objects["trip/b.jpg"].sibling("b.jpg.json")
