"""The scan engine: input order whatever the executor, bounded streaming, cache hits never read,
workers by default, and a progress bar only where someone is watching."""

from __future__ import annotations

import dataclasses
import json
import os
import pty
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from bipacheck.scanning import engine
from bipacheck.scanning.cache import open_cache
from bipacheck.cli import cli
from bipacheck.scanning.engine import DetectorConfig, default_workers, run_scans
from bipacheck.scanning.scan import ScanSettings
from bipacheck.scanning.step import listed_ahead
from bipacheck.sources import iter_sources
from tests.exits import expected_exit
from tests.images import SCENES, encode, rgb
from tests.requirements import require_module

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """24 small real photos (more than the engine keeps in-process), plus two non-photos."""
    root = tmp_path_factory.mktemp("engine")
    names = ["astronaut", "camera", *SCENES[:10]]
    for i in range(24):
        arr = rgb(names[i % len(names)])[::2, ::2]
        (root / f"{i:02d}.jpg").write_bytes(encode(arr, "JPEG", quality=70 + i))
    (root / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\0" * 40)
    (root / "readme.txt").write_text("not a photo")
    return root


def listing(folder: Path) -> list:
    return list(iter_sources([str(folder)]))


@dataclasses.dataclass(frozen=True)
class CountingLocation:
    """The real location, plus a count of reads in this process."""

    inner: object
    reads: list

    def read(self) -> bytes:
        self.reads.append(1)
        return self.inner.read()

    def sibling(self, name):
        return self.inner.sibling(name)


def test_two_workers_return_the_serial_results_in_input_order(folder, centerface):
    entries = listing(folder)
    serial = list(run_scans(iter(entries), DetectorConfig(), ScanSettings(), workers=1, detector=centerface))
    pooled = list(run_scans(iter(entries), DetectorConfig(), ScanSettings(), workers=2, detector=centerface))
    assert [r.url for r in pooled] == [e.url for e in entries]
    assert pooled == serial
    assert sum(bool(getattr(r, "faces", None)) for r in serial) >= 2


def test_cache_hits_are_decided_before_dispatch_and_never_read(folder, tmp_path, centerface):
    settings, reads = ScanSettings(), []
    with open_cache(tmp_path / "c.db", centerface.settings(), settings, sources=[str(folder)]) as cache:
        first = list(run_scans(iter(listing(folder)), DetectorConfig(), settings, detector=centerface, cache=cache))
    counted = [dataclasses.replace(e, location=CountingLocation(e.location, reads)) for e in listing(folder)]
    with open_cache(tmp_path / "c.db", centerface.settings(), settings, sources=[str(folder)]) as cache:
        again = list(run_scans(iter(counted), DetectorConfig(), settings, workers=2, detector=centerface,
                               cache=cache))
        assert cache.stats.hits == len(counted) and cache.stats.scanned == 0
    assert again == first and reads == []


def test_sources_are_streamed_not_listed_up_front(folder, centerface):
    pulled = 0

    def endless():
        nonlocal pulled
        entries = listing(folder)
        while True:
            for entry in entries:
                pulled += 1
                yield entry

    results = run_scans(endless(), DetectorConfig(), ScanSettings(), workers=2, detector=centerface)
    for _ in range(40):
        next(results)
    results.close()  # stops the workers
    ahead = engine.INLINE_AHEAD_PER_WORKER * 2 + engine.IN_FLIGHT_PER_WORKER * 2 + 1
    assert 40 <= pulled <= 40 + ahead


def test_long_runs_of_cache_hits_are_streamed_too(folder, tmp_path, centerface):
    settings = ScanSettings()
    with open_cache(tmp_path / "c.db", centerface.settings(), settings, sources=[str(folder)]) as cache:
        list(run_scans(iter(listing(folder)), DetectorConfig(), settings, detector=centerface, cache=cache))
    pulled, entries = 0, listing(folder)

    def many():  # a long re-audit where nothing changed
        nonlocal pulled
        for _ in range(1000):
            for entry in entries:
                pulled += 1
                yield entry

    with open_cache(tmp_path / "c.db", centerface.settings(), settings, sources=[str(folder)]) as cache:
        results = run_scans(many(), DetectorConfig(), settings, workers=2, detector=centerface, cache=cache)
        for _ in range(3000):
            next(results)
        results.close()
        assert cache.stats.hits >= 3000 and cache.stats.scanned == 0
    assert pulled <= 3000 + engine.MAX_HELD_BACK + 64  # bounded look-ahead (+ sidecar-stamp queue)


def test_workers_default_to_the_core_count():
    assert default_workers() == len(os.sched_getaffinity(0))
    result = CliRunner().invoke(cli, ["audit", "--help"])
    assert "number of CPU cores" in result.output


def test_progress_bar_only_on_a_terminal_and_not_when_quiet(folder, tmp_path, model_dir):
    command = [sys.executable, "-m", "bipacheck.cli", "audit", str(folder), "--workers", "1",
               "--format", "json", "--cache", str(tmp_path / "c.db")]
    env = {**os.environ, "PYTHONPATH": str(REPO), "TERM": "xterm", "COLUMNS": "160"}

    def stderr_on_a_terminal(*extra) -> str:
        parent, child = pty.openpty()
        proc = subprocess.run([*command, *extra], stdout=subprocess.PIPE, stderr=child, env=env, timeout=300)
        os.close(child)
        chunks = []
        while True:
            try:
                chunk = os.read(parent, 65536)
            except OSError:  # the terminal closed
                break
            if not chunk:
                break
            chunks.append(chunk)
        os.close(parent)
        assert proc.returncode == expected_exit(json.loads(proc.stdout))  # the report itself is untouched by the bar
        return b"".join(chunks).decode("utf-8", "replace")

    shown = stderr_on_a_terminal()
    assert "scanning" in shown and "26/26" in shown and "ETA" in shown  # a listing this short is counted first
    assert "26 cached" in stderr_on_a_terminal()  # second run: everything from the cache
    assert "scanning" not in stderr_on_a_terminal("--quiet")
    piped = subprocess.run(command, capture_output=True, env=env, timeout=300, text=True)
    assert "scanning" not in piped.stderr


def test_only_a_short_listing_is_read_ahead():
    assert listed_ahead(iter(range(5)), limit=5) == [0, 1, 2, 3, 4]  # its size is known
    longer = listed_ahead(iter(range(7)), limit=5)
    assert not isinstance(longer, list) and list(longer) == list(range(7))  # streamed, nothing lost


def test_an_unreachable_dask_scheduler_is_a_clean_usage_error(tmp_path, centerface, monkeypatch):
    require_module("distributed")
    import socket

    import dask.config

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (tmp_path / "a.png").write_bytes(encode(rgb("astronaut")))
    start = time.monotonic()
    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}):
        result = CliRunner().invoke(cli, ["scan", str(tmp_path), "--dask", f"tcp://127.0.0.1:{port}"])
    assert result.exit_code == 2
    assert f"cannot reach the dask scheduler tcp://127.0.0.1:{port}" in result.output
    assert time.monotonic() - start < 30  # the configured 2 s, not distributed's default of 30 s or more


class _StubExecutor:
    workers, may_stay_inline = 2, True

    def __init__(self):
        self.stayed = False

    def stay_inline(self):
        self.stayed = True


def test_a_few_large_photos_go_to_the_workers():
    """12 photos of 12 MP are a minute of work: with 2 workers they must not stay in one process
    (counting photos alone kept them there, and 2 workers ran no faster than 1)."""
    from types import SimpleNamespace

    large = [engine._Task(SimpleNamespace(size=4_000_000)) for _ in range(12)]
    executor = _StubExecutor()
    assert list(engine._small_jobs_inline(iter(large), executor)) == large
    assert not executor.stayed
    small = [engine._Task(SimpleNamespace(size=300_000)) for _ in range(12)]  # a hook's few small photos
    executor = _StubExecutor()
    assert list(engine._small_jobs_inline(iter(small), executor)) == small
    assert executor.stayed


def test_pool_workers_share_out_the_cores(monkeypatch):
    monkeypatch.setattr(engine, "default_workers", lambda: 8)
    assert [engine.worker_threads(n) for n in (1, 2, 3, 8, 16)] == [8, 4, 2, 1, 1]
    monkeypatch.setattr(engine, "default_workers", lambda: 2)
    assert engine.worker_threads(2) == 1
