"""Was a person's release good for one processing time? In force for the scope, and then, as each
law asks: complete (BIPA 15(b)(1)-(3)), explicit (GDPR Art. 9(2)(a)), for the purposes the
processing served (BIPA 15(b)(2) "the specific purpose"; GDPR "specified purposes"), and backed
by the signed document the ledger names (--evidence).

15(b) asks for written notice that identifiers are collected, written notice of the specific
purpose and length of term, and a written release signed by the subject or their legally
authorized representative. A release missing one of them is defective even while "valid".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..ledger.status import consent_state

REQUIRED_NOTICE = ("collection", "purpose", "term")
REPRESENTATIVES = ("parent", "guardian", "legal_rep")


@dataclass
class Judgement:
    """The release status of one subject at one processing time."""

    status: str  # a ConsentStatus status, or "defective", "not-explicit", "purpose", "unproven"
    consent_id: str | None = None
    defects: list[str] = field(default_factory=list)
    certain: bool = True  # False when the shortfall rests on a fact nobody recorded or could check


@dataclass(frozen=True)
class Needs:
    """What a release in force must also show for one processing time, beyond being in force."""

    content: bool = False  # BIPA 15(b)(1)-(3): notice of collection, purpose and term; a minor's representative
    explicit: bool = False  # an explicit consent (GDPR Art. 9(2)(a))
    purposes: bool = False  # the processing's purposes among the release's
    used: tuple[str, ...] = ()  # the purposes the processing served (empty: not recorded)
    writing: bool = False  # the law requires a writing: missing or altered evidence is a violation
    evidence: Any = None  # a policy.evidence.EvidenceRoot, or None: documents are not opened


def defects(consent, subject, minor_age: int) -> tuple[list[str], bool]:
    """(what the release lacks, whether at least one defect is established by recorded facts
    rather than resting on a fact the ledger does not record)."""
    found, unsure = [], []
    if not consent.purpose and not consent.purposes:
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


def purpose_gap(consent, used: tuple[str, ...]) -> tuple[str, bool] | None:
    """(why the processing's purposes are not shown to be the release's, certain), or None when
    they are. Certain only when both sides are recorded and a purpose is missing."""
    if not used:
        return ("the processing's purpose is not recorded (the event's purpose, or the attested "
                "processing_purposes)"), False
    if consent.purposes is None:
        return f"the release {consent.consent_id} lists no purposes to compare with {', '.join(used)}", False
    outside = [p for p in used if p not in consent.purposes]
    if outside:
        return (f"used for {', '.join(outside)}, outside the purposes of release {consent.consent_id} "
                f"({', '.join(consent.purposes) or 'none'})"), True
    return None


def _shortfall(consent, subject, minor_age: int, needs: Needs) -> Judgement | None:
    """The first thing `consent` does not show for this processing, or None: it is good."""
    if needs.content:
        lacks, certain = defects(consent, subject, minor_age)
        if lacks:
            return Judgement("defective", consent.consent_id, lacks, certain)
    if needs.explicit and consent.explicit is not True:
        unknown = consent.explicit is None
        return Judgement("not-explicit", consent.consent_id,
                         ["whether the consent was explicit is not recorded (explicit)" if unknown else
                          "the consent was not explicit"], not unknown)
    if needs.purposes:
        gap = purpose_gap(consent, needs.used)
        if gap:
            return Judgement("purpose", consent.consent_id, [gap[0]], gap[1])
    if needs.evidence is not None:
        check = needs.evidence.check(consent)
        if check.problem:
            return Judgement("unproven", consent.consent_id, [check.problem], needs.writing and check.certain)
    return None


def judge(lookup, subject_id: str, scopes: list[str], at: datetime, minor_age: int,
          needs: Needs = Needs()) -> Judgement:
    """The subject's release for any of `scopes` at `at`: valid if a release in force then shows
    everything `needs` asks; otherwise the shortfall of the release the ledger cites first."""
    statuses = [lookup.consent_status(subject_id, scope, at) for scope in scopes]
    cited = next((s for s in statuses if s.valid), None)
    if cited is None:
        return Judgement(statuses[0].status, statuses[0].consent_id)
    subject = lookup.subject_as_of(subject_id, at) if needs.content else None
    in_force = [c for c in lookup.consents(subject_id) if any(consent_state(c, s, at) == "valid" for s in scopes)]
    in_force.sort(key=lambda c: c.consent_id != cited.consent_id)  # the one the ledger cites first
    first: Judgement | None = None
    for consent in in_force:
        found = _shortfall(consent, subject, minor_age, needs)
        if found is None:
            return Judgement("valid", consent.consent_id)
        first = first or found
    return first  # in_force holds at least the release the ledger cited
