"""Runs scans over a stream of source objects: in this process, in worker processes or on a dask cluster.

Cache hits are decided here, in the parent, before anything is dispatched: a hit is never decoded
(a local file is only re-hashed, to prove its content is the one cached).
Misses go to workers that build their detector once (model load is the expensive part) and receive
picklable source objects, so no pixels ever cross a process boundary: only boxes, scores and hashes
do. At most a small window of work is in flight, every fresh result is written to the cache the
moment it arrives (so a killed run resumes), and results come back in input order, so reports are
deterministic whatever the worker count or executor.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import posixpath
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace

from ..detect import runtime
from ..detect.base import Detector
from ..detect.detectors import DEFAULT_DETECTOR, create_detector
from ..errors import BipacheckError, ConfigError
from ..sources.objects import printable
from .progress import ScanProgress
from .scan import PhotoScan, ScanSettings, SkippedFile, scan_object
from .sidecar_stamps import SidecarStamper

IN_FLIGHT_PER_WORKER = 4  # enough to keep every worker busy; more only costs memory
# A job this small is scanned in this process, where the model is loaded and ONNX Runtime's threads
# use every core: fewer misses than this per worker, and fewer bytes to scan than INLINE_BYTES.
# Starting the pool costs a few seconds (processes, imports, one model load each); 10 MB of photos
# (two or three 12 MP JPEGs, a dozen of 2 MP) are several seconds of detection per core, enough to
# repay it, since one process's threads speed up only the network, not decoding and the passes'
# Python (README's 20-photo run: 1 worker 0.33 photos/s, 2 workers 0.41). Counting photos alone kept
# 12 photos of 12 MP, a minute of work, in one process: 2 workers ran no faster than 1 (issue 22).
INLINE_AHEAD_PER_WORKER = 8
INLINE_BYTES = 10_000_000
INLINE_UNKNOWN_SIZE = 2_000_000  # an object whose listing gave no size counts as this many bytes
MAX_HELD_BACK = 1024  # finished results waiting for a slower earlier one, beyond the in-flight window


class ScanAborted(BipacheckError):
    """The workers stopped before the scan finished (killed, out of memory, cluster lost)."""


@dataclass(frozen=True)
class DetectorConfig:
    name: str = DEFAULT_DETECTOR
    threshold: float | None = None
    # decided here, in the parent, so every worker runs (and the cache records) the same runtime
    runtime: str = field(default_factory=runtime.default_runtime)

    def create(self) -> Detector:
        return create_detector(self.name, self.threshold, self.runtime)


@dataclass(frozen=True)
class Execution:
    """How the scans run: where, how many at once, whether cached results are reused."""

    workers: int = 1  # processes (or dask workers with dask="local")
    dask: str | None = None  # a dask.distributed scheduler address, or "local"
    full: bool = False  # rescan even what the cache holds (the cache is refreshed)
    progress: bool = False  # a progress bar on stderr (only when it is a terminal)


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


# One detector per process and thread, built on first use: pool workers and dask workers alike
# load the model once and keep it for every later task. (An OpenCV net is not thread-safe.)
_detectors = threading.local()


def detector_for(config: DetectorConfig) -> Detector:
    cache = getattr(_detectors, "by_config", None)
    if cache is None:
        cache = _detectors.by_config = {}
    if config not in cache:
        cache[config] = config.create()
    return cache[config]


def worker_threads(workers: int) -> int:
    """Network threads in each of `workers` processes: the cores shared out, so N workers on N cores
    run one thread each and 2 workers on 8 cores four each (more threads than cores only contend)."""
    return max(1, default_workers() // max(1, workers))


def _init_pool_worker(config: DetectorConfig, threads: int = 1) -> None:
    runtime.set_threads(threads)
    detector_for(config)


def scan_task(obj, config: DetectorConfig, settings: ScanSettings,
              threads: int | None = None) -> PhotoScan | SkippedFile:
    """What a worker runs for one object (module level: pickled by reference)."""
    if threads is not None:
        runtime.set_threads(threads)
    return scan_object(obj, detector_for(config), settings)


def skipped_from_source(entry) -> SkippedFile:
    return SkippedFile(entry.url, getattr(entry, "relpath", entry.url), entry.reason, entry.message)


@dataclass
class _Task:
    entry: object
    result: PhotoScan | SkippedFile | None = None  # known without scanning
    stamp: str | None = ""
    hit: bool = False


def run_scans(
    entries: Iterable,
    config: DetectorConfig,
    settings: ScanSettings,
    *,
    workers: int = 1,
    detector: Detector | None = None,
    cache=None,
    full: bool = False,
    dask: str | None = None,
    progress: bool = False,
) -> Iterator[PhotoScan | SkippedFile]:
    """Scan every SourceObject in `entries`; source-level Skipped entries pass through as results.

    detector: an already built detector to reuse in this process (workers == 1).
    cache: a bipacheck.cache.ScanCache; unchanged objects come from it, fresh results go into it,
        and rows of objects no longer listed are dropped once the listing is complete.
    full: rescan everything (results still go into the cache).
    dask: a dask.distributed scheduler address, or "local" for a LocalCluster of `workers` processes.
    progress: show a progress bar on stderr (only when it is a terminal).
    """
    if detector is None:
        # Build one here first so a configuration error (missing weights) surfaces once,
        # cleanly, before any worker starts.
        detector = config.create()
    executor = _LazyExecutor(config, settings, workers, dask, detector)
    tasks = _small_jobs_inline(_plan(entries, settings, cache, full), executor)
    total = len(entries) if isinstance(entries, list) else None  # a listing read ahead has a size
    with ScanProgress(progress, total=total) as bar:
        try:
            yield from _in_order(tasks, executor, cache, bar)
        except BaseException:  # includes the consumer stopping early (GeneratorExit)
            executor.shutdown(wait=False)
            raise
        executor.shutdown(wait=True)
    if cache is not None:
        cache.finish()  # only reached when the whole listing was scanned


def _plan(entries: Iterable, settings: ScanSettings, cache, full: bool) -> Iterator[_Task]:
    """Tasks in input order, with results already filled in for source skips and cache hits."""
    if cache is None:
        for entry in entries:
            yield _Task(entry, None if hasattr(entry, "read") else skipped_from_source(entry))
        return
    stamped = ((entry, "") for entry in entries)
    if settings.read_tags:
        stamped = SidecarStamper().stamped(entries)
    for entry, stamp in stamped:
        if not hasattr(entry, "read"):
            cache.protect(entry.url)
            yield _Task(entry, skipped_from_source(entry))
            continue
        cache.saw(entry.url)
        hit = None if full else cache.lookup(entry, stamp)
        yield _Task(entry, hit, stamp, hit is not None)


def _small_jobs_inline(tasks: Iterator[_Task], executor: "_LazyExecutor") -> Iterator[_Task]:
    """Look a few misses ahead: when the whole job is that small (few photos, few bytes), scan it in
    this process, where the model is already loaded; starting worker processes would cost more than
    they save. (A long run of cache hits ends the look-ahead too: memory stays bounded.)"""
    if not executor.may_stay_inline:
        yield from tasks
        return
    ahead, misses, size = [], 0, 0
    for task in tasks:
        ahead.append(task)
        if task.result is None:
            misses += 1
            size += getattr(task.entry, "size", None) or INLINE_UNKNOWN_SIZE
        if (misses >= INLINE_AHEAD_PER_WORKER * executor.workers or size >= INLINE_BYTES
                or len(ahead) >= MAX_HELD_BACK):
            yield from ahead
            yield from tasks
            return
    executor.stay_inline()
    yield from ahead


def _with_listing(result, entry):
    """A result carries what the listing knew of its object (fresh even for a cached scan): the
    last-modified time and the provenance (a git blob's commit and paths)."""
    if isinstance(result, PhotoScan):
        result.modified = getattr(entry, "modified", None)
    if hasattr(entry, "provenance"):
        result.provenance = entry.provenance()
    return result


class _ReadWithPhotos:
    """Sidecars that a photo's scan reads anyway (a.jpg.xmp next to a.jpg): when the listing hands
    one on as an object of its own, its result comes from that read, so a bucket object is fetched
    once even when the photo and its sidecar would have run in two worker processes. Only the
    version the photo was listed with counts; anything else is scanned on its own."""

    def __init__(self, remember: int = 4096):
        self.remember = remember
        self._awaited: dict[str, int] = {}  # sidecar URL -> seq of the photo in flight that reads it
        self._waiting: dict[int, list[tuple[int, _Task]]] = {}  # photo seq -> sidecar tasks waiting for it
        self._skips: OrderedDict[tuple[str, str], SkippedFile] = OrderedDict()  # (URL, change key) -> skip

    def expect(self, seq: int, entry) -> None:
        for name, _ in getattr(entry, "sidecars", None) or ():
            self._awaited[_sibling_url(entry, name)] = seq

    def claim(self, seq: int, task: _Task) -> SkippedFile | bool:
        """The task's result if a photo's read gave it; True if it waits for a photo in flight."""
        entry = task.entry
        skip = self._skips.pop((entry.url, entry.change_key), None)
        if skip is not None:
            return replace(skip, url=entry.url, relpath=entry.relpath)
        photo = self._awaited.get(entry.url)
        if photo is None:
            return False
        self._waiting.setdefault(photo, []).append((seq, task))
        return True

    def photo_done(self, seq: int, entry, result) -> list[tuple[int, _Task, SkippedFile | None]]:
        """The sidecar tasks that waited for this photo, with their result (None: scan it on its own)."""
        skips = getattr(result, "sidecar_skips", {})
        for name, _ in getattr(entry, "sidecars", None) or ():
            url = _sibling_url(entry, name)
            if self._awaited.get(url) == seq:
                del self._awaited[url]
            if name in skips:
                self._skips[(url, skips[name][0])] = skips[name][1]
        while len(self._skips) > self.remember:
            self._skips.popitem(last=False)
        done = []
        for waiting_seq, task in self._waiting.pop(seq, []):
            skip = self._skips.pop((task.entry.url, task.entry.change_key), None)
            done.append((waiting_seq, task,
                         None if skip is None else replace(skip, url=task.entry.url, relpath=task.entry.relpath)))
        return done


def _sibling_url(entry, name: str) -> str:
    return entry.url[: len(entry.url) - len(posixpath.basename(entry.relpath))] + printable(name)


def _in_order(tasks: Iterator[_Task], executor: "_LazyExecutor", cache, progress) -> Iterator:
    in_flight: dict[cf.Future, tuple[int, _Task]] = {}
    finished: dict[int, tuple[PhotoScan | SkippedFile, bool]] = {}
    with_photos = _ReadWithPhotos()
    next_out = 0

    def submit(seq: int, task: _Task) -> None:
        in_flight[executor.submit(task.entry)] = (seq, task)
        with_photos.expect(seq, task.entry)

    def settle(seq: int, task: _Task, result) -> None:
        if cache is not None:
            cache.store(task.entry, task.stamp, result)  # now, not in order: a kill loses nothing
        finished[seq] = (_with_listing(result, task.entry), False)

    def collect(block: bool) -> None:
        if not in_flight:
            return
        done, _ = cf.wait(in_flight, timeout=None if block else 0, return_when=cf.FIRST_COMPLETED)
        for future in done:
            seq, task = in_flight.pop(future)
            result = _result_of(future)
            settle(seq, task, result)
            for sidecar_seq, sidecar_task, skip in with_photos.photo_done(seq, task.entry, result):
                if skip is None:
                    submit(sidecar_seq, sidecar_task)
                else:
                    settle(sidecar_seq, sidecar_task, skip)

    def ready() -> Iterator:
        nonlocal next_out
        while next_out in finished:
            result, hit = finished.pop(next_out)
            next_out += 1
            progress.advance(result, hit)
            yield result

    for seq, task in enumerate(tasks):
        if task.result is not None:
            finished[seq] = (_with_listing(task.result, task.entry), task.hit)
        elif isinstance(claimed := with_photos.claim(seq, task), SkippedFile):
            settle(seq, task, claimed)
        elif not claimed:
            while len(in_flight) >= executor.window:
                collect(block=True)
            submit(seq, task)
        collect(block=False)
        yield from ready()
        while seq + 1 - next_out > executor.window + MAX_HELD_BACK:
            collect(block=True)  # a slow object holds back the output: wait rather than pile up
            yield from ready()
    while in_flight:
        collect(block=True)
        yield from ready()
    yield from ready()


def _result_of(future: cf.Future) -> PhotoScan | SkippedFile:
    try:
        return future.result()
    except BipacheckError:
        raise
    except cf.BrokenExecutor:
        raise ScanAborted("a worker process died (killed, or out of memory); finished results are "
                          "in the cache: run the same command again to resume") from None
    except Exception as exc:
        if type(exc).__name__ == "KilledWorker":  # dask gave up on a task whose workers kept dying
            raise ScanAborted(f"dask workers died running a scan ({exc}); finished results are in "
                              "the cache: run the same command again to resume") from None
        raise


class _Inline(cf.Executor):
    """Scans in this process, with the detector the caller already built."""

    def __init__(self, detector: Detector, settings: ScanSettings):
        self.detector, self.settings = detector, settings

    def submit(self, obj) -> cf.Future:
        future: cf.Future = cf.Future()
        future.set_result(scan_object(obj, self.detector, self.settings))
        return future


class _LazyExecutor:
    """Starts worker processes or a cluster on the first object that needs scanning, so a re-audit
    where everything is cached never pays for them."""

    def __init__(self, config: DetectorConfig, settings: ScanSettings, workers: int, dask: str | None,
                 detector: Detector):
        self.config, self.settings, self.workers, self.dask = config, settings, max(1, workers), dask
        self.detector = detector
        self._executor: cf.Executor | None = None
        self._closers: list = []
        self._threads: int | None = None
        self.window = IN_FLIGHT_PER_WORKER * (1 if dask is None and workers <= 1 else self.workers)

    @property
    def may_stay_inline(self) -> bool:
        return self.dask is None and self.workers > 1  # a cluster asked for by name is always used

    def stay_inline(self) -> None:
        self._executor = _Inline(self.detector, self.settings)

    def submit(self, obj) -> cf.Future:
        if self._executor is None:
            self._start()
        if isinstance(self._executor, _Inline):
            return self._executor.submit(obj)
        return self._executor.submit(scan_task, obj, self.config, self.settings, self._threads)

    def _start(self) -> None:
        if self.dask is not None:
            self._start_dask()
        elif self.workers <= 1:
            self._executor = _Inline(self.detector, self.settings)
        else:
            ctx = multiprocessing.get_context("spawn")  # fork + OpenCV threads can deadlock
            self._executor = cf.ProcessPoolExecutor(self.workers, mp_context=ctx, initializer=_init_pool_worker,
                                                    initargs=(self.config, worker_threads(self.workers)))

    def _start_dask(self) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise ConfigError("--dask needs the distributed package: pip install distributed (the [dask] extra)") from None
        import logging

        try:
            if self.dask == "local":
                cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                       dashboard_address=None, silence_logs=logging.ERROR)
                self._closers.append(cluster.close)
                client = Client(cluster)
                self._threads = 1  # one single-threaded worker per core
            else:
                import dask.config

                # distributed's own setting (DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT, default 30s)
                client = Client(self.dask, timeout=dask.config.get("distributed.comm.timeouts.connect"))
        except (OSError, TimeoutError, ValueError) as exc:
            raise ConfigError(f"cannot reach the dask scheduler {self.dask}: {exc}") from None
        self._closers.insert(0, client.close)
        threads = sum(client.nthreads().values()) or self.workers
        self.window = IN_FLIGHT_PER_WORKER * threads
        self._executor = client.get_executor(pure=False)

    def shutdown(self, wait: bool) -> None:
        if isinstance(self._executor, cf.ProcessPoolExecutor):
            self._executor.shutdown(wait=wait, cancel_futures=True)
        for close in self._closers:
            try:
                close()
            except Exception:  # noqa: BLE001 - a cluster that is already gone needs no closing
                pass
        self._closers.clear()
