"""Requests per object of bucket audits, counted at a local S3 server, against a baseline in the same run.

Starts moto's S3 server in a separate process behind a counting proxy (tests/request_counter.py),
fills a bucket with small real photos (scikit-image's coffee scene, no face) in several layouts, and
runs `bipacheck audit` as a fresh process for each phase: a first audit, an unchanged re-audit, and
a re-audit after one photo changed. Every request the server receives counts, the listing included.
`--baseline DIR` runs the same phases with the bipacheck package in DIR (e.g. `git archive` of an
earlier commit). Needs the test extra (boto3, moto[server], s3fs), not ../shared.

    python bench/bucket_requests.py [--photos 120] [--workers 1 2] [--baseline DIR]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

# layout name -> sidecar names next to photo i (folder-wide files are added per folder below)
LAYOUTS = {
    "photos only": lambda i, name: [],
    "1 photo in 4 with an XMP sidecar": lambda i, name: [name.rsplit(".", 1)[0] + ".xmp"] if i % 4 == 0 else [],
    "Google Takeout (a JSON per photo)": lambda i, name: [name + ".supplemental-metadata.json"],
    "XMP and JSON per photo, Picasa per folder": lambda i, name: [name + ".xmp", name + ".json"],
}
FOLDERS = 4


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fill(s3, bucket: str, prefix: str, layout: str, photos: int, photo: bytes) -> int:
    """Put the layout's objects under prefix; how many objects there are."""
    from concurrent.futures import ThreadPoolExecutor

    objects = {}
    for i in range(photos):
        name = f"IMG_{i:05d}.jpg"
        folder = f"{prefix}/{i % FOLDERS:02d}"
        objects[f"{folder}/{name}"] = photo
        for sidecar in LAYOUTS[layout](i, name):
            objects[f"{folder}/{sidecar}"] = b'{"people": []}' if sidecar.endswith(".json") else \
                b"<x:xmpmeta xmlns:x='adobe:ns:meta/'/>"
    if "Picasa" in layout:
        for f in range(FOLDERS):
            objects[f"{prefix}/{f:02d}/.picasa.ini"] = b"[IMG_00000.jpg]\nfaces=\n"
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda kv: s3.put_object(Bucket=bucket, Key=kv[0], Body=kv[1]), objects.items()))
    return len(objects)


def audit(code: Path, spec: str, endpoint: str, cache: Path, workers: int) -> None:
    command = [sys.executable, "-m", "bipacheck.cli", "audit", spec, "--endpoint-url", endpoint, "--workers",
               str(workers), "--cache", str(cache), "--format", "json", "-q"]
    # cwd: a folder without a bipacheck package in it (python -m puts the cwd first on the path)
    done = subprocess.run(command, env={**os.environ, "PYTHONPATH": str(code)}, cwd=cache.parent,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode not in (0, 1, 3):  # findings or unknown reach are fine here; errors are not
        raise SystemExit(f"audit failed ({done.returncode}): {done.stderr[-2000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=int, default=120, help="photos per layout")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--baseline", type=Path, default=None,
                        help="also audit with the bipacheck package found in this folder, in the same run")
    opts = parser.parse_args()
    try:
        import boto3
        import moto.server  # noqa: F401 - the server the benchmark starts
        import s3fs  # noqa: F401 - what the audits read through
    except ImportError:
        print("skipped: needs the test extra (boto3, moto[server], s3fs)")
        return
    from tests.images import encode, rgb
    from tests.request_counter import RequestCounter

    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1")
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    upstream = f"http://127.0.0.1:{port}"
    codes = {"this checkout": REPO, **({"baseline": opts.baseline.resolve()} if opts.baseline else {})}
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.1)
        counter = RequestCounter(upstream)
        s3 = boto3.client("s3", endpoint_url=upstream)
        s3.create_bucket(Bucket="bench")
        photo = encode(rgb("coffee"), "JPEG", quality=85)
        changed = encode(rgb("chelsea"), "JPEG", quality=85)
        print(f"{opts.photos} photos per layout in {FOLDERS} folders; requests per object, listing included")
        print(f"{'layout':44s} {'objects':>7s} {'workers':>7s} {'code':14s} {'first audit':>24s} "
              f"{'unchanged':>16s} {'1 photo changed':>20s}")
        with tempfile.TemporaryDirectory() as tmp:
            for n, layout in enumerate(LAYOUTS):
                for workers in opts.workers:
                    for label, code in codes.items():
                        prefix = f"l{n}-w{workers}-{label.replace(' ', '-')}"
                        objects = fill(s3, "bench", prefix, layout, opts.photos, photo)
                        spec, cache = f"s3://bench/{prefix}", Path(tmp) / f"{prefix}.db"
                        cells = []
                        for phase in ("first", "unchanged", "changed"):
                            if phase == "changed":
                                s3.put_object(Bucket="bench", Key=f"{prefix}/00/IMG_00000.jpg", Body=changed)
                            counter.clear()
                            audit(code, spec, counter.url, cache, workers)
                            kinds = counter.kinds()
                            detail = " ".join(f"{k}{v}" for k, v in sorted(kinds.items()))
                            cells.append(f"{sum(kinds.values()) / objects:.3f} ({detail})")
                        print(f"{layout:44s} {objects:7d} {workers:7d} {label:14s} {cells[0]:>24s} "
                              f"{cells[1]:>16s} {cells[2]:>20s}", flush=True)
        counter.close()
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
