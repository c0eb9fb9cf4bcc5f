"""Rule ids, severities and citations. Ids are stable: baselines and SARIF dashboards key on them."""

from __future__ import annotations

from dataclasses import dataclass

# Severity order, weakest first; --fail-on picks the weakest that fails the run.
SEVERITIES = ("info", "review", "violation")


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    citation: str
    summary: str
    fix: str
    derived: bool  # True when the rule is a violation only if the profile derives identifiers


RULES: dict[str, Rule] = {
    r.id: r
    for r in [
        Rule("BIPA-15B-NO-RELEASE", "no-written-release", "740 ILCS 14/15(b)",
             "A face with no written release on record (bystanders and non-users included).",
             "Obtain a written release (electronic signatures count since P.A. 103-0769, 2024) and link it "
             "in the ledger, or redact the face, or stop deriving templates from this photo.", True),
        Rule("BIPA-15B-EXPIRED", "release-expired", "740 ILCS 14/15(b)",
             "The person's written release had expired on the audit date.",
             "Obtain a new release or destroy the biometric data.", True),
        Rule("BIPA-15B-REVOKED", "release-revoked", "740 ILCS 14/15(b)",
             "The person revoked their written release before the audit date.",
             "Stop processing the face and destroy the biometric data (15(a)).", True),
        Rule("BIPA-15B-NOT-YET-VALID", "release-not-yet-valid", "740 ILCS 14/15(b)",
             "The person's release starts after the audit date: 15(b) requires it before collection.",
             "Do not process the face before the release takes effect.", True),
        Rule("BIPA-15B-OUT-OF-SCOPE", "release-out-of-scope", "740 ILCS 14/15(b)(2)",
             "The person's release does not cover this processing (notice of specific purpose and term).",
             "Obtain a release whose scope covers the declared processing.", True),
        Rule("BIPA-15A-RETENTION", "retention-deadline-passed", "740 ILCS 14/15(a)",
             "Biometric data must be destroyed when the purpose is satisfied or within 3 years of the "
             "person's last interaction, whichever is first; that deadline has passed.",
             "Destroy the biometric identifiers derived from this person's photos.", True),
        Rule("BIPACHECK-UNSCANNED", "photo-not-scanned", "740 ILCS 14/15(b)",
             "The file could not be scanned, so it cannot be shown to be compliant.",
             "Fix or remove the file (see the reason) and audit again.", False),
        Rule("BIPACHECK-LOW-CONFIDENCE", "low-confidence-face", "740 ILCS 14/15(b)",
             "A possible face scored below the detection threshold: a person should look.",
             "Review the box; if it is a face without a release, treat it as BIPA-15B-NO-RELEASE.", False),
        Rule("BIPACHECK-FACE-TAGS", "face-tags-present", "740 ILCS 14/15(a), 14/15(b)",
             "The file's metadata holds face regions; named regions show a face was recognised or tagged, "
             "so biometric information may already exist and be stored.",
             "Confirm a valid release for each named person, or strip the tags "
             "(`bipacheck strip-face-tags`) and destroy derived data.", True),
    ]
}

CONSENT_RULES = {
    "none": "BIPA-15B-NO-RELEASE",
    "expired": "BIPA-15B-EXPIRED",
    "revoked": "BIPA-15B-REVOKED",
    "not-yet-valid": "BIPA-15B-NOT-YET-VALID",
    "out-of-scope": "BIPA-15B-OUT-OF-SCOPE",
}


def severity_at_least(severity: str, threshold: str) -> bool:
    if threshold == "never":
        return False
    return SEVERITIES.index(severity) >= SEVERITIES.index(threshold)
