"""Rule ids, severities and citations. Ids are stable: baselines and SARIF dashboards key on them."""

from __future__ import annotations

from .bipa import CONSENT_RULES, RULES as BIPA_RULES
from .pack import Rule

__all__ = ["CONSENT_RULES", "RULES", "SEVERITIES", "Rule", "register", "severity_at_least"]

# Severity order, weakest first; --fail-on picks the weakest that fails the run.
SEVERITIES = ("info", "review", "violation")


_TOOL_RULES = [
    Rule("BIPACHECK-UNSCANNED", "photo-not-scanned", "740 ILCS 14/15(b)",
         "The file could not be scanned, so it cannot be shown to be compliant.",
         "Fix or remove the file (see the reason) and audit again.", False),
    Rule("BIPACHECK-LOW-CONFIDENCE", "low-confidence-face", "740 ILCS 14/15(b)",
         "A possible face scored below the detection threshold: a person should look.",
         "Review the box; if it is a face without a release, treat it as BIPA-15B-NO-RELEASE.", False),
    Rule("BIPACHECK-ATTESTATION-CONTRADICTED", "attestation-contradicted", "740 ILCS 14/15",
         "A fact the operator attested is contradicted by the ledger (e.g. processing in a region the "
         "attestation does not list), so findings that rely on the attestation cannot be trusted.",
         "Correct the attestation in [tool.bipacheck.org] or the ledger's processing events.", True, "S"),
    Rule("BIPACHECK-FACE-TAGS", "face-tags-present", "740 ILCS 14/15(a), 14/15(b)",
         "The file's metadata holds face regions; named regions show a face was recognised or tagged. "
         "A tag typed by a person or made by other software is not the operator's scan (Barnett v. "
         "Apple, 2022), so it is a violation only when the attested pipeline wrote it.",
         "Confirm a valid release for each named person, or strip the tags "
         "(`bipacheck strip-face-tags`) and destroy derived data.", True, "S"),
]

RULES: dict[str, Rule] = {
    r.id: r
    for r in [
        *BIPA_RULES,
        *_TOOL_RULES,
    ]
}


def register(rules) -> None:
    """Add a jurisdiction pack's rules; an id another pack already uses is a configuration error."""
    from ..errors import ConfigError

    for rule in rules:
        known = RULES.get(rule.id)
        if known is not None and known.pack != rule.pack:
            raise ConfigError(f"rule {rule.id} of pack {rule.pack} is already declared by "
                              f"{known.pack or 'bipacheck'}")
        RULES[rule.id] = rule


def severity_at_least(severity: str, threshold: str) -> bool:
    if threshold == "never":
        return False
    return SEVERITIES.index(severity) >= SEVERITIES.index(threshold)
