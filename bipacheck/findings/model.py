"""Findings and the faces they are about, with stable fingerprints.

Nothing here can hold pixels, crops, landmarks, embeddings or display names: faces are boxes,
scores and ledger subject ids only.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from .rules import SEVERITIES, Rule

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
    consent: dict | None = None  # the cited release's dates and evidence (policy.evaluate.consent_facts)
    # the release status at each processing time: {"at", "status", "consent_id"}
    verdicts: list[dict] = field(default_factory=list)
    # every release a verdict rests on: its facts and evidence, with the consent id
    documents: list[dict] = field(default_factory=list)
    found_in: str | None = None  # an alpha view or an embedded image, when not the frame's colours (scanning/views.py)

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
            "verdicts": self.verdicts,
            "documents": self.documents,
            **({"found_in": self.found_in} if self.found_in else {}),
        }


@dataclass
class Finding:
    rule: Rule
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
    provenance: dict | None = None  # where the photo came from beyond its path (git history), as the source said

    def __post_init__(self):
        # real checks, not asserts: `python -O` must not let a malformed finding into a legal report
        if not isinstance(self.rule, Rule):
            raise TypeError(f"Finding.rule must be a Rule, got {self.rule!r}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity {self.severity!r} is not one of {', '.join(SEVERITIES)}")

    @property
    def rule_id(self) -> str:
        return self.rule.id

    @property
    def fingerprint(self) -> str:
        box = self.faces[0].box if len(self.faces) == 1 else None
        return fingerprint(self.sha256, self.rule.id, box, self.path)

    @property
    def citation(self) -> str:
        return self.rule.citation

    @property
    def pack(self) -> str | None:
        """The jurisdiction pack whose rule this is (None: a tool rule such as BIPACHECK-UNSCANNED)."""
        return self.rule.pack

    def as_dict(self) -> dict:
        out = {
            "rule_id": self.rule.id,
            "severity": self.severity,
            "citation": self.citation,
            "message": self.message,
            "photo": {"path": self.path, "sha256": self.sha256, "size": self.size},
            "faces": [f.as_dict() for f in self.faces],
            "fingerprint": self.fingerprint,
        }
        if self.pack:
            out["pack"] = self.pack
        if self.provenance:
            out.update(self.provenance)
        if self.details:
            out["details"] = self.details
        if self.baseline_state:
            out["baseline_state"] = self.baseline_state
        if self.suppressed:
            out["suppressed"] = {"kind": "baseline", "justification": self.justification}
        return out
