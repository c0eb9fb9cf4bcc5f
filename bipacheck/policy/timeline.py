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
from .pack import Pack

EVENT, UPLOAD, AUDIT = "processing-event", "upload-time", "audit-date"
IN, OUT, UNKNOWN = "in", "out", "unknown"
NOT_IN_FORCE = "not-in-force"  # processing before the law took effect (or after its sunset)


@dataclass(frozen=True)
class Processing:
    at: datetime
    source: str  # EVENT, UPLOAD or AUDIT
    capture_region: str | None = None
    processing_region: str | None = None
    recipients: tuple[str, ...] = ()
    method: str | None = None
    purposes: tuple[str, ...] = ()  # what it served: the event's purpose, else the attested ones; () unknown

    def as_dict(self) -> dict:
        out = {"at": format_datetime(self.at), "source": self.source}
        for name in ("capture_region", "processing_region", "method"):
            if getattr(self, name):
                out[name] = getattr(self, name)
        for name in ("recipients", "purposes"):
            if getattr(self, name):
                out[name] = list(getattr(self, name))
        return out


def processing_times(events: list, uploaded: datetime | None, as_of: datetime,
                     attestation: Attestation | None) -> list[Processing]:
    """The processing times up to `as_of`, oldest first.

    events: the ledger's ProcessingEvents for the photo. Without any, the upload time (if it is
    before the audit date) and the audit date itself: the photo is judged as first processed on
    upload and as still being processed now. Regions, recipients and purposes not in an event come
    from the attestation (a processing whose purpose nobody recorded serves every attested one)."""
    attested = attestation.recipients if attestation and attestation.recipients else ()
    purposes = tuple(attestation.processing_purposes or ()) if attestation else ()
    if events:
        return [Processing(e.processed_at, EVENT, e.capture_region, e.processing_region,
                           tuple(e.recipients), e.method, (e.purpose,) if e.purpose else purposes)
                for e in events if e.processed_at <= as_of]
    recipients = tuple(r.name for r in attested)
    times = [Processing(uploaded, UPLOAD, recipients=recipients, purposes=purposes)] \
        if uploaded and uploaded < as_of else []
    return times + [Processing(as_of, AUDIT, recipients=recipients, purposes=purposes)]


def reach(pack: Pack, p: Processing, residence: list[str] | None, facts: dict,
          attestation: Attestation | None) -> tuple[str, str]:
    """(IN / OUT / UNKNOWN / NOT_IN_FORCE, why): whether `pack`'s law reaches one processing time.
    The one place every pack's reach is judged, BIPA's included.

    Not in force before the law's effective date or from its sunset on. Otherwise in when any fact
    the trigger names is in the pack's territory; out only when every one of them is known and none
    is; unknown otherwise (review, never silently in or out). Where an event does not say where it
    was processed, the attestation's processing regions stand in: one region, or several that all
    lie outside the territory."""
    late = pack.not_in_force(p.at)
    if late:
        return NOT_IN_FORCE, late
    attested = attestation.processing_regions if attestation else None
    if p.processing_region:
        processed = [p.processing_region]
    elif attested and (len(attested) == 1 or not any(pack.covers(r) for r in attested)):
        processed = list(attested)
    else:
        processed = None
    known = {
        "residence": list(residence) if residence else None,
        "capture": [p.capture_region] if p.capture_region else None,
        "processing": processed,
        "establishment": list(facts["establishments"]) if facts.get("establishments") is not None else None,
        "targeting": _targeted(pack, p, residence, facts),
    }
    on = pack.trigger["on"]
    why = "; ".join(f"{fact} {', '.join(known[fact]) if known[fact] else 'none' if known[fact] == [] else 'unknown'}"
                    for fact in on)
    if any(pack.covers(r) for fact in on for r in known[fact] or ()):
        return IN, why
    if all(known[fact] is not None for fact in on):
        return OUT, why
    return UNKNOWN, why


def _targeted(pack: Pack, p: Processing, residence: list[str] | None, facts: dict) -> list[str] | None:
    """Where the person was, when the operator offers goods or services to, or monitors, people in
    the territory (GDPR Art. 3(2)): the capture region, else the residence. [] when the operator
    attests it does neither; None when that, or where the person was, is not known."""
    stated = [facts.get(name) for name in pack.trigger.get("targeting", ())]
    if any(s is True for s in stated):
        return [p.capture_region] if p.capture_region else (list(residence) if residence else None)
    return [] if stated and all(s is False for s in stated) else None


def territory(p: Processing, law: Law, attestation: Attestation | None) -> tuple[str, str]:
    """BIPA's reach at one processing time: capture or processing in Illinois (its pack's trigger)."""
    return reach(law.pack, p, None, {}, attestation)


@dataclass
class Seen:
    """What an audit's processing events said, across photos with faces: the earliest time, the
    regions and recipients the events name (to hold against the attestation), and each person's
    processing before the attested policy adoption (policy.evaluate.PhotoOutcome.processed)."""

    first: datetime | None = None
    regions: set[str] = field(default_factory=set)
    recipients: set[str] = field(default_factory=set)
    before_policy: dict[str, tuple[bool, list[dict]]] = field(default_factory=dict)

    def add_persons(self, processed: dict[str, tuple[bool, list[dict]]]) -> None:
        for person, (linked, entries) in processed.items():
            held = self.before_policy.setdefault(person, (linked, []))[1]
            held.extend(entries)

    def add(self, times: list[Processing]) -> None:
        if times:
            self.first = times[0].at if self.first is None else min(self.first, times[0].at)
        for p in times:
            if p.source == EVENT:
                self.regions.update(r for r in (p.processing_region,) if r)
                self.recipients.update(p.recipients)
