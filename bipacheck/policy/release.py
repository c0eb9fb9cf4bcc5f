"""Is the release that covered a processing time a valid BIPA release? 15(b)(1)-(3).

15(b) asks for written notice that identifiers are collected, written notice of the specific
purpose and length of term, and a written release signed by the subject or their legally
authorized representative. A release missing one of them is defective even while "valid".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ..ledger.status import consent_state

REQUIRED_NOTICE = ("collection", "purpose", "term")
REPRESENTATIVES = ("parent", "guardian", "legal_rep")


@dataclass
class Judgement:
    """The release status of one subject at one processing time."""

    status: str  # a ConsentStatus status, or "defective"
    consent_id: str | None = None
    defects: list[str] = field(default_factory=list)
    certain: bool = True  # False when a defect rests on a fact the ledger does not record


def defects(consent, subject, minor_age: int) -> tuple[list[str], bool]:
    """(what the release lacks, whether at least one defect is established by recorded facts
    rather than resting on a fact the ledger does not record)."""
    found, unsure = [], []
    if not consent.purpose:
        found.append("no specific purpose")
    if consent.term is None and consent.expires_at is None:
        found.append("no length of term")
    if consent.notice_elements is not None:
        missing = [e for e in REQUIRED_NOTICE if e not in consent.notice_elements]
        if missing:
            found.append(f"the notice did not state: {', '.join(missing)}")
    elif consent.notice_version is None:
        found.append("no written notice recorded")
    else:
        unsure.append(f"what notice {consent.notice_version} stated is not recorded (notice_elements)")
    age = subject.age_on(consent.granted_at) if subject is not None else None
    if age is not None and age < minor_age and consent.signer_role not in REPRESENTATIVES:
        if consent.signer_role is None:
            unsure.append(f"the subject was {age} when it was signed and the signer is not recorded")
        else:
            found.append(f"signed by the subject at age {age}, not by a parent or guardian")
    return found + unsure, bool(found)


def judge(lookup, subject_id: str, scope: str, at: datetime, minor_age: int) -> Judgement:
    """The subject's release for `scope` at `at`: valid if any release in force then is complete;
    defective (citing the first one's defects) if every release in force lacks something."""
    status = lookup.consent_status(subject_id, scope, at)
    if not status.valid:
        return Judgement(status.status, status.consent_id)
    subject = lookup.subject_as_of(subject_id, at)
    in_force = [c for c in lookup.consents(subject_id) if consent_state(c, scope, at) == "valid"]
    in_force.sort(key=lambda c: c.consent_id != status.consent_id)  # the one the ledger cites first
    first: Judgement | None = None
    for consent in in_force:
        lacks, certain = defects(consent, subject, minor_age)
        if not lacks:
            return Judgement("valid", consent.consent_id)
        first = first or Judgement("defective", consent.consent_id, lacks, certain)
    return first  # in_force holds at least the release the ledger cited
