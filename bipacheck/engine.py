"""Runs scans over a stream of source objects: in this process or in worker processes.

Each worker builds its detector once (model load is the expensive part) and receives picklable
source objects, so no pixels ever cross a process boundary: only boxes, scores and hashes do.
Results come back in input order, so reports are deterministic whatever the worker count.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from .detect.base import Detector
from .detect.factory import DEFAULT_DETECTOR, create_detector
from .scanner import PhotoScan, ScanSettings, SkippedFile, scan_object


@dataclass(frozen=True)
class DetectorConfig:
    name: str = DEFAULT_DETECTOR
    threshold: float | None = None

    def create(self) -> Detector:
        return create_detector(self.name, self.threshold)


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


_worker_state: dict = {}


def _init_worker(config: DetectorConfig, settings: ScanSettings) -> None:
    import cv2

    cv2.setNumThreads(1)  # one process per core already; nested threads only contend
    _worker_state["detector"] = config.create()
    _worker_state["settings"] = settings


def _scan_in_worker(obj) -> PhotoScan | SkippedFile:
    return scan_object(obj, _worker_state["detector"], _worker_state["settings"])


def skipped_from_source(entry) -> SkippedFile:
    return SkippedFile(entry.url, getattr(entry, "relpath", entry.url), entry.reason, entry.message)


def run_scans(
    entries: Iterable,
    config: DetectorConfig,
    settings: ScanSettings,
    *,
    workers: int = 1,
    detector: Detector | None = None,
) -> Iterator[PhotoScan | SkippedFile]:
    """Scan every SourceObject in `entries`; source-level Skipped entries pass through as results.

    `detector` lets a caller reuse an already built detector when workers == 1.
    """
    if workers <= 1:
        detector = detector or config.create()
        for entry in entries:
            if hasattr(entry, "read"):
                yield scan_object(entry, detector, settings)
            else:
                yield skipped_from_source(entry)
        return

    if detector is None:
        # Build one here first so a configuration error (missing weights) surfaces once,
        # cleanly, before any worker starts.
        config.create()
    ctx = multiprocessing.get_context("spawn")  # fork + OpenCV threads can deadlock
    with ctx.Pool(workers, initializer=_init_worker, initargs=(config, settings)) as pool:
        # Source-level skips are kept in place by scanning a stream of either kind.
        yield from pool.imap(_scan_or_pass, entries, chunksize=1)


def _scan_or_pass(entry) -> PhotoScan | SkippedFile:
    if hasattr(entry, "read"):
        return _scan_in_worker(entry)
    return skipped_from_source(entry)
