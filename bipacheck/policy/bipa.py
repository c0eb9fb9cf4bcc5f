"""BIPA (740 ILCS 14): the fields the release evaluator and the exposure estimate read, taken from
its jurisdiction pack (policy/packs/bipa.toml), which holds the statute's data and rules. Marks follow
../shared/LEGAL.md: V = checked against statute or opinion text, S = secondary sources only,
M = unverified, a configurable value.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from ..ledger.dates import add_years
from .pack import Pack, builtin


@dataclass(frozen=True)
class Law:
    id: str
    name: str
    citation: str
    consent_scope: str  # release scope that covers deriving identifiers
    retention_years: int  # destroy within N years of the last interaction (or purpose, if first)
    limitation_years: int  # claims on processing older than this before the audit date are barred
    negligent: int  # statutory maximum per violation
    reckless: int
    currency: str
    amendment_date: datetime  # from here on one recovery per person per method (15(b))
    amendment: str
    retroactivity_note: str
    method_note: str  # what "one recovery per person per method" leaves open
    policy_standing_note: str  # who may sue over a late 15(a) policy, and where
    minor_age: int  # a person younger than this cannot sign their own release
    disclosure_prefix: str  # release scope naming a recipient: disclose:<recipient>
    marks: dict[str, str]  # fact -> V/S/M
    pack: Pack  # the pack itself: its reach (policy.timeline.reach) and effective date

    def retention_deadline(self, subject) -> datetime | None:
        """15(a): destroy when the purpose is satisfied or `retention_years` after the last
        interaction, whichever comes first. subject: a ledger Subject (None: no deadline known)."""
        if subject is None:
            return None
        candidates = [subject.purpose_satisfied_at] if subject.purpose_satisfied_at else []
        if subject.last_interaction_at:
            candidates.append(add_years(subject.last_interaction_at, self.retention_years))
        return min(candidates) if candidates else None


PACK = builtin("bipa")
_ENF = PACK.enforcement

BIPA = Law(
    id=PACK.id,
    name=PACK.name,
    citation=PACK.citation,
    consent_scope=PACK.requires["consent_scope"],
    retention_years=PACK.retention["years_after_last_interaction"],
    limitation_years=_ENF["limitation_years"],
    negligent=_ENF["low"],
    reckless=_ENF["high"],
    currency=_ENF["currency"],
    amendment_date=datetime.fromisoformat(_ENF["amendment_date"]).replace(tzinfo=timezone.utc),
    amendment=_ENF["amendment"],
    retroactivity_note=_ENF["retroactivity_note"],
    method_note=_ENF["method_note"],
    policy_standing_note=_ENF["policy_standing_note"],
    minor_age=PACK.requires["minor_age"],
    disclosure_prefix=PACK.requires["disclosure_prefix"],
    marks=dict(PACK.marks),
    pack=PACK,
)

# Statutory exemptions an operator may attest (740 ILCS 14/25 and 14/10). [M: wording of 25(c)-(e)]
EXEMPTIONS: dict[str, str] = dict(PACK.raw["exemptions"])

RULES = {rule.id: rule for rule in PACK.rules}

# A release status at a processing time -> the rule a face processed then breaks.
CONSENT_RULES: dict[str, str] = dict(PACK.raw["consent_rules"])
