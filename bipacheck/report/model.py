"""The audit report: findings with stable fingerprints, skipped files, run facts and summary.

Nothing here can hold pixels, crops, landmarks, embeddings or display names: faces are boxes,
scores and ledger subject ids only.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field

from ..policy.rules import RULES, SEVERITIES
from .persons import persons_roll_up

# 1.1.0: run.detector.runtime; 1.2.0: run.fail_on, run.ledger.chain; 2.0.0: exposure per section,
# run.attestation; 2.1.0: faces[].consent (dates, evidence), photos[].face_records, persons;
# 2.2.0: jurisdiction packs (findings[].pack, summary.packs, summary.exposure_by_pack); 2.3.0: faces[].found_by
SCHEMA_VERSION = "2.3.0"
BOX_GRID = 8  # px; fingerprints round boxes so a re-encode that nudges a box keeps its identity


def fingerprint(content_sha256: str | None, rule_id: str, box: list[int] | None, fallback_key: str = "") -> str:
    """Stable id of a finding: content hash + rule + rounded box. No path, no timestamp, so a renamed
    photo keeps its fingerprint and an edited one gets a new one. `fallback_key` is used only when
    the content could not be read at all."""
    rounded = "-" if box is None else ",".join(str(round(v / BOX_GRID)) for v in box)
    key = f"{content_sha256 or 'unread:' + fallback_key}|{rule_id}|{rounded}"
    return hashlib.sha256(key.encode("utf-8", "backslashreplace")).hexdigest()[:32]


@dataclass
class FaceRecord:
    box: list[int]
    score: float | None  # None for a face known only from the ledger or metadata
    source: str  # 'detector', 'ledger' (a linked box the detector missed), 'metadata'
    subject_id: str | None = None
    consent_status: str = "none"
    consent_id: str | None = None
    found_by: str | None = None  # detector faces: "upright" or the rotated pass that found it (detect/passes.py)
    consent: dict | None = None  # the cited release's dates and evidence (see consent_facts)

    def as_dict(self) -> dict:
        return {
            "box": self.box,
            "score": None if self.score is None else round(self.score, 4),
            "source": self.source,
            "subject_id": self.subject_id,
            "consent_status": self.consent_status,
            "consent_id": self.consent_id,
            "found_by": self.found_by,
            "consent": self.consent,
        }


def consent_facts(consent) -> dict | None:
    """What proves (or disproves) a face's release: the cited consent's dates, method and evidence.
    `consent` is a ledger Consent (expires_at: when it lapses, explicit expiry or term); None if none."""
    if consent is None:
        return None
    from ..ledger.dates import format_datetime

    return {"granted_at": format_datetime(consent.granted_at), "expires_at": format_datetime(consent.ends_at),
            "revoked_at": format_datetime(consent.revoked_at),
            **{k: getattr(consent, k, None) for k in ("method", "scope", "notice_version", "evidence_uri",
                                                       "evidence_sha256")}}


@dataclass
class Finding:
    rule_id: str
    severity: str
    message: str
    path: str
    sha256: str | None
    size: int | None
    faces: list[FaceRecord] = field(default_factory=list)
    details: dict = field(default_factory=dict)
    baseline_state: str | None = None  # 'new' / 'unchanged' once compared with a baseline
    suppressed: bool = False
    justification: str | None = None

    def __post_init__(self):
        assert self.rule_id in RULES and self.severity in SEVERITIES

    @property
    def fingerprint(self) -> str:
        box = self.faces[0].box if len(self.faces) == 1 else None
        return fingerprint(self.sha256, self.rule_id, box, self.path)

    @property
    def citation(self) -> str:
        return RULES[self.rule_id].citation

    @property
    def pack(self) -> str | None:
        """The jurisdiction pack whose rule this is (None: a tool rule such as BIPACHECK-UNSCANNED)."""
        return RULES[self.rule_id].pack

    def as_dict(self) -> dict:
        out = {
            "rule_id": self.rule_id,
            "severity": self.severity,
            "citation": self.citation,
            "message": self.message,
            "photo": {"path": self.path, "sha256": self.sha256, "size": self.size},
            "faces": [f.as_dict() for f in self.faces],
            "fingerprint": self.fingerprint,
        }
        if self.pack:
            out["pack"] = self.pack
        if self.details:
            out["details"] = self.details
        if self.baseline_state:
            out["baseline_state"] = self.baseline_state
        if self.suppressed:
            out["suppressed"] = {"kind": "baseline", "justification": self.justification}
        return out


@dataclass
class Report:
    run: dict
    summary: dict
    findings: list[Finding]
    skipped: list[dict]
    photos: list[dict]  # one row per scanned file: path, sha256, faces count (no pixels)
    tool: dict = field(default_factory=dict)
    fail_on: str = "violation"  # the weakest severity that fails the run (decides exit_code)

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
        from ..policy.rules import severity_at_least

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
        from ..exits import exit_code

        unchecked = bool(self.unscanned) or bool(self.reach_unknown)
        return int(exit_code(failing=bool(self.failing()), unscanned=unchecked))

    def render(self, format: str = "json", opts=None) -> str:
        """opts: the Options whose format settings apply (e.g. html_thumbnails); defaults without."""
        from .formats import formatter

        return formatter(format, opts).render(self)

    def write(self, path: str | os.PathLike, format: str = "json", opts=None) -> None:
        """Write the report in `format` to `path` atomically; an existing file is replaced only when it
        is a previous bipacheck report (never a ledger, a cache or a photo)."""
        from .formats import write_report

        write_report(os.fspath(path), self.render(format, opts))
