"""The audit report: findings (bipacheck.findings), skipped files, run facts and summary.

Nothing here can hold pixels, crops, landmarks, embeddings or display names: faces are boxes,
scores and ledger subject ids only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from ..exits import exit_code
from ..findings import Finding, RuleBook, severity_at_least
from ..outputs import REPORT_MODE
from .formats import formatter, write_report
from .persons import persons_roll_up

# 1.1.0: run.detector.runtime; 1.2.0: run.fail_on, run.ledger.chain; 2.0.0: exposure per section,
# run.attestation; 2.1.0: faces[].consent (dates, evidence), photos[].face_records, persons;
# 2.2.0: jurisdiction packs (findings[].pack, summary.packs, summary.exposure_by_pack); 2.3.0: faces[].found_by;
# 2.4.0: findings[].history, skipped[].history, photos[].history (audit --history);
# 2.5.0: legal model v3 (run.evidence, faces[].verdicts/documents, persons dates and documents, per-method 15(b));
# 2.6.0: run.root (paths relative to it), faces[].found_in, run.ledger.expected_head, BIPACHECK-HIDDEN-FACE
# 2.7.0: videos (photos[].kind and .video with the coverage, faces[].track with the times)
SCHEMA_VERSION = "2.7.0"


@dataclass
class Report:
    run: dict
    summary: dict
    findings: list[Finding]
    skipped: list[dict]
    photos: list[dict]  # one row per scanned file: path, sha256, faces count (no pixels)
    tool: dict = field(default_factory=dict)
    fail_on: str = "violation"  # the weakest severity that fails the run (decides exit_code)
    rules: RuleBook = field(default_factory=RuleBook)  # every rule the audit knew (SARIF lists them)
    # a video's path (as photos[] names it) -> its face tracks by track number (bipacheck.video.FaceTrack,
    # observations included), for `redact`; not part of the report document (boxes and times only, too)
    video_tracks: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        unknown = sorted({f.rule_id for f in self.findings if f.rule not in self.rules})
        if unknown:  # a finding whose rule the audit never loaded: a bug, never a silent report
            raise ValueError(f"findings name rules outside the audit's rule book: {', '.join(unknown)}")

    def as_dict(self) -> dict:
        findings = [f.as_dict() for f in self.findings]
        return {
            "schema_version": SCHEMA_VERSION,
            "tool": self.tool,
            "run": self.run,
            "summary": self.summary,
            "findings": findings,
            "skipped": self.skipped,
            "photos": self.photos,
            "persons": persons_roll_up(findings, self.photos),
        }

    def failing(self, fail_on: str | None = None) -> list[Finding]:
        """Findings not accepted in a baseline at or above `fail_on` (default: the report's own)."""
        fail_on = fail_on or self.fail_on
        return [f for f in self.findings if not f.suppressed and severity_at_least(f.severity, fail_on)]

    @property
    def unscanned(self) -> list[Finding]:
        """Files or frames that were not scanned (each carries an UNSCANNED finding; sidecars do not)."""
        return [f for f in self.findings if f.rule_id == "BIPACHECK-UNSCANNED" and not f.suppressed]

    @property
    def reach_unknown(self) -> list[Finding]:
        """Faces judged without a valid release where nobody said where they were processed, so
        whether the law reaches them could not be checked (review, not violation: never a pass)."""
        def unknown(f: Finding) -> bool:
            times = ((f.details or {}).get("exposure") or {}).get("processing") or []
            return bool(times) and all(t.get("territory") == "unknown" for t in times)

        return [f for f in self.findings if not f.suppressed and f.severity == "review" and unknown(f)]

    @property
    def exit_code(self) -> int:
        unchecked = bool(self.unscanned) or bool(self.reach_unknown)
        return int(exit_code(failing=bool(self.failing()), unscanned=unchecked))

    def render(self, format: str = "json", opts=None) -> str:
        """opts: the Options whose format settings apply (e.g. html_thumbnails); defaults without."""
        return formatter(format, opts).render(self)

    def write(self, path: str | os.PathLike, format: str = "json", opts=None) -> None:
        """Write the report in `format` to `path` atomically; an existing file is replaced only when it
        is a previous bipacheck report (never a ledger, a cache or a photo). The file's mode is
        opts.output_mode (default 0600: only its owner reads it)."""
        mode = getattr(opts, "output_mode", None)
        write_report(os.fspath(path), self.render(format, opts), REPORT_MODE if mode is None else mode)
