"""S3 sources against a real local S3 server (moto), reached over HTTP through s3fs."""

from __future__ import annotations

import multiprocessing
import pickle
from concurrent.futures import ProcessPoolExecutor

import pytest

from tests.requirements import require_module

require_module("s3fs")
boto3 = require_module("boto3")
require_module("moto.server")

from bipacheck.errors import UnreadableFile  # noqa: E402
from bipacheck.sources import Skipped, SourceObject, iter_sources  # noqa: E402
from tests.conftest import bucket_client, fill_prefix  # noqa: E402

BUCKET = "audit-photos"


@pytest.fixture(scope="module")
def s3(endpoint):
    return bucket_client(endpoint, BUCKET)


@pytest.fixture
def prefix(s3, request):
    """A fresh prefix per test, filled with a small nested set of objects."""
    name = fill_prefix(s3, BUCKET, request, {
        "a.jpg": b"jpeg a",
        "a.jpg.xmp": b"<x:xmpmeta/>",
        "sub/deep/b.jpg": b"jpeg b, nested",
        "noext": b"no extension",
        "caf\u00e9 photo.jpg": b"unicode key",
    })
    # Neighbours that share the string prefix but are not inside the "folder".
    s3.put_object(Bucket=BUCKET, Key=f"{name}-other/x.jpg", Body=b"other")
    s3.put_object(Bucket=BUCKET, Key=f"{name}/emptydir/", Body=b"")  # console-style placeholder
    return name


def listing(spec: str, endpoint: str, **kw) -> list[SourceObject | Skipped]:
    return list(iter_sources([spec], endpoint_url=endpoint, **kw))


def test_prefix_lists_objects_with_urls_sizes_and_etags(s3, endpoint, prefix):
    items = listing(f"s3://{BUCKET}/{prefix}", endpoint)
    assert all(isinstance(i, SourceObject) for i in items)
    rels = [o.relpath for o in items]
    assert rels == ["a.jpg", "a.jpg.xmp", "caf\u00e9 photo.jpg", "noext", "sub/deep/b.jpg"]
    for obj in items:
        key = f"{prefix}/{obj.relpath}"
        head = s3.head_object(Bucket=BUCKET, Key=key)
        assert obj.url == f"s3://{BUCKET}/{key}"
        assert obj.size == head["ContentLength"]
        assert obj.change_key == f"{head['ETag'].strip(chr(34))}:{head['ContentLength']}"
    assert items[-1].read() == b"jpeg b, nested"


def test_trailing_slash_and_whole_bucket_specs(endpoint, prefix):
    with_slash = listing(f"s3://{BUCKET}/{prefix}/", endpoint)
    assert [o.relpath for o in with_slash][0] == "a.jpg"
    whole = {o.relpath for o in listing(f"s3://{BUCKET}", endpoint)}
    assert f"{prefix}/sub/deep/b.jpg" in whole and f"{prefix}-other/x.jpg" in whole


def test_single_object_spec_yields_that_object(endpoint, prefix):
    [obj] = listing(f"s3://{BUCKET}/{prefix}/sub/deep/b.jpg", endpoint)
    assert (obj.url, obj.relpath) == (f"s3://{BUCKET}/{prefix}/sub/deep/b.jpg", "b.jpg")
    assert obj.read() == b"jpeg b, nested"


def test_second_listing_sees_overwrites_and_new_objects(s3, endpoint, prefix):
    first = {o.relpath: o.change_key for o in listing(f"s3://{BUCKET}/{prefix}", endpoint)}
    s3.put_object(Bucket=BUCKET, Key=f"{prefix}/a.jpg", Body=b"jpeg a, edited")
    s3.put_object(Bucket=BUCKET, Key=f"{prefix}/late.jpg", Body=b"late")
    second = {o.relpath: o for o in listing(f"s3://{BUCKET}/{prefix}", endpoint)}
    assert second["a.jpg"].change_key != first["a.jpg"]
    assert second["a.jpg"].read() == b"jpeg a, edited"
    assert second["noext"].change_key == first["noext"]
    assert "late.jpg" in second and "late.jpg" not in first
    # A single-object spec is answered from object info, which s3fs may serve from its cache
    # of the folder listing above.
    s3.put_object(Bucket=BUCKET, Key=f"{prefix}/a.jpg", Body=b"edited again")
    [single] = listing(f"s3://{BUCKET}/{prefix}/a.jpg", endpoint)
    assert single.size == len(b"edited again")


def test_missing_prefix_or_bucket_is_skipped_not_fatal(endpoint, prefix):
    [missing] = listing(f"s3://{BUCKET}/{prefix}/nothing-here", endpoint)
    assert (missing.url, missing.reason) == (f"s3://{BUCKET}/{prefix}/nothing-here", "not-found")
    [no_bucket] = listing("s3://no-such-bucket-here/photos", endpoint)
    assert isinstance(no_bucket, Skipped) and no_bucket.reason == "not-found"


def test_include_exclude_and_manifest(endpoint, prefix, tmp_path):
    spec = f"s3://{BUCKET}/{prefix}"
    only_jpg = [o.relpath for o in listing(spec, endpoint, include=["**/*.jpg"], exclude=["sub"])]
    assert only_jpg == ["a.jpg", "caf\u00e9 photo.jpg"]
    manifest = tmp_path / "keys.txt"
    manifest.write_text("# batch\nsub/deep/b.jpg\nmissing.jpg\n\nnoext\n", encoding="utf-8")
    items = listing(spec, endpoint, manifest=str(manifest))
    assert [(i.url, type(i).__name__) for i in items] == [
        (f"{spec}/missing.jpg", "Skipped"),
        (f"{spec}/noext", "SourceObject"),
        (f"{spec}/sub/deep/b.jpg", "SourceObject"),
    ]
    assert items[0].reason == "not-found"


def test_sibling_and_vanished_object(s3, endpoint, prefix):
    by_rel = {o.relpath: o for o in listing(f"s3://{BUCKET}/{prefix}", endpoint)}
    assert by_rel["a.jpg"].sibling("a.jpg.xmp") == b"<x:xmpmeta/>"
    assert by_rel["a.jpg"].sibling("nope.xmp") is None
    s3.delete_object(Bucket=BUCKET, Key=f"{prefix}/noext")
    with pytest.raises(UnreadableFile, match="vanished since listing"):
        by_rel["noext"].read()


def _read_in_worker(obj: SourceObject) -> bytes:
    return obj.read()


def test_objects_read_in_a_fresh_worker_process(endpoint, prefix):
    objs = listing(f"s3://{BUCKET}/{prefix}", endpoint, include=["*.jpg"])
    assert [pickle.loads(pickle.dumps(o)).read() for o in objs] == [o.read() for o in objs]
    # spawn: the worker shares no filesystem instance or event loop with this process.
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        assert list(pool.map(_read_in_worker, objs)) == [b"jpeg a", b"unicode key", b"jpeg b, nested"]


def put_many(s3, prefix: str, count: int, bucket: str = BUCKET) -> list[str]:
    from concurrent.futures import ThreadPoolExecutor

    keys = [f"{prefix}/many/{i:05d}.jpg" for i in range(count)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda k: s3.put_object(Bucket=bucket, Key=k, Body=b"x"), keys))
    return keys


def test_a_listing_longer_than_one_page_is_streamed_in_key_order(s3, endpoint):
    keys = put_many(s3, "paged", 1200)  # S3 returns 1,000 keys per request
    spec = f"s3://{BUCKET}/paged"
    items = iter_sources([spec], endpoint_url=endpoint)
    first = next(items)
    assert first.url == f"s3://{BUCKET}/{keys[0]}"
    # Page by page: objects deleted while the first page is being handed out are never listed,
    # which a listing held whole (fetched before the first object came out) would still return.
    s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": k} for k in keys[1000:]]})
    urls = [first.url, *(i.url for i in items)]
    assert len(urls) == 1000  # not 1,200 (and no long diff of URLs if it fails)
    assert urls == [f"s3://{BUCKET}/{k}" for k in keys[:1000]]


def test_sidecars_left_out_by_the_filters_still_go_with_their_photo(s3, endpoint, prefix):
    spec = f"s3://{BUCKET}/{prefix}"
    photos = list(iter_sources([spec], endpoint_url=endpoint, include=["**/*.jpg"]))
    assert [o.relpath for o in photos] == ["a.jpg", "caf\u00e9 photo.jpg", "sub/deep/b.jpg"]
    etag = s3.head_object(Bucket=BUCKET, Key=f"{prefix}/a.jpg.xmp")["ETag"].strip('"')
    assert [o.sidecars for o in photos] == [(("a.jpg.xmp", f"{etag}:12"),), (), ()]
    assert photos[0].sibling("a.jpg.xmp") == b"<x:xmpmeta/>"
