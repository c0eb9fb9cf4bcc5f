"""The Python API that the command line mirrors (sqlite-utils style: same names, same options)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence

from . import __version__
from .cache import ScanCache, open_cache
from .detect.base import Detector
from .engine import DetectorConfig, run_scans
from .scanner import PhotoScan, ScanSettings, SkippedFile


def iter_scan(
    paths: Sequence[str],
    *,
    detector: str | None = None,
    threshold: float | None = None,
    settings: ScanSettings = ScanSettings(),
    workers: int = 1,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    manifest: str | None = None,
    endpoint_url: str | None = None,
    cache: str | ScanCache | None = None,
    full: bool = False,
    dask: str | None = None,
    progress: bool = False,
    built: Detector | None = None,
    entries: Iterable | None = None,
    follow_symlinks: bool = False,
) -> Iterator[PhotoScan | SkippedFile]:
    """Faces per file, streamed: every file comes back either scanned or skipped with a reason.

    cache: path of an SQLite scan cache (or an open bipacheck.cache.ScanCache, which the caller
    closes): unchanged objects come from it; full: rescan everything. dask: a dask.distributed
    scheduler address or "local". progress: a progress bar on stderr when it is a terminal.
    entries: objects already listed elsewhere (e.g. staged git blobs) instead of listing `paths`.
    follow_symlinks: also follow local links leading outside a folder (skipped as outside-root otherwise).
    """
    from .sources import iter_sources

    config = DetectorConfig(detector or DetectorConfig.name, threshold)
    built = built or config.create()  # fail on configuration (missing weights) before listing
    listed_here = entries is None
    if listed_here:
        entries = iter_sources(list(paths), include=list(include), exclude=list(exclude), manifest=manifest,
                               endpoint_url=endpoint_url, hidden_sidecars=True, follow_symlinks=follow_symlinks)
    scan_cache = cache
    if isinstance(cache, (str, os.PathLike)):
        scan_cache = open_cache(cache, built.settings(), settings, sources=paths, include=include,
                                exclude=exclude, manifest=manifest, partial=not listed_here, full=full)
    try:
        yield from run_scans(entries, config, settings, workers=workers, detector=built, cache=scan_cache,
                             full=full, dask=dask, progress=progress)
    finally:
        if scan_cache is not cache:
            scan_cache.close()


def scan(paths: Sequence[str], **options) -> dict:
    """Scan `paths` and return the `bipacheck scan --format json` document (same options as iter_scan)."""
    config = DetectorConfig(options.get("detector") or DetectorConfig.name, options.get("threshold"))
    settings = options.get("settings", ScanSettings())
    built = config.create()
    scan_cache = None
    if options.get("cache"):
        scan_cache = open_cache(options["cache"], built.settings(), settings, sources=paths,
                                include=options.get("include", ()), exclude=options.get("exclude", ()),
                                manifest=options.get("manifest"), full=options.get("full", False))
    files, skipped = [], []
    try:
        for result in iter_scan(paths, built=built, **{**options, "cache": scan_cache}):
            if isinstance(result, PhotoScan):
                files.append(scan_entry(result))
            else:
                skipped.append({"path": result.url, "reason": result.reason, "message": result.message})
    finally:
        if scan_cache is not None:
            scan_cache.close()
    doc = {
        "tool": {"name": "bipacheck", "version": __version__},
        "detector": {**built.settings(), **settings.as_dict()},
        "summary": {"files": len(files) + len(skipped), "scanned": len(files), "skipped": len(skipped),
                    "faces": sum(len(f["faces"]) for f in files)},
        "files": files,
        "skipped": skipped,
    }
    if scan_cache is not None:
        doc["cache"] = scan_cache.report()
    return doc


def scan_entry(result: PhotoScan) -> dict:
    entry = {
        "path": result.url,
        "sha256": result.sha256,
        "size": result.size,
        "format": result.format,
        "width": result.width,
        "height": result.height,
        "faces": [{"box": f.box, "score": round(f.score, 4)} for f in result.faces],
    }
    if result.frame_count > 1:
        entry["frames"] = {"scanned": result.frames_scanned, "total": result.frame_count}
    if result.tags:
        entry["face_tags"] = [{"box": t.box, "named": t.named, "tool": t.tool, "where": t.where} for t in result.tags]
    warnings = result.warnings + [f"metadata: {e}" for e in result.tag_errors]
    if warnings:
        entry["warnings"] = warnings
    return entry
