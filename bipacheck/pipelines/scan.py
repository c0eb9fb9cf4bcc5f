"""`bipacheck scan`: faces per file, no ledger and no law: every file listed, either with its faces
or skipped with the reason."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import ConfigError, NothingListed
from ..exits import exit_code
from ..names import json_visible, visible
from ..options import Options
from ..outputs import REPORT_MODE
from ..report.formats import is_bipacheck_report, write_atomic
from ..scanning.scan import SIDECAR_REASON, PhotoScan
from ..scanning.step import iter_scan, open_scan_cache
from ..sources import absolute_root, name_in, report_root
from ..version import __version__


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
        partial = any(("frames" in f and f["frames"]["scanned"] < f["frames"]["total"]) or f.get("not_scanned")
                      for f in self.doc["files"])
        return partial or any(s["reason"] != SIDECAR_REASON for s in self.doc["skipped"])

    @property
    def exit_code(self) -> int:
        return int(exit_code(failing=False, unscanned=self.unscanned))

    def render(self, format: str = "json", opts=None) -> str:
        """opts: accepted like Report.render's (scan's formats have no settings of their own)."""
        if format == "json":
            return json_visible(json.dumps(self.doc, indent=2, ensure_ascii=False)) + "\n"
        if format != "table":
            raise ConfigError(f"scan writes json or table, not {format!r}")
        lines = []
        for entry in self.doc["files"]:
            boxes = " ".join(f"[{','.join(map(str, f['box']))}]@{f['score']:.2f}" + (
                f" {f['track']['start_s']:.2f}-{f['track']['end_s']:.2f}s" if "track" in f else "")
                for f in entry["faces"])
            lines.append(f"{entry['path']}\t{len(entry['faces'])} face(s)\t{boxes}".rstrip())
        for entry in self.doc["skipped"]:
            lines.append(f"{entry['path']}\tSKIPPED ({entry['reason']}): {entry['message']}")
        return "".join(visible(line) + "\n" for line in lines)

    def summary_line(self) -> str:
        s = self.doc["summary"]
        return f"{s['files']} file(s): {s['scanned']} scanned, {s['skipped']} skipped, {s['faces']} face(s)"

    def write(self, path: str | os.PathLike, format: str = "json", opts=None) -> None:
        """opts: the Options whose output_mode the file gets (default 0600)."""
        if os.path.lexists(path) and not _is_scan_output(os.fspath(path)):
            raise ConfigError(f"refusing to write over {os.fspath(path)}: it exists and is not a bipacheck scan "
                              "output; choose another --output")
        write_atomic(os.fspath(path), self.render(format), getattr(opts, "output_mode", REPORT_MODE))


def _is_scan_output(path: str) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096).decode("utf-8", "replace")
    except OSError:
        return False
    return is_bipacheck_report(path) or head.startswith('{\n  "tool": {\n    "name": "bipacheck"')


def run_scan(paths: Sequence[str], opts: Options) -> ScanReport:
    config = opts.detector_config()
    built = config.create()
    settings = opts.scan_settings()
    scan_cache = open_scan_cache(opts.cache_path("scan"), built, settings, paths, listing=opts.listing(),
                                 full=opts.full)
    files, skipped = [], []
    try:
        for result in iter_scan(paths, config, settings, listing=opts.listing(), execution=opts.execution(),
                                built=built, cache=scan_cache, verb="scan"):
            if isinstance(result, PhotoScan):
                files.append(scan_entry(result))
            else:
                skipped.append({"path": result.url, "reason": result.reason, "message": result.message})
    finally:
        if scan_cache is not None:
            scan_cache.close()
    if not files and not skipped:
        raise NothingListed("scan", paths)
    root = report_root(paths, [f["path"] for f in files + skipped])
    for entry in files + skipped:
        entry["path"] = name_in(root, entry["path"])  # below `root`, recorded once
    doc = {
        "tool": {"name": "bipacheck", "version": __version__},
        "root": absolute_root(root),
        "detector": {**built.settings(), **settings.as_dict()},
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
        "faces": [{"box": f.box, "score": round(f.score, 4), "found_by": f.found_by,
                   **({"found_in": f.found_in} if f.found_in else {})} for f in result.faces],
    }
    if result.kind == "video":
        entry["kind"], entry["video"] = "video", result.video
        for face, track in zip(entry["faces"], result.tracks):
            face["track"] = {k: v for k, v in track.as_dict().items() if k not in ("box", "score", "found_by")}
    unscanned = list(result.unscanned)
    if not result.complete:
        unscanned.append(f"part of the video: {result.video['coverage']['statement']}")
    if unscanned:
        entry["not_scanned"] = unscanned
    if result.frame_count > 1 and result.kind != "video":
        entry["frames"] = {"scanned": result.frames_scanned, "total": result.frame_count}
    if result.tags:
        entry["face_tags"] = [{"box": t.box, "named": t.named, "tool": t.tool, "where": t.where} for t in result.tags]
    warnings = result.warnings + [f"metadata: {e}" for e in result.tag_errors]
    if warnings:
        entry["warnings"] = warnings
    return entry
