"""Findings about the operator rather than a photo: 15(a) policy, 15(c), 15(d) recipients, 15(e).

They rest on the attestation alone. A missing statement is `review` (never silence); a stated
fact that breaks the statute, or that the audit's own dates contradict, is a `violation`.
"""

from __future__ import annotations

from ..findings import TOOL_RULES, Finding
from ..ledger.dates import format_datetime
from .attestation import Attestation
from .bipa import BIPA, RULES as BIPA_RULES
from .checks import OPERATOR
from .facts import how_to_state
from .profiles import Profile
from .timeline import Seen

RULES = {**BIPA_RULES, **TOOL_RULES}

WHERE = "[tool.bipacheck.org]"
DUTIES = ("BIPA-15A-POLICY", "BIPA-15C-PROFIT", "BIPA-15D-DISCLOSURE", "BIPA-15E-CARE")


def operator_rule_ids(packs) -> set[str]:
    """The rules whose findings can be about the operator rather than a photo: BIPA's duties, an
    attestation the ledger contradicts, and every pack rule judged on the operator's facts."""
    return set(DUTIES) | {"BIPACHECK-ATTESTATION-CONTRADICTED"} | {
        rule.id for pack in packs.values() for rule in pack.rules if rule.check in OPERATOR}


def _aggrieved(seen: Seen) -> list[dict]:
    """Each person processed before the policy was adopted, with the first and last such processing
    the exposure estimate can count (the last is the one the limitation period spares longest), or
    else their earliest, whose entry says why it is not counted."""
    out = []
    for person, (linked, entries) in sorted(seen.before_policy.items()):
        counted = sorted((e for e in entries if e["counted"]), key=lambda e: e["at"])
        kept = [counted[0], counted[-1]][: len({counted[0]["at"], counted[-1]["at"]})] if counted else \
            [min(entries, key=lambda e: e["at"])]
        out.append({"person": person, "linked": linked, "processing": kept})
    return out


def operator_findings(attestation: Attestation | None, profile: Profile, seen: Seen) -> list[Finding]:
    """seen: the processing the audit saw (its earliest time; the regions and recipients its
    events name)."""
    if not profile.derives_identifiers:
        return []  # no identifiers are derived: the duties below do not arise from this audit
    where = (attestation.source if attestation else None) or WHERE
    out: list[Finding] = []

    def add(rule_id: str, severity: str, message: str, **details) -> None:
        missing = details.get("missing")
        if missing:  # an unstated fact: say how to state it
            message += (" `bipacheck init` writes one." if missing == "attestation" else
                        f" To state it, {how_to_state(missing, attestation.source)}.")
        out.append(Finding(RULES[rule_id], severity, f"{message} {RULES[rule_id].summary}", where, None, None,
                           details={"attestation": WHERE, **details}))

    if attestation is None:
        for rule_id in DUTIES:
            add(rule_id, "review", "No operator attestation ([tool.bipacheck.org]) says how this duty is met.",
                missing="attestation")
        return out
    if not attestation.policy_url:
        add("BIPA-15A-POLICY", "review", "The attestation names no public retention policy (policy_url).",
            missing="policy_url")
    elif attestation.policy_adopted_at is None:
        add("BIPA-15A-POLICY", "review", "The attestation does not say when the public policy was adopted "
            "(policy_adopted_at).", missing="policy_adopted_at")
    elif seen.first is not None and attestation.policy_adopted_at > seen.first:
        affected = _aggrieved(seen)
        add("BIPA-15A-POLICY", "violation",
            f"The public policy was adopted {format_datetime(attestation.policy_adopted_at)}, after the first "
            f"processing the audit saw ({format_datetime(seen.first)}): {len(affected)} person(s) were processed "
            f"before it existed.",
            policy_adopted_at=format_datetime(attestation.policy_adopted_at),
            first_processed=format_datetime(seen.first), standing=BIPA.policy_standing_note,
            exposure={"section": "15(a)", "operator": True, "persons": affected})
    if attestation.sells_or_profits is None:
        add("BIPA-15C-PROFIT", "review", "The attestation does not say whether biometric data is sold or "
            "profited from (sells_or_profits).", missing="sells_or_profits")
    elif attestation.sells_or_profits:
        add("BIPA-15C-PROFIT", "violation", "The operator attests that it sells or profits from biometric data.",
            sells_or_profits=True)
    if attestation.recipients is None:
        add("BIPA-15D-DISCLOSURE", "review", "The attestation does not list who receives biometric data "
            "(recipients; an empty list if nobody).", missing="recipients")
    else:
        unlisted = sorted(seen.recipients - {r.name for r in attestation.recipients})
        if unlisted:  # a stated fact the ledger contradicts
            add("BIPA-15D-DISCLOSURE", "violation", f"The ledger's processing events send biometric data to "
                f"{', '.join(unlisted)}, which the attestation's recipients do not list.",
                contradicted="recipients", unlisted=unlisted)
    regions = attestation.processing_regions
    if regions is not None and seen.regions - set(regions):
        outside = sorted(seen.regions - set(regions))
        add("BIPACHECK-ATTESTATION-CONTRADICTED", "violation",
            f"The ledger's processing events name processing regions {', '.join(outside)} that the "
            f"attestation's processing_regions ({', '.join(regions) or 'none'}) do not list.",
            contradicted="processing_regions", unlisted=outside)
    if not attestation.security_standard:
        add("BIPA-15E-CARE", "review", "The attestation states no security standard (security_standard).",
            missing="security_standard")
    return out
