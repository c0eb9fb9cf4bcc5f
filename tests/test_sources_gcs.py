"""gs:// sources against a real local GCS server (gcp-storage-emulator over HTTP, read through gcsfs)."""

from __future__ import annotations

import json
import os
import socket

import pytest
from click.testing import CliRunner

from tests.requirements import require_module

# gcsfs asks a gRPC API (which the emulator lacks) for each bucket's type, waiting 60 s for an
# answer, unless this is off when gcsfs is first imported
os.environ["GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT"] = "false"
require_module("gcsfs")
emulator = require_module("gcp_storage_emulator.server")

from bipacheck.cli import cli  # noqa: E402
from bipacheck.sources import Skipped, SourceObject, iter_sources  # noqa: E402
from tests.images import encode, rgb  # noqa: E402

BUCKET = "uploads"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def gcs():
    """(endpoint URL, gcsfs filesystem) of an in-memory GCS server on 127.0.0.1 with one bucket."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NO_GCE_CHECK", "true")  # never probe a cloud metadata server for credentials
        port = free_port()
        server = emulator.create_server("127.0.0.1", port, in_memory=True, default_bucket=BUCKET)
        server.start()
        url = f"http://127.0.0.1:{port}"
        mp.setenv("STORAGE_EMULATOR_HOST", url)
        import gcsfs

        fs = gcsfs.GCSFileSystem(endpoint_url=url, token="anon")
        try:
            yield url, fs
        finally:
            server.stop()


@pytest.fixture
def prefix(gcs, request):
    _, fs = gcs
    name = request.node.name.replace("[", "_").replace("]", "")
    for key, body in {"a.jpg": b"jpeg a", "a.jpg.xmp": b"<x:xmpmeta/>", "sub/deep/b.jpg": b"jpeg b",
                      "noext": b"no extension", "caf\u00e9 photo.jpg": b"unicode key"}.items():
        fs.pipe(f"{BUCKET}/{name}/{key}", body)
    fs.pipe(f"{BUCKET}/{name}-other/x.jpg", b"a neighbour sharing the string prefix")
    return name


def test_prefix_lists_every_object_below_it_with_generation_change_keys(gcs, prefix):
    url, fs = gcs
    items = list(iter_sources([f"gs://{BUCKET}/{prefix}"], endpoint_url=url))
    assert all(isinstance(i, SourceObject) for i in items)
    assert [o.relpath for o in items] == ["a.jpg", "a.jpg.xmp", "caf\u00e9 photo.jpg", "noext", "sub/deep/b.jpg"]
    for obj in items:
        info = fs.info(f"{BUCKET}/{prefix}/{obj.relpath}")
        assert obj.url == f"gs://{BUCKET}/{prefix}/{obj.relpath}"
        assert obj.change_key == f"{info['generation']}:{info['size']}"
    assert items[-1].read() == b"jpeg b"
    assert items[0].sibling("a.jpg.xmp") == b"<x:xmpmeta/>" and items[0].sibling("nope.xmp") is None
    assert [name for name, _ in items[0].sidecars] == ["a.jpg.xmp"]


def test_a_rewritten_object_gets_a_new_change_key(gcs, prefix):
    url, fs = gcs
    spec = f"gs://{BUCKET}/{prefix}/a.jpg"
    (before,) = iter_sources([spec], endpoint_url=url)
    fs.pipe(f"{BUCKET}/{prefix}/a.jpg", b"jpeg a, edited")
    (after,) = iter_sources([spec], endpoint_url=url)
    assert before.change_key != after.change_key and after.read() == b"jpeg a, edited"


def test_missing_prefix_filters_and_manifest(gcs, prefix, tmp_path):
    url, _ = gcs
    (gone,) = iter_sources([f"gs://{BUCKET}/{prefix}-never-written"], endpoint_url=url)
    assert isinstance(gone, Skipped) and gone.reason == "not-found"
    spec = f"gs://{BUCKET}/{prefix}"
    assert [o.relpath for o in iter_sources([spec], endpoint_url=url, include=["*.jpg"], exclude=["sub/*"])] == \
        ["a.jpg", "caf\u00e9 photo.jpg"]
    manifest = tmp_path / "keys.txt"
    manifest.write_text("sub/deep/b.jpg\nmissing.jpg\n")
    got = {getattr(i, "relpath", i.url): getattr(i, "reason", "listed")
           for i in iter_sources([spec], endpoint_url=url, manifest=str(manifest))}
    assert got == {"sub/deep/b.jpg": "listed", f"{spec}/missing.jpg": "not-found"}


def test_audit_of_a_gcs_prefix_finds_the_face(gcs, request, centerface, operator):
    url, fs = gcs
    name = request.node.name
    fs.pipe(f"{BUCKET}/{name}/portrait", encode(rgb("astronaut"), "JPEG"))  # extension-less upload key
    fs.pipe(f"{BUCKET}/{name}/scene.png", encode(rgb("coffee")))
    result = CliRunner().invoke(cli, ["audit", f"gs://{BUCKET}/{name}", "--endpoint-url", url, "--format", "json",
                                      "--no-cache", "--workers", "1"])
    report = json.loads(result.output)
    assert report["summary"]["scanned"] == 2 and report["summary"]["faces"] == 1
    (finding,) = [f for f in report["findings"] if f["rule_id"] == "BIPA-15B-NO-RELEASE"]
    assert finding["photo"]["path"] == "portrait" and report["run"]["root"] == f"gs://{BUCKET}/{name}"
    assert finding["severity"] == "violation" and result.exit_code == 1


def test_a_gcs_audit_reads_each_object_once_and_an_unchanged_reaudit_only_lists(gcs, request, tmp_path, centerface,
                                                                                 operator):
    """The same reading rules as S3 (tests/test_bucket_requests.py), through gcsfs, counted at the server."""
    from tests.request_counter import RequestCounter
    from tests.test_cache import ALICE_TAG
    from tests.test_metadata_support import mwg_regions, packet

    url, fs = gcs
    name = request.node.name
    objects = {".picasa.ini": b"[b.png]\nfaces=\n", "a.jpg": encode(rgb("astronaut"), "JPEG"),
               "a.xmp": packet(mwg_regions([])), "b.png": encode(rgb("coffee")), "c.jpg": encode(rgb("rocket"), "JPEG"),
               "c.jpg.json": b'{"people": []}', "notes.txt": b"not a photo"}
    for key, body in objects.items():
        fs.pipe(f"{BUCKET}/{name}/{key}", body)
    counter = RequestCounter(url)

    def audit() -> dict:
        counter.clear()
        result = CliRunner().invoke(cli, ["audit", f"gs://{BUCKET}/{name}", "--endpoint-url", counter.url,
                                          "--format", "json", "--cache", str(tmp_path / "c.db"), "--workers", "1"])
        return json.loads(result.output)

    def read() -> list[str]:
        return sorted(p.rsplit("/", 1)[1] for p in counter.paths("GET"))

    try:
        assert audit()["summary"]["faces"] == 1
        assert counter.kinds() == {"LIST": 1, "GET": len(objects)} and read() == sorted(objects)
        audit()
        assert counter.kinds() == {"LIST": 1}
        fs.pipe(f"{BUCKET}/{name}/a.xmp", packet(mwg_regions([ALICE_TAG])))
        tagged = audit()
        assert read() == ["a.jpg", "a.xmp"]
        assert [f["rule_id"] for f in tagged["findings"] if f["photo"]["path"] == "a.jpg"].count(
            "BIPACHECK-FACE-TAGS") == 1
    finally:
        counter.close()
