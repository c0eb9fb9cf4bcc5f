"""The scan step every pipeline shares (audit, check, scan): list the sources (or take entries
listed elsewhere), then stream each object back scanned or skipped with its reason, through the
scan cache when there is one."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import chain, islice

from ..detect.base import Detector
from ..sources import Listing, list_sources
from .cache import ScanCache, open_cache
from .engine import DetectorConfig, Execution, run_scans
from .progress import shown
from .scan import PhotoScan, ScanSettings, SkippedFile

# A listing this short is read to its end before scanning when a progress bar is shown, so the bar
# knows its total; a longer one streams as always (memory stays bounded: ~1 KB per listed object).
LIST_AHEAD = 10_000


def open_scan_cache(path: str | None, built: Detector, settings: ScanSettings, sources: Sequence[str], *,
                    listing: Listing = Listing(), partial: bool = False, full: bool = False) -> ScanCache | None:
    """The scan cache at `path` keyed by the detector's and the scan's settings (None: no cache).
    partial: the entries were listed elsewhere (staged blobs), so absent objects are not deleted."""
    if path is None:
        return None
    return open_cache(path, built.settings(), settings, sources=sources, listing=listing, partial=partial, full=full)


def iter_scan(paths: Sequence[str], config: DetectorConfig, settings: ScanSettings, *,
              listing: Listing = Listing(), execution: Execution = Execution(), built: Detector | None = None,
              entries: Iterable | None = None, cache: ScanCache | None = None,
              verb: str = "audit") -> Iterator[PhotoScan | SkippedFile]:
    """Faces per file, streamed: every file comes back either scanned or skipped with a reason.

    built: a detector already built with `config` (else built here: missing weights fail before any
    listing). entries: objects already listed elsewhere (e.g. staged git blobs) instead of listing
    `paths`. cache: an open ScanCache (the caller closes it). verb: what a source that lists nothing
    to audit (missing, empty, unreachable, only sidecars) fails to do (NothingListed, exit 2)."""
    built = built or config.create()
    if entries is None:
        entries = list_sources(list(paths), listing, verb=verb)
    if shown(execution.progress):
        entries = listed_ahead(entries)
    yield from run_scans(entries, config, settings, workers=execution.workers, detector=built, cache=cache,
                         full=execution.full, dask=execution.dask, progress=execution.progress)


def listed_ahead(entries: Iterable, limit: int = LIST_AHEAD) -> list | Iterator:
    """The whole listing as a list when it ends within `limit` objects (its size is then known), else
    the same stream."""
    entries = iter(entries)
    head = list(islice(entries, limit + 1))
    return head if len(head) <= limit else chain(head, entries)
