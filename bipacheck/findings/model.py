"""Findings and the faces they are about, with stable fingerprints.

Nothing here can hold pixels, crops, landmarks, embeddings or display names: faces are boxes,
scores and ledger subject ids only.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from .rules import SEVERITIES, Rule

BOX_GRID = 8  # px; fingerprints round boxes so a re-encode that nudges a box keeps its identity


def fingerprint(content_sha256: str | None, rule_id: str, box: list[int] | None, fallback_key: str = "",
                time_s: float | None = None) -> str:
    """Stable id of a finding: content hash + rule + rounded box (+ a video face's best time, to the
    tenth of a second). No path, no timestamp of the run, so a renamed photo keeps its fingerprint
    and an edited one gets a new one. `fallback_key` is used only when the content could not be
    read at all."""
    rounded = "-" if box is None else ",".join(str(round(v / BOX_GRID)) for v in box)
    key = f"{content_sha256 or 'unread:' + fallback_key}|{rule_id}|{rounded}"
    if time_s is not None:
        key += f"|t={time_s:.1f}"
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
    # a face in a video: its track's times in seconds (start_s, end_s: on and off screen, estimated;
    # may_start_s, may_end_s: the samples around them; first_seen_s, last_seen_s; best_time_s: the
    # frame `box` and `score` are from; samples) and `track`, its number in the video
    track: dict | None = None

    @property
    def time_s(self) -> float | None:
        """The best frame's time of a video face; None for a photo's."""
        return None if self.track is None else self.track["best_time_s"]

    def person_key(self, sha256: str | None) -> str:
        """Who an unlinked face is, as far as an audit can tell: this face of this content (in a
        video, this track: its box and best time)."""
        key = f"face:{sha256}:{self.box}"
        return key if self.time_s is None else f"{key}@{self.time_s:.3f}"

    @property
    def place(self) -> str:
        """Where the face is, as messages say it: the box, and in a video the times."""
        if self.track is None:
            return str(self.box)
        t = self.track
        return (f"{self.box} at {t['best_time_s']:.2f} s (on screen {t['start_s']:.2f}-{t['end_s']:.2f} s, "
                f"track {t['track']})")

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
            **({"track": self.track} if self.track is not None else {}),
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
        one = self.faces[0] if len(self.faces) == 1 else None
        return fingerprint(self.sha256, self.rule.id, one.box if one else None, self.path,
                           one.time_s if one else None)

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
