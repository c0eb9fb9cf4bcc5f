"""The main job, as a short pipeline of steps with one job each:
prepare (settings, detector, ledger) -> scan (api.iter_scan) -> evaluate each photo against the
ledger -> summarise -> Report. Every resource (ledger, cache, workers) is closed on every path.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timezone

from . import __version__
from .api import iter_scan, open_scan_cache
from .detect.base import Detector
from .detect.factory import DEFAULT_THRESHOLDS
from .engine import DetectorConfig
from .errors import ConfigError, NothingListed
from .options import Options
from .policy import exposure
from .policy.attestation import Attestation, run_facts as attestation_facts
from .policy.evaluate import evaluate_photo
from .policy.operator import operator_findings
from .policy.timeline import Seen
from .policy.profiles import Profile, profile as get_profile
from .policy.rules import RULES, SEVERITIES
from .report.model import Finding, Report
from .scanner import SIDECAR_REASON, PhotoScan, SkippedFile


def review_threshold_for(threshold: float) -> float:
    """Faces scoring between this and the threshold are flagged for human review."""
    return round(threshold * 0.75, 4)


def now_utc() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


@dataclass
class AuditContext:
    """Everything decided before the first photo is read."""

    options: Options
    started: datetime
    as_of: datetime
    profile: Profile
    threshold: float
    review_threshold: float
    detector: Detector
    ledger: object | None  # bipacheck.ledger.Ledger, opened read-only
    ledger_facts: dict
    tag_map: dict[str, str] | None
    attestation: Attestation | None  # the operator's statement ([tool.bipacheck.org] or org=...)
    packs: dict = field(default_factory=dict)  # every jurisdiction pack, id -> Pack
    selected: tuple[str, ...] = ()  # --jurisdiction (empty: chosen by the data)

    def other_packs(self) -> list:
        """The packs policy.pack_eval applies (BIPA has its own evaluator)."""
        return [p for p in self.packs.values() if p.evaluator is None and (not self.selected or p.id in self.selected)]


@dataclass
class Tally:
    findings: list[Finding] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)
    photos: list[dict] = field(default_factory=list)
    unconsented_faces: int = 0
    faces: int = 0
    photos_with_faces: int = 0
    violation_photos: set[str] = field(default_factory=set)
    processing: Seen = field(default_factory=Seen)  # processing of photos with faces
    pack_reach: dict[str, set[str]] = field(default_factory=dict)  # pack id -> reaches its faces had


def run(sources: Sequence[str], opts: Options, *, entries: Iterable | None = None, command: str = "audit",
        ignore: Callable[[SkippedFile], bool] | None = None) -> Report:
    """Audit `sources` (or pre-listed `entries`, e.g. staged git blobs) with `opts`.

    ignore(skipped) -> True drops a skip without a finding (check: files whose name and content
    are both not an image). Raises ConfigError when nothing at all was listed."""
    with ExitStack() as stack:
        ctx = prepare(opts, stack)
        cache = open_scan_cache(opts, command, ctx.detector, sources, partial=entries is not None)
        if cache is not None:
            stack.callback(cache.close)
        results = iter_scan(sources, opts, built=ctx.detector, entries=entries, cache=cache)
        tally = evaluate(results, ctx, ignore)
        if entries is None and not tally.photos and not tally.skipped:
            raise ConfigError(f"nothing to audit: {', '.join(map(str, sources))} listed no files (an empty "
                              "folder or prefix, or --include/--exclude/--manifest matched nothing)")
        report = build_report(sources, ctx, tally, cache)
    if opts.baseline:
        from .hook import attach_baseline

        attach_baseline(report, opts.baseline, partial=entries is not None)
    return report


def prepare(opts: Options, stack: ExitStack) -> AuditContext:
    """Settings, the detector (built once: missing weights fail here, before any listing) and the
    ledger (read-only, its hash chain verified)."""
    if opts.output:
        from .report.formats import ensure_replaceable

        ensure_replaceable(opts.output)  # before any work, and before the cache is touched
    started = now_utc()
    as_of = opts.as_of or started
    prof = get_profile(opts.processing)
    threshold = opts.threshold if opts.threshold is not None else DEFAULT_THRESHOLDS.get(opts.detector, 0.5)
    review = opts.review_threshold if opts.review_threshold is not None else review_threshold_for(threshold)
    if review > threshold:
        raise ConfigError(f"review threshold {review} is above the threshold {threshold}")
    tag_map = load_tag_map(opts.tag_map) if opts.tag_map else None
    from .policy.pack import available, select
    from .policy.pack_eval import check_settings

    packs = available(opts.packs_path)
    select(packs, opts.jurisdiction)  # unknown ids and misspelt pack facts fail before any work
    check_settings(packs, opts.packs)
    built = DetectorConfig(opts.detector, review).create()  # the detector keeps review-band faces too
    ledger, facts = open_ledger(opts.ledger, allow_broken=opts.allow_broken_ledger)
    if ledger is not None:
        stack.callback(ledger.close)
    return AuditContext(opts, started, as_of, prof, threshold, review, built, ledger, facts, tag_map, opts.org,
                        packs, tuple(opts.jurisdiction))


def open_ledger(path: str | None, *, allow_broken: bool = False):
    """The ledger, read-only, with the facts the report pins: file hash, chain head, chain check.
    A broken hash chain is a configuration error unless `allow_broken`, which the report records."""
    if path is None:
        return None, {"path": None, "sha256": None}
    from .ledger import Ledger

    ledger = Ledger.open(path, read_only=True)
    try:
        check = ledger.verify()
        if not check.ok and not allow_broken:
            raise ConfigError(
                f"ledger {path}: hash chain broken at event {check.first_broken_event}: {check.reason}. "
                "A record was changed outside bipacheck, so its consents cannot be trusted; "
                "`bipacheck ledger verify` names the edit. Pass --allow-broken-ledger to audit anyway "
                "(the report records it).")
        seq, head = ledger.head()
        facts = {"path": path, "sha256": ledger.file_sha256(), "head_event": seq, "head_hash": head,
                 "chain": {"ok": check.ok, "reason": check.reason, "overridden": not check.ok}}
        wal = ledger.wal_sha256()
        if wal:
            facts["wal_sha256"] = wal
    except BaseException:
        ledger.close()
        raise
    return ledger, facts


def evaluate(results: Iterator[PhotoScan | SkippedFile], ctx: AuditContext, ignore=None) -> Tally:
    """Each scanned photo against the ledger; each skipped file an UNSCANNED finding."""
    tally = Tally()
    for result in results:
        if isinstance(result, SkippedFile):
            _record_skip(tally, result, ignore)
        else:
            _record_photo(tally, result, ctx)
    return tally


def _record_skip(tally: Tally, result: SkippedFile, ignore) -> None:
    tally.skipped.append({"path": result.url, "reason": result.reason, "message": result.message})
    if result.reason == SIDECAR_REASON or (ignore is not None and ignore(result)):
        return  # metadata of a photo, read with it (or a non-image the caller ignores): not a photo that escaped
    tally.findings.append(Finding("BIPACHECK-UNSCANNED", "review", f"Not scanned ({result.reason}): {result.message}",
                                  result.url, result.sha256, result.size, details={"reason": result.reason}))


def _record_photo(tally: Tally, scan: PhotoScan, ctx: AuditContext) -> None:
    links = ctx.ledger.photo_links(sha256=scan.sha256, relpath=scan.relpath) if ctx.ledger else []
    outcome = evaluate_photo(
        scan, links=links, lookup=ctx.ledger, profile=ctx.profile, as_of=ctx.as_of, threshold=ctx.threshold,
        tag_map=ctx.tag_map, show_names=ctx.options.show_names, attestation=ctx.attestation,
        events=ctx.ledger.processing_events(scan.sha256, scan.relpath) if ctx.ledger else None,
        uploaded=scan.modified, packs=ctx.other_packs(), pack_settings=ctx.options.packs)
    if ctx.selected:
        outcome.findings = [f for f in outcome.findings if f.pack is None or f.pack in ctx.selected]
    for pack_id, reaches in outcome.pack_reach.items():
        tally.pack_reach.setdefault(pack_id, set()).update(reaches)
    tally.findings.extend(outcome.findings)
    if outcome.faces:
        tally.processing.add(outcome.times)
    if scan.frames_scanned < scan.frame_count:
        # the frames left out were never looked at: no clean bill of health for them
        tally.findings.append(Finding(
            "BIPACHECK-UNSCANNED", "review",
            f"Only {scan.frames_scanned} of {scan.frame_count} frames were scanned "
            "(raise --max-frames or --max-pixels to scan them all).",
            scan.url, scan.sha256, scan.size,
            details={"reason": "frames-not-scanned", "frames_scanned": scan.frames_scanned,
                     "frames_total": scan.frame_count}))
    tally.unconsented_faces += len(outcome.unconsented_persons)
    tally.faces += len(outcome.faces)
    tally.photos_with_faces += bool(outcome.faces)
    if any(f.severity == "violation" for f in outcome.findings):
        tally.violation_photos.add(scan.url)
    tally.photos.append(_photo_row(scan, outcome.faces))


def packs_in_scope(tally: Tally, ctx: AuditContext) -> list[str]:
    """--jurisdiction's packs; else the default ones (BIPA) and every pack a face's processing met."""
    if ctx.selected:
        return list(ctx.selected)
    return [p.id for p in ctx.packs.values()
            if (p.default or "in" in tally.pack_reach.get(p.id, ())) and not _attested_outside(p, ctx)]


def _attested_outside(pack, ctx: AuditContext) -> bool:
    """The operator attests the fact that brings the pack in is false (e.g. under the CCPA thresholds)."""
    from .policy.pack_eval import facts_for

    fact = pack.trigger.get("fact")
    return bool(fact) and facts_for(pack, ctx.options.packs).get(fact) is False


def pack_status(tally: Tally, ctx: AuditContext, in_scope: list[str]) -> dict:
    """Per pack: evaluated or not, and why, so a pack left out is never silent."""
    out = {}
    for pack in ctx.packs.values():
        reach = tally.pack_reach.get(pack.id, set())
        if pack.id in in_scope:
            status = "evaluated"
        elif _attested_outside(pack, ctx):
            status = f"not evaluated: the operator attests {pack.trigger['fact']} = false"
        elif ctx.selected:
            status = "not selected (--jurisdiction)"
        elif "unknown" in reach:
            status = (f"not evaluated: no processing shown in its territory, and some faces' regions are unknown; "
                      f"record {pack.trigger.get('needs', 'the regions')} or pass --jurisdiction {pack.id}")
        else:
            status = "not evaluated: no processing in its territory"
        out[pack.id] = {"citation": pack.citation, "status": status, "reach": sorted(reach)}
    return out


def summarise(tally: Tally, ctx: AuditContext) -> dict:
    from .policy.pack_exposure import by_pack

    by_severity = Counter(f.severity for f in tally.findings)
    bipa = exposure.estimate(tally.findings, ctx.as_of, ctx.profile.derives_identifiers)
    in_scope = packs_in_scope(tally, ctx)
    return {
        "files_listed": len(tally.photos) + len(tally.skipped),
        "scanned": len(tally.photos),
        "skipped": len(tally.skipped),
        "photos_with_faces": tally.photos_with_faces,
        "faces": tally.faces,
        "unconsented_faces": tally.unconsented_faces,
        "photos_with_violations": len(tally.violation_photos),
        "findings_by_severity": {s: by_severity.get(s, 0) for s in SEVERITIES},
        "findings_by_rule": dict(sorted(Counter(f.rule_id for f in tally.findings).items())),
        "exposure": bipa,
        "packs": pack_status(tally, ctx, in_scope),
        "exposure_by_pack": by_pack(ctx.packs, in_scope, tally.findings, ctx.options.packs, bipa),
    }


def run_facts(sources: Sequence[str], ctx: AuditContext, cache) -> dict:
    opts, prof = ctx.options, ctx.profile
    run = {
        "started_at": ctx.started.isoformat(),
        "finished_at": now_utc().isoformat(),
        "sources": [str(s) for s in sources],
        "processing": {"profile": prof.name, "derives_identifiers": prof.derives_identifiers,
                       "consent_scope": prof.scope, "explanation": prof.explanation},
        "as_of": ctx.as_of.isoformat(),
        "detector": {**ctx.detector.settings(), "threshold": ctx.threshold,
                     "review_threshold": ctx.review_threshold},
        "min_face": opts.min_face,
        "max_pixels": opts.max_pixels,
        "ledger": ctx.ledger_facts,
        "attestation": attestation_facts(ctx.attestation),
        "fail_on": opts.fail_on,
    }
    if cache is not None:
        run["cache"] = cache.report()
    return run


def build_report(sources: Sequence[str], ctx: AuditContext, tally: Tally, cache) -> Report:
    from .policy.pack_eval import operator_pack_findings

    in_scope = packs_in_scope(tally, ctx)
    tally.findings.extend(operator_findings(ctx.attestation, ctx.profile, tally.processing))
    for pack_id in in_scope:
        if ctx.packs[pack_id].evaluator is None:
            tally.findings.extend(operator_pack_findings(ctx.packs[pack_id], ctx.options.packs, ctx.profile))
    # a pack out of scope leaves no findings (its unknown-region faces are named in summary.packs)
    tally.findings = [f for f in tally.findings if f.pack is None or f.pack in in_scope]
    return Report(run_facts(sources, ctx, cache), summarise(tally, ctx), tally.findings, tally.skipped,
                  tally.photos, {"name": "bipacheck", "version": __version__}, fail_on=ctx.options.fail_on)


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
    return [{"id": r.id, "name": r.name, "pack": r.pack, "citation": r.citation, "mark": r.mark,
             "severity": r.severity, "summary": r.summary, "fix": r.fix} for r in RULES.values()]
