"""When and where a photo was processed: the times a release is judged at.

Consent is judged at each processing time, not at the audit date (BIPA 15(b) "unless it first";
each scan accrues separately, Cothron v. White Castle). Times come from the ledger's processing
events; without them, from the object's upload time (file mtime, bucket LastModified, as listed),
a documented weaker fallback; without that, from the audit date alone. Every time says which source it came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ..ledger.dates import format_datetime
from .attestation import Attestation
from .bipa import Law

EVENT, UPLOAD, AUDIT = "processing-event", "upload-time", "audit-date"
IN, OUT, UNKNOWN = "in", "out", "unknown"


@dataclass(frozen=True)
class Processing:
    at: datetime
    source: str  # EVENT, UPLOAD or AUDIT
    capture_region: str | None = None
    processing_region: str | None = None
    recipients: tuple[str, ...] = ()
    method: str | None = None

    def as_dict(self) -> dict:
        out = {"at": format_datetime(self.at), "source": self.source}
        for name in ("capture_region", "processing_region", "method"):
            if getattr(self, name):
                out[name] = getattr(self, name)
        if self.recipients:
            out["recipients"] = list(self.recipients)
        return out


def processing_times(events: list, uploaded: datetime | None, as_of: datetime,
                     attestation: Attestation | None) -> list[Processing]:
    """The processing times up to `as_of`, oldest first.

    events: the ledger's ProcessingEvents for the photo. Without any, the upload time (if it is
    before the audit date) and the audit date itself: the photo is judged as first processed on
    upload and as still being processed now. Regions and recipients not in an event come from
    the attestation."""
    attested = attestation.recipients if attestation and attestation.recipients else ()
    if events:
        return [Processing(e.processed_at, EVENT, e.capture_region, e.processing_region,
                           tuple(e.recipients), e.method)
                for e in events if e.processed_at <= as_of]
    recipients = tuple(r.name for r in attested)
    times = [Processing(uploaded, UPLOAD, recipients=recipients)] if uploaded and uploaded < as_of else []
    return times + [Processing(as_of, AUDIT, recipients=recipients)]


def territory(p: Processing, law: Law, attestation: Attestation | None) -> tuple[str, str]:
    """(IN / OUT / UNKNOWN, why) for one processing under the law's territorial reach.

    In when capture or processing happened in the territory; out only when both places are
    known and neither is in it; unknown otherwise (review, never silently in or out). Where an
    event does not say, the attestation's processing regions stand in when they are one place.
    """
    attested = attestation.processing_regions if attestation else None
    processed = p.processing_region or (attested[0] if attested and len(attested) == 1 else None)
    where = f"captured in {p.capture_region or 'an unknown place'}, processed in " + (
        processed or ("one of " + ", ".join(attested) if attested else "an unknown place"))
    if p.capture_region in law.territory or processed in law.territory:
        return IN, where
    if p.capture_region and (processed or (attested and not set(attested) & set(law.territory))):
        return OUT, where
    return UNKNOWN, where


@dataclass
class Seen:
    """What an audit's processing events said, across photos with faces: the earliest time, and
    the regions and recipients the events name (to hold against the attestation)."""

    first: datetime | None = None
    regions: set[str] = field(default_factory=set)
    recipients: set[str] = field(default_factory=set)

    def add(self, times: list[Processing]) -> None:
        if times:
            self.first = times[0].at if self.first is None else min(self.first, times[0].at)
        for p in times:
            if p.source == EVENT:
                self.regions.update(r for r in (p.processing_region,) if r)
                self.recipients.update(p.recipients)
