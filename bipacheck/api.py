"""The Python API that the command line mirrors (sqlite-utils style: same names, same options).

`audit()`, `scan()` and `check()` take the same keyword arguments as the flags of the commands of
the same names (bipacheck.options lists them), read the same config file, and return a result whose
`exit_code` is the one the command exits with.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from . import __version__, options as opts_mod
from .cache import ScanCache, open_cache
from .detect.base import Detector
from .engine import DetectorConfig, run_scans
from .errors import ConfigError, NothingListed
from .options import Options
from .scanner import PhotoScan, SkippedFile


def sources_list(sources: str | os.PathLike | Iterable[str | os.PathLike], what: str = "sources") -> list[str]:
    """A str (or path) is ONE source, never a sequence of one-character sources."""
    if isinstance(sources, (str, os.PathLike)):
        return [os.fspath(sources)]
    if isinstance(sources, bytes):
        raise ConfigError(f"{what}: expected a path or a list of paths, got bytes")
    items = list(sources)
    for item in items:
        if not isinstance(item, (str, os.PathLike)):
            raise ConfigError(f"{what}: expected paths or URLs, got {item!r}")
    return [os.fspath(item) for item in items]


def open_scan_cache(opts: Options, command: str, built: Detector, sources: Sequence[str],
                    partial: bool = False) -> ScanCache | None:
    path = opts.cache_path(command)
    if path is None:
        return None
    return open_cache(path, built.settings(), opts.scan_settings(), sources=sources, include=opts.include,
                      exclude=opts.exclude, manifest=opts.manifest, partial=partial, full=opts.full)


def iter_scan(paths: Sequence[str], opts: Options = Options(), *, built: Detector | None = None,
              entries: Iterable | None = None, cache: ScanCache | None = None) -> Iterator[PhotoScan | SkippedFile]:
    """Faces per file, streamed: every file comes back either scanned or skipped with a reason.

    built: a detector already built with the wanted settings (else built from opts). entries: objects
    already listed elsewhere (e.g. staged git blobs) instead of listing `paths`. cache: an open
    bipacheck.cache.ScanCache (the caller closes it)."""
    from .sources import iter_sources

    config = DetectorConfig(opts.detector, built.threshold if built is not None else opts.threshold)
    built = built or config.create()  # fail on configuration (missing weights) before listing
    if entries is None:
        entries = iter_sources(list(paths), include=list(opts.include), exclude=list(opts.exclude),
                               manifest=opts.manifest, endpoint_url=opts.endpoint_url, hidden_sidecars=True,
                               follow_symlinks=opts.follow_symlinks)
    yield from run_scans(entries, config, opts.scan_settings(), workers=opts.worker_count(), detector=built,
                         cache=cache, full=opts.full, dask=opts.dask, progress=not opts.quiet)


@dataclass
class ScanReport:
    """What `bipacheck scan` prints: every file with its faces, or skipped with its reason."""

    doc: dict

    def as_dict(self) -> dict:
        return self.doc

    def __getitem__(self, key: str):
        return self.doc[key]

    @property
    def unscanned(self) -> bool:
        from .scanner import SIDECAR_REASON

        partial = any(f["frames"]["scanned"] < f["frames"]["total"] for f in self.doc["files"] if "frames" in f)
        return partial or any(s["reason"] != SIDECAR_REASON for s in self.doc["skipped"])

    @property
    def exit_code(self) -> int:
        from .exits import exit_code

        return int(exit_code(failing=False, unscanned=self.unscanned))

    def render(self, format: str = "json") -> str:
        if format == "json":
            return json.dumps(self.doc, indent=2, ensure_ascii=False) + "\n"
        if format != "table":
            raise ConfigError(f"scan writes json or table, not {format!r}")
        lines = []
        for entry in self.doc["files"]:
            boxes = " ".join(f"[{','.join(map(str, f['box']))}]@{f['score']:.2f}" for f in entry["faces"])
            lines.append(f"{entry['path']}\t{len(entry['faces'])} face(s)\t{boxes}".rstrip())
        for entry in self.doc["skipped"]:
            lines.append(f"{entry['path']}\tSKIPPED ({entry['reason']}): {entry['message']}")
        return "".join(line + "\n" for line in lines)

    def summary_line(self) -> str:
        s = self.doc["summary"]
        return f"{s['files']} file(s): {s['scanned']} scanned, {s['skipped']} skipped, {s['faces']} face(s)"

    def write(self, path: str | os.PathLike, format: str = "json") -> None:
        from .report.formats import write_atomic

        if os.path.lexists(path) and not _is_scan_output(os.fspath(path)):
            raise ConfigError(f"refusing to write over {os.fspath(path)}: it exists and is not a bipacheck scan "
                              "output; choose another --output")
        write_atomic(os.fspath(path), self.render(format))


def _is_scan_output(path: str) -> bool:
    from .report.formats import is_bipacheck_report

    try:
        with open(path, "rb") as fh:
            head = fh.read(4096).decode("utf-8", "replace")
    except OSError:
        return False
    return is_bipacheck_report(path) or head.startswith('{\n  "tool": {\n    "name": "bipacheck"')


def run_scan(paths: Sequence[str], opts: Options) -> ScanReport:
    config = DetectorConfig(opts.detector, opts.threshold)
    built = config.create()
    scan_cache = open_scan_cache(opts, "scan", built, paths)
    files, skipped = [], []
    try:
        for result in iter_scan(paths, opts, built=built, cache=scan_cache):
            if isinstance(result, PhotoScan):
                files.append(scan_entry(result))
            else:
                skipped.append({"path": result.url, "reason": result.reason, "message": result.message})
    finally:
        if scan_cache is not None:
            scan_cache.close()
    if not files and not skipped:
        raise NothingListed("scan", paths)
    doc = {
        "tool": {"name": "bipacheck", "version": __version__},
        "detector": {**built.settings(), **opts.scan_settings().as_dict()},
        "summary": {"files": len(files) + len(skipped), "scanned": len(files), "skipped": len(skipped),
                    "faces": sum(len(f["faces"]) for f in files)},
        "files": files,
        "skipped": skipped,
    }
    if scan_cache is not None:
        doc["cache"] = scan_cache.report()
    return ScanReport(doc)


def scan_entry(result: PhotoScan) -> dict:
    entry = {
        "path": result.url,
        "sha256": result.sha256,
        "size": result.size,
        "format": result.format,
        "width": result.width,
        "height": result.height,
        "faces": [{"box": f.box, "score": round(f.score, 4), "found_by": f.found_by} for f in result.faces],
    }
    if result.frame_count > 1:
        entry["frames"] = {"scanned": result.frames_scanned, "total": result.frame_count}
    if result.tags:
        entry["face_tags"] = [{"box": t.box, "named": t.named, "tool": t.tool, "where": t.where} for t in result.tags]
    warnings = result.warnings + [f"metadata: {e}" for e in result.tag_errors]
    if warnings:
        entry["warnings"] = warnings
    return entry


# -- the public functions: keywords = the command's flags ----------------------------------------------

def audit(sources, *, config=True, **options):
    from .auditing import run

    opts, _ = opts_mod.build("audit", options, config=config)
    report = run(sources_list(sources), opts)
    _write_if_asked(report, opts, "audit")
    return report


def scan(paths, *, config=True, **options):
    opts, _ = opts_mod.build("scan", options, config=config)
    result = run_scan(sources_list(paths, "paths"), opts)
    _write_if_asked(result, opts, "scan")
    return result


def check(files=(), *, config=True, **options):
    from .hook import run_check

    opts, _ = opts_mod.build("check", options, config=config)
    report = run_check(sources_list(files, "files"), opts)
    if opts.output:
        report.write(opts.output, "json" if opts.format_for("check") == "text" else opts.format_for("check"))
    return report


def _write_if_asked(result, opts: Options, command: str) -> None:
    if opts.output:
        extra = {"opts": opts} if command == "audit" else {}  # report formats may have settings (html)
        result.write(opts.output, opts.format_for(command), **extra)
