"""Memory of listing a large S3 prefix: streamed page by page (the audit's path) against held whole.

Starts moto's S3 server in a separate process (so its own memory is not counted), fills a
bucket with N small objects, and measures the peak Python allocation (tracemalloc) of going
through `iter_sources` streamed, and of fsspec's find() over the same prefix (how GCS listings
are held). Needs the test extra (moto, s3fs).

    python bench/listing.py [--objects 40000]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def peak_mb(run) -> tuple[int, float, float]:
    tracemalloc.start()
    start = time.perf_counter()
    count = run()
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return count, seconds, peak / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--objects", type=int, default=40_000)
    opts = parser.parse_args()
    try:
        import boto3
        import moto.server  # noqa: F401 - the server the benchmark starts
    except ImportError:
        print("skipped: needs the test extra (boto3, moto[server], s3fs)")
        return
    from bipacheck.sources import iter_sources
    from bipacheck.sources.remote import open_filesystem, storage_options

    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1")
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.1)
        s3 = boto3.client("s3", endpoint_url=endpoint)
        s3.create_bucket(Bucket="bench")
        keys = [f"p/{i // 1000:04d}/{i:07d}.jpg" for i in range(opts.objects)]
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda k: s3.put_object(Bucket="bench", Key=k, Body=b"x"), keys))
        spec = "s3://bench/p"
        sum(1 for _ in iter_sources([f"{spec}/0000"], endpoint_url=endpoint))  # clients and models loaded once
        fs = open_filesystem("s3", storage_options(endpoint))
        runs = {
            "streamed (audit of a prefix)": lambda: sum(1 for _ in iter_sources([spec], endpoint_url=endpoint)),
            "held whole (fsspec find)": lambda: len(fs.find(spec, detail=True)),
        }
        print(f"{opts.objects} objects under {spec}")
        results = {}
        for name, run in runs.items():
            fs.invalidate_cache()
            results[name] = peak_mb(run)
        base = results["streamed (audit of a prefix)"][2]
        for name, (count, seconds, mb) in results.items():
            print(f"  {name:34s} {count:7d} listed  {seconds:6.1f} s  peak {mb:6.1f} MB  ({mb / base:.1f}x streamed)")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
