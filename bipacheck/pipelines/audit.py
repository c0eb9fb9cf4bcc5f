"""The main job, as a short pipeline of steps with one job each:
prepare (settings, detector, ledger, packs) -> scan (scanning.step) -> evaluate each photo against
the ledger (policy) -> the audit-wide findings and the baseline -> summarise -> Report. Every
resource (ledger, cache, workers) is closed on every path.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timezone

from ..detect.base import Detector
from ..errors import ConfigError, NothingListed
from ..findings import SEVERITIES, Finding, RuleBook
from ..findings.rules import UNSCANNED
from ..ledger import Ledger
from ..ledger.anchor import read_head_file
from ..names import printable
from ..options import Options
from ..policy import exposure
from ..policy.attestation import run_facts as attestation_facts
from ..policy.evaluate import PolicyContext, evaluate_photo
from ..policy.evidence import NOT_CHECKED, EvidenceRoot
from ..policy.operator import operator_findings
from ..policy.pack_exposure import by_pack
from ..policy.profiles import profile as get_profile
from ..policy.scope import PackScope
from ..policy.timeline import Seen
from ..report.formats import ensure_replaceable
from ..report.model import Report
from ..scanning.scan import SIDECAR_REASON, PhotoScan, SkippedFile
from ..scanning.step import iter_scan, open_scan_cache
from ..sources import absolute_root, name_in, report_root
from ..version import __version__
from .baseline import Baseline, apply_baseline


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
    detector: Detector  # keeps review-band faces too: policy splits them at policy.threshold
    review_threshold: float
    policy: PolicyContext
    ledger_facts: dict
    rules: RuleBook


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
    video_tracks: dict[str, dict] = field(default_factory=dict)  # a video's url -> its FaceTracks by number


def run(sources: Sequence[str], opts: Options, *, entries: Iterable | None = None, command: str = "audit",
        ignore: Callable[[SkippedFile], bool] | None = None, root: str | None = None) -> Report:
    """Audit `sources` (or pre-listed `entries`, e.g. staged git blobs) with `opts`.

    ignore(skipped) -> True drops a skip without a finding (check: files whose name and content
    are both not an image). root: the folder report names are relative to (printable; default: the
    deepest one holding every source). Raises NothingListed when a source lists nothing to audit."""
    partial = entries is not None  # listed elsewhere: a chunk of a commit, not whole sources
    with ExitStack() as stack:
        ctx = prepare(opts, stack)
        cache = open_scan_cache(opts.cache_path(command), ctx.detector, opts.scan_settings(), sources,
                                listing=opts.listing(), partial=partial, full=opts.full)
        if cache is not None:
            stack.callback(cache.close)
        results = iter_scan(sources, opts.detector_config(ctx.review_threshold), opts.scan_settings(),
                            listing=opts.listing(), execution=opts.execution(), built=ctx.detector,
                            entries=entries, cache=cache)
        tally = evaluate(results, ctx, ignore)
        if not partial and not tally.photos and not tally.skipped:
            raise NothingListed("audit", sources)
        return build_report(sources, ctx, tally, cache, partial=partial, root=root)


def prepare(opts: Options, stack: ExitStack) -> AuditContext:
    """Settings, the packs, the detector (built once: missing weights fail here, before any listing)
    and the ledger (read-only, its hash chain verified)."""
    if opts.output:
        ensure_replaceable(opts.output)  # before any work, and before the cache is touched
    started = now_utc()
    threshold = opts.detector_threshold()
    review = opts.review_threshold if opts.review_threshold is not None else review_threshold_for(threshold)
    if review > threshold:
        raise ConfigError(f"review threshold {review} is above the threshold {threshold}")
    tag_map = load_tag_map(opts.tag_map) if opts.tag_map else None
    scope = PackScope.load(opts.packs_path, opts.jurisdiction, opts.packs)  # unknown ids, misspelt facts fail now
    built = opts.detector_config(review).create()  # the detector keeps review-band faces too
    evidence = EvidenceRoot(opts.evidence, opts.endpoint_url) if opts.evidence else None  # a bad root fails now
    ledger, facts = open_ledger(opts.ledger, allow_broken=opts.allow_broken_ledger, head_file=opts.ledger_head)
    if ledger is not None:
        stack.callback(ledger.close)
    policy = PolicyContext(get_profile(opts.processing), opts.as_of or started, threshold, ledger, opts.org,
                           tag_map, opts.show_names, scope, evidence=evidence)
    return AuditContext(opts, started, built, review, policy, facts, scope.rules())


def open_ledger(path: str | None, *, allow_broken: bool = False,
                head_file: str | None = None) -> tuple[Ledger | None, dict]:
    """The ledger, read-only, with the facts the report pins: file hash, chain head, chain check.
    A broken hash chain, or a ledger that no longer holds the head quoted in `head_file`, is a
    configuration error unless `allow_broken`, which the report records."""
    if path is None:
        if head_file:
            raise ConfigError(f"ledger head file {head_file} given, but no ledger to check it against (--ledger)")
        return None, {"path": None, "sha256": None}
    expected = read_head_file(head_file) if head_file else None
    ledger = Ledger.open(path, read_only=True)
    try:
        check = ledger.verify(expected)
        if not check.ok and not allow_broken:
            raise ConfigError(
                f"ledger {path}: hash chain broken at event {check.first_broken_event}: {check.reason}. "
                "A record was changed outside bipacheck, so its consents cannot be trusted; "
                "`bipacheck ledger verify` names the edit. Pass --allow-broken-ledger to audit anyway "
                "(the report records it).")
        seq, head = ledger.head()
        facts = {"path": path, "sha256": ledger.file_sha256(), "head_event": seq, "head_hash": head,
                 "chain": {"ok": check.ok, "reason": check.reason, "overridden": not check.ok}}
        if expected is not None:
            facts["expected_head"] = {"file": head_file, "event": expected.seq, "hash": expected.hash,
                                      "held": check.head_held}
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
    tally.skipped.append({"path": result.url, "reason": result.reason, "message": result.message,
                          **(result.provenance or {})})
    if result.reason == SIDECAR_REASON or (ignore is not None and ignore(result)):
        return  # metadata of a photo, read with it (or a non-image the caller ignores): not a photo that escaped
    tally.findings.append(_with_provenance(
        Finding(UNSCANNED, "review", f"Not scanned ({result.reason}): {result.message}", result.url, result.sha256,
                result.size, details={"reason": result.reason}), result.provenance))


def _with_provenance(finding: Finding, provenance: dict | None) -> Finding:
    """A finding about a blob of git history says which commit added it and whether HEAD still has it."""
    if provenance:
        finding.provenance = provenance
        history = provenance.get("history")
        if history:
            where = (f"still in HEAD as {', '.join(history['head_paths'])}" if history["in_head"] else
                     "only in history (deleted from HEAD, still retained in every clone)")
            finding.message += (f" [git: added in commit {history['commit'][:12]} on {history['author_date'][:10]} "
                                f"as {history['added_path']}; {where}]")
    return finding


def _record_photo(tally: Tally, scan: PhotoScan, ctx: AuditContext) -> None:
    outcome = evaluate_photo(scan, ctx.policy)
    for finding in outcome.findings:
        _with_provenance(finding, scan.provenance)
    for pack_id, reaches in outcome.pack_reach.items():
        tally.pack_reach.setdefault(pack_id, set()).update(reaches)
    tally.findings.extend(outcome.findings)
    if outcome.faces:
        tally.processing.add(outcome.times)
        tally.processing.add_persons(outcome.processed)
    if not scan.complete:
        # a video scanned in part: the ranges never decoded may hold faces (fail closed: at least review)
        coverage = scan.video["coverage"]
        tally.findings.append(_with_provenance(Finding(
            UNSCANNED, "review", f"Video scanned in part: {coverage['statement']}",
            scan.url, scan.sha256, scan.size,
            details={"reason": "video-not-fully-scanned", "stopped_by": coverage["stopped_by"],
                     "unscanned": coverage["unscanned"], "unscanned_streams": coverage["unscanned_streams"]}),
            scan.provenance))
    if scan.frames_scanned < scan.frame_count:
        # the frames left out were never looked at: no clean bill of health for them
        tally.findings.append(_with_provenance(Finding(
            UNSCANNED, "review",
            f"Only {scan.frames_scanned} of {scan.frame_count} frames were scanned "
            "(raise --max-frames or --max-pixels to scan them all).",
            scan.url, scan.sha256, scan.size,
            details={"reason": "frames-not-scanned", "frames_scanned": scan.frames_scanned,
                     "frames_total": scan.frame_count}), scan.provenance))
    if scan.unscanned:
        # an embedded image nobody could look into may hold a face: no clean bill of health for the photo
        tally.findings.append(_with_provenance(Finding(
            UNSCANNED, "review", "Embedded images not scanned: " + "; ".join(scan.unscanned),
            scan.url, scan.sha256, scan.size, details={"reason": "embedded-not-scanned", "parts": scan.unscanned}),
            scan.provenance))
    tally.unconsented_faces += len(outcome.unconsented_persons)
    tally.faces += len(outcome.faces)
    tally.photos_with_faces += bool(outcome.faces)
    if any(f.severity == "violation" for f in outcome.findings):
        tally.violation_photos.add(scan.url)
    tally.photos.append(_photo_row(scan, outcome.faces))
    if scan.kind == "video":
        tally.video_tracks[scan.url] = {track.track_id: track for track in scan.tracks}


def summarise(tally: Tally, ctx: AuditContext, in_scope: list[str]) -> dict:
    """Counts and exposure, from the final findings (baselined ones already marked accepted)."""
    policy = ctx.policy
    by_severity = Counter(f.severity for f in tally.findings)
    bipa = exposure.estimate(tally.findings, policy.as_of, policy.profile.derives_identifiers)
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
        "packs": policy.scope.status(tally.pack_reach, in_scope),
        "exposure_by_pack": by_pack(policy.scope.packs, in_scope, tally.findings, policy.scope.settings, bipa),
    }


def run_facts(sources: Sequence[str], ctx: AuditContext, cache) -> dict:
    opts, policy = ctx.options, ctx.policy
    prof = policy.profile
    run = {
        "started_at": ctx.started.isoformat(),
        "finished_at": now_utc().isoformat(),
        "sources": [printable(str(s)) for s in sources],
        "processing": {"profile": prof.name, "derives_identifiers": prof.derives_identifiers,
                       "consent_scope": prof.scope, "explanation": prof.explanation},
        "as_of": policy.as_of.isoformat(),
        "detector": {**ctx.detector.settings(), "threshold": policy.threshold,
                     "review_threshold": ctx.review_threshold},
        "min_face": opts.min_face,
        "max_pixels": opts.max_pixels,
        "video_interval": opts.video_interval,
        "ledger": ctx.ledger_facts,
        "attestation": attestation_facts(policy.attestation),
        "evidence": policy.evidence.facts() if policy.evidence is not None else dict(NOT_CHECKED),
        "fail_on": opts.fail_on,
    }
    if opts.history:
        run["history"] = {"since": opts.since.isoformat() if opts.since else None, "range": opts.range}
    if cache is not None:
        run["cache"] = cache.report()
    return run


def relative_names(sources: Sequence[str], tally: Tally, root: str | None = None) -> str | None:
    """Name every photo, skip and finding by its path below the audited root (an absolute local
    layout appears once, in run.root, not in every finding); returns that root as run.root records it."""
    if root is None:
        root = report_root(sources, [p["path"] for p in tally.photos] + [s["path"] for s in tally.skipped])
    for row in tally.photos + tally.skipped:
        row["path"] = name_in(root, row["path"])
    for finding in tally.findings:
        finding.path = name_in(root, finding.path)
    tally.video_tracks = {name_in(root, url): tracks for url, tracks in tally.video_tracks.items()}
    return absolute_root(root)


def build_report(sources: Sequence[str], ctx: AuditContext, tally: Tally, cache, *, partial: bool,
                 root: str | None = None) -> Report:
    """The audit-wide findings, then the baseline, then the summary: exposure is computed once, from
    findings already marked accepted or not."""
    policy, scope = ctx.policy, ctx.policy.scope
    root = relative_names(sources, tally, root)
    in_scope = scope.in_scope(tally.pack_reach)
    tally.findings.extend(operator_findings(policy.attestation, policy.profile, tally.processing))
    tally.findings.extend(scope.operator_findings(in_scope, policy.profile))
    # a pack out of scope leaves no findings (its unknown-region faces are named in summary.packs)
    tally.findings = [f for f in tally.findings if f.pack is None or f.pack in in_scope]
    run = run_facts(sources, ctx, cache)
    run["root"] = root
    if ctx.options.baseline:
        baseline = Baseline.read_or_empty(ctx.options.baseline)
        run["baseline"] = {"path": ctx.options.baseline,
                           **apply_baseline(tally.findings, tally.photos, run, baseline, partial=partial)}
    return Report(run, summarise(tally, ctx, in_scope), tally.findings, tally.skipped, tally.photos,
                  {"name": "bipacheck", "version": __version__}, fail_on=ctx.options.fail_on, rules=ctx.rules,
                  video_tracks=tally.video_tracks)


def _photo_row(scan: PhotoScan, faces: list) -> dict:
    row = {"path": scan.url, "sha256": scan.sha256, "size": scan.size, "format": scan.format,
           "width": scan.width, "height": scan.height, "faces": len(faces),
           "face_records": [f.as_dict() for f in faces], **(scan.provenance or {})}  # consented faces too
    if scan.kind == "video":
        row["kind"] = "video"
        row["video"] = scan.video
    warnings = scan.warnings + [f"metadata: {e}" for e in scan.tag_errors]
    if warnings:
        row["warnings"] = warnings
    return row


def load_tag_map(path: str) -> dict[str, str]:
    """The operator's explicit map from names in face tags to ledger subject ids: CSV with columns
    `name,subject_id`, or a JSON object {"name": "subject_id"}. Names are never guessed."""
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


def rule_catalogue(rules: RuleBook) -> list[dict]:
    return [{"id": r.id, "name": r.name, "pack": r.pack, "citation": r.citation, "mark": r.mark,
             "severity": r.severity, "summary": r.summary, "fix": r.fix} for r in rules]
