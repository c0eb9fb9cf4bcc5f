"""The main job: scan sources, cross-reference the consent ledger, build the report."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone

from . import __version__
from .detect.factory import DEFAULT_DETECTOR, DEFAULT_THRESHOLDS
from .api import iter_scan
from .engine import DetectorConfig
from .errors import ConfigError
from .policy import exposure
from .policy.evaluate import evaluate_photo
from .policy.profiles import DEFAULT_PROFILE, profile as get_profile
from .policy.rules import RULES, SEVERITIES
from .report.model import Finding, Report
from .scanner import SIDECAR_REASON, PhotoScan, ScanSettings, SkippedFile


def review_threshold_for(threshold: float) -> float:
    """Faces scoring between this and the threshold are flagged for human review."""
    return round(threshold * 0.75, 4)


def now_utc() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def audit(
    sources: Sequence[str] = (),
    *,
    ledger: str | None = None,
    processing: str = DEFAULT_PROFILE,
    as_of: datetime | None = None,
    detector: str = DEFAULT_DETECTOR,
    threshold: float | None = None,
    review_threshold: float | None = None,
    settings: ScanSettings = ScanSettings(),
    workers: int = 1,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    manifest: str | None = None,
    endpoint_url: str | None = None,
    entries: Iterable | None = None,
    tag_map: dict[str, str] | None = None,
    show_names: bool = False,
    cache: str | None = None,
    full: bool = False,
    dask: str | None = None,
    progress: bool = False,
) -> Report:
    """Audit `sources` (or pre-listed `entries`, e.g. staged git blobs) against the ledger.

    cache: an SQLite scan cache (bipacheck.cache): unchanged objects are not scanned again, an
    interrupted audit resumes; full: rescan everything anyway. dask: a dask.distributed scheduler
    address or "local". progress: a progress bar on stderr when it is a terminal.
    Returns the Report that `bipacheck audit --format json` writes.
    """
    started = now_utc()
    as_of = as_of or started
    if as_of.tzinfo is None:
        raise ConfigError("--as-of needs a time zone (e.g. 2025-01-31 or 2025-01-31T00:00:00+00:00)")
    prof = get_profile(processing)
    threshold = threshold if threshold is not None else DEFAULT_THRESHOLDS.get(detector, 0.5)
    review_threshold = review_threshold if review_threshold is not None else review_threshold_for(threshold)
    if review_threshold > threshold:
        raise ConfigError(f"review threshold {review_threshold} is above the threshold {threshold}")
    built = DetectorConfig(detector, review_threshold).create()  # the detector keeps review-band faces too
    lookup = _open_ledger(ledger)

    scan_cache = None
    if cache:
        from .cache import open_cache

        scan_cache = open_cache(cache, built.settings(), settings, sources=sources, include=include,
                                exclude=exclude, manifest=manifest, partial=entries is not None, full=full)

    findings: list[Finding] = []
    skipped: list[dict] = []
    photos: list[dict] = []
    persons: set[str] = set()
    unconsented_faces = faces_total = photos_with_faces = 0
    violation_photos: set[str] = set()
    results = iter_scan(sources, detector=detector, threshold=review_threshold, settings=settings,
                        workers=workers, include=include, exclude=exclude, manifest=manifest,
                        endpoint_url=endpoint_url, cache=scan_cache, full=full, dask=dask, progress=progress,
                        built=built, entries=entries)
    for result in results:
        if isinstance(result, SkippedFile):
            skipped.append({"path": result.url, "reason": result.reason, "message": result.message})
            if result.reason == SIDECAR_REASON:
                continue  # metadata of a photo, read with it: not a photo that escaped the audit
            findings.append(Finding("BIPACHECK-UNSCANNED", "review",
                                    f"Not scanned ({result.reason}): {result.message}",
                                    result.url, result.sha256, result.size, details={"reason": result.reason}))
            continue
        links = lookup.photo_links(sha256=result.sha256, relpath=result.relpath) if lookup else []
        outcome = evaluate_photo(result, links=links, lookup=lookup, profile=prof, as_of=as_of,
                                 threshold=threshold, tag_map=tag_map, show_names=show_names)
        findings.extend(outcome.findings)
        if result.frames_scanned < result.frame_count:
            # the frames left out were never looked at: no clean bill of health for them
            findings.append(Finding(
                "BIPACHECK-UNSCANNED", "review",
                f"Only {result.frames_scanned} of {result.frame_count} frames were scanned "
                "(raise --max-frames or --max-pixels to scan them all).",
                result.url, result.sha256, result.size,
                details={"reason": "frames-not-scanned", "frames_scanned": result.frames_scanned,
                         "frames_total": result.frame_count}))
        persons.update(outcome.unconsented_persons)
        unconsented_faces += len(outcome.unconsented_persons)
        faces_total += len(outcome.faces)
        photos_with_faces += bool(outcome.faces)
        if any(f.severity == "violation" for f in outcome.findings):
            violation_photos.add(result.url)
        photos.append(_photo_row(result, outcome.faces))

    finished = now_utc()
    run = {
        "started_at": started.isoformat(),
        "finished_at": finished.isoformat(),
        "sources": list(sources),
        "processing": {"profile": prof.name, "derives_identifiers": prof.derives_identifiers,
                       "consent_scope": prof.scope, "explanation": prof.explanation},
        "as_of": as_of.isoformat(),
        "detector": {**built.settings(), "threshold": threshold, "review_threshold": review_threshold},
        "min_face": settings.min_face,
        "max_pixels": settings.max_pixels,
        "ledger": _ledger_facts(ledger, lookup),
    }
    if scan_cache is not None:
        scan_cache.close()
        run["cache"] = scan_cache.report()
    by_severity = Counter(f.severity for f in findings)
    summary = {
        "files_listed": len(photos) + len(skipped),
        "scanned": len(photos),
        "skipped": len(skipped),
        "photos_with_faces": photos_with_faces,
        "faces": faces_total,
        "unconsented_faces": unconsented_faces,
        "photos_with_violations": len(violation_photos),
        "findings_by_severity": {s: by_severity.get(s, 0) for s in SEVERITIES},
        "findings_by_rule": dict(sorted(Counter(f.rule_id for f in findings).items())),
        "exposure": exposure.estimate(len(persons), unconsented_faces, prof.derives_identifiers),
    }
    return Report(run, summary, findings, skipped, photos, {"name": "bipacheck", "version": __version__})


def _ledger_facts(path: str | None, lookup) -> dict:
    """Pin the ledger state the audit saw: file hash plus the head of its hash-chained event log."""
    if lookup is None:
        return {"path": None, "sha256": None}
    seq, head = lookup.head()
    return {"path": path, "sha256": lookup.file_sha256(), "head_event": seq, "head_hash": head}


def _open_ledger(path: str | None):
    if path is None:
        return None
    from .ledger import Ledger

    return Ledger.open(path)


def _photo_row(scan: PhotoScan, faces: list) -> dict:
    row = {"path": scan.url, "sha256": scan.sha256, "size": scan.size, "format": scan.format,
           "width": scan.width, "height": scan.height, "faces": len(faces),
           "face_records": [f.as_dict() for f in faces]}  # consented faces too: proof of compliance
    warnings = scan.warnings + [f"metadata: {e}" for e in scan.tag_errors]
    if warnings:
        row["warnings"] = warnings
    return row


def load_tag_map(path: str) -> dict[str, str]:
    """The operator's explicit map from names in face tags to ledger subject ids: CSV with columns
    `name,subject_id`, or a JSON object {"name": "subject_id"}. Names are never guessed."""
    import csv
    import json

    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            if path.lower().endswith(".json"):
                data = json.load(fh)
                if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
                    raise ValueError("expected a JSON object of name -> subject id")
                return dict(data)
            rows = list(csv.DictReader(fh))
    except (OSError, ValueError, csv.Error) as exc:
        raise ConfigError(f"tag map {path}: {exc}") from None
    if rows and not {"name", "subject_id"} <= set(rows[0]):
        raise ConfigError(f"tag map {path}: needs the columns name,subject_id")
    return {row["name"].strip(): row["subject_id"].strip() for row in rows if row.get("name")}


def rule_catalogue() -> list[dict]:
    return [{"id": r.id, "name": r.name, "citation": r.citation, "summary": r.summary, "fix": r.fix}
            for r in RULES.values()]
