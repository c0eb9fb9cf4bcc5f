"""The Python API that the command line mirrors (sqlite-utils style: same names, same options)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from . import __version__
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
    built: Detector | None = None,
) -> Iterator[PhotoScan | SkippedFile]:
    """Faces per file, streamed: every file comes back either scanned or skipped with a reason."""
    from .sources import iter_sources

    config = DetectorConfig(detector or DetectorConfig.name, threshold)
    built = built or config.create()  # fail on configuration (missing weights) before listing
    entries = iter_sources(list(paths), include=list(include), exclude=list(exclude))
    yield from run_scans(entries, config, settings, workers=workers, detector=built)


def scan(paths: Sequence[str], **options) -> dict:
    """Scan `paths` and return the `bipacheck scan --format json` document."""
    config = DetectorConfig(options.get("detector") or DetectorConfig.name, options.get("threshold"))
    settings = options.get("settings", ScanSettings())
    built = config.create()
    files, skipped = [], []
    for result in iter_scan(paths, built=built, **options):
        if isinstance(result, PhotoScan):
            files.append(scan_entry(result))
        else:
            skipped.append({"path": result.url, "reason": result.reason, "message": result.message})
    return {
        "tool": {"name": "bipacheck", "version": __version__},
        "detector": {**built.settings(), **settings.as_dict()},
        "summary": {"files": len(files) + len(skipped), "scanned": len(files), "skipped": len(skipped),
                    "faces": sum(len(f["faces"]) for f in files)},
        "files": files,
        "skipped": skipped,
    }


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
