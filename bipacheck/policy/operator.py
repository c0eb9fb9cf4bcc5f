"""Findings about the operator rather than a photo: 15(a) policy, 15(c), 15(d) recipients, 15(e).

They rest on the attestation alone. A missing statement is `review` (never silence); a stated
fact that breaks the statute, or that the audit's own dates contradict, is a `violation`.
"""

from __future__ import annotations

from datetime import datetime

from ..ledger.dates import format_datetime
from ..report.model import Finding
from .attestation import Attestation
from .profiles import Profile
from .rules import RULES

WHERE = "[tool.bipacheck.org]"


def operator_findings(attestation: Attestation | None, profile: Profile, first_processed: datetime | None) -> list[Finding]:
    """first_processed: the earliest processing time the audit saw (None if no face was seen)."""
    if not profile.derives_identifiers:
        return []  # no identifiers are derived: the duties below do not arise from this audit
    where = (attestation.source if attestation else None) or WHERE
    out: list[Finding] = []

    def add(rule_id: str, severity: str, message: str, **details) -> None:
        out.append(Finding(rule_id, severity, f"{message} {RULES[rule_id].summary}", where, None, None,
                           details={"attestation": WHERE, **details}))

    if attestation is None:
        for rule_id in ("BIPA-15A-POLICY", "BIPA-15C-PROFIT", "BIPA-15D-DISCLOSURE", "BIPA-15E-CARE"):
            add(rule_id, "review", "No operator attestation ([tool.bipacheck.org]) says how this duty is met.",
                missing="attestation")
        return out
    if not attestation.policy_url:
        add("BIPA-15A-POLICY", "review", "The attestation names no public retention policy (policy_url).",
            missing="policy_url")
    elif attestation.policy_adopted_at is None:
        add("BIPA-15A-POLICY", "review", "The attestation does not say when the public policy was adopted "
            "(policy_adopted_at).", missing="policy_adopted_at")
    elif first_processed is not None and attestation.policy_adopted_at > first_processed:
        add("BIPA-15A-POLICY", "violation",
            f"The public policy was adopted {format_datetime(attestation.policy_adopted_at)}, after the first "
            f"processing the audit saw ({format_datetime(first_processed)}).",
            policy_adopted_at=format_datetime(attestation.policy_adopted_at),
            first_processed=format_datetime(first_processed))
    if attestation.sells_or_profits is None:
        add("BIPA-15C-PROFIT", "review", "The attestation does not say whether biometric data is sold or "
            "profited from (sells_or_profits).", missing="sells_or_profits")
    elif attestation.sells_or_profits:
        add("BIPA-15C-PROFIT", "violation", "The operator attests that it sells or profits from biometric data.",
            sells_or_profits=True)
    if attestation.recipients is None:
        add("BIPA-15D-DISCLOSURE", "review", "The attestation does not list who receives biometric data "
            "(recipients; an empty list if nobody).", missing="recipients")
    if not attestation.security_standard:
        add("BIPA-15E-CARE", "review", "The attestation states no security standard (security_standard).",
            missing="security_standard")
    return out
