"""BIPA (740 ILCS 14) as data: reach, deadlines, damages, dates and its rules, in one place.

Everything the evaluator and the exposure estimate need to know about the statute lives here,
so a later jurisdiction pack can hold the same fields for another law. Marks follow
../shared/LEGAL.md: V = checked against statute or opinion text, S = secondary sources only,
M = unverified, a configurable value.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone


@dataclass(frozen=True)
class Law:
    id: str
    name: str
    citation: str
    territory: tuple[str, ...]  # ISO 3166-2 regions where capture or processing brings it in
    consent_scope: str  # release scope that covers deriving identifiers
    retention_years: int  # destroy within N years of the last interaction (or purpose, if first)
    limitation_years: int  # claims on processing older than this before the audit date are barred
    negligent: int  # statutory maximum per violation
    reckless: int
    currency: str
    amendment_date: datetime  # from here on one recovery per person per method (15(b))
    amendment: str
    retroactivity_note: str
    minor_age: int  # a person younger than this cannot sign their own release
    disclosure_prefix: str  # release scope naming a recipient: disclose:<recipient>
    marks: dict[str, str]  # fact -> V/S/M


BIPA = Law(
    id="bipa",
    name="Illinois Biometric Information Privacy Act",
    citation="740 ILCS 14",
    territory=("US-IL",),
    consent_scope="face_geometry",
    retention_years=3,
    limitation_years=5,
    negligent=1_000,
    reckless=5_000,
    currency="USD",
    amendment_date=datetime(2024, 8, 2, tzinfo=timezone.utc),
    amendment="P.A. 103-0769",
    retroactivity_note=(
        "Whether P.A. 103-0769 (2024-08-02: one recovery per person per method) applies to claims "
        "that accrued before it is contested: district courts split in 2024-25 (Gregg, Schwartz, "
        "Clay); the 7th Circuit heard argument on 2026-02-12 and a 2026-04-01 opinion in Clay v. "
        "Union Pacific is reported to hold it retroactive (secondary sources, unverified); federal "
        "rulings do not bind Illinois courts. Per-scan figures for this processing are a "
        "contested ceiling (note as of 2026-04-01)."),
    minor_age=18,
    disclosure_prefix="disclose:",
    marks={
        "scans of face geometry derived from photos are covered (Monroy, Rivera)": "V",
        "15(b) release first, each scan accrues separately (Cothron, 2023 IL 128004)": "V",
        "15(a) policy must exist at collection (Mora v. J&M Plating)": "S",
        "15(d) one recovery per recipient (740 ILCS 14/20(c))": "V",
        "5-year limitation (Tims v. Black Horse Carriers, 2023 IL 127801)": "V",
        "reach: primarily and substantially in Illinois (Vance; McGoveran)": "S",
        "CBA preemption (Walton v. Roosevelt University, 2023 IL 128338)": "V",
        "face tags typed by a person are not the operator's scan (Barnett v. Apple)": "S",
        "exemptions, wording of 14/25(c)-(e)": "M",
        "retroactivity of P.A. 103-0769": "S",
    },
)

# Statutory exemptions an operator may attest (740 ILCS 14/25 and 14/10). [M: wording of 25(c)-(e)]
EXEMPTIONS = {
    "glba_financial_institution": "740 ILCS 14/25(c): financial institution subject to Title V of "
                                  "the Gramm-Leach-Bliley Act",
    "government_contractor": "740 ILCS 14/25(e): contractor, subcontractor or agent of a State or "
                             "local government agency working for it",
    "health_care_setting": "740 ILCS 14/10: information captured from a patient in a health care "
                           "setting",
}

# (id, name, citation, mark, section for exposure or None, summary, fix, derived)
RULES = (
    ("BIPA-15B-NO-RELEASE", "no-written-release", "740 ILCS 14/15(b)", "V", "15(b)",
     "A face processed with no written release on record (bystanders and non-users included).",
     "Obtain a written release before processing (electronic signatures count since P.A. "
     "103-0769, 2024) and link it in the ledger, or redact the face, or stop deriving templates "
     "from this photo.", True),
    ("BIPA-15B-EXPIRED", "release-expired", "740 ILCS 14/15(b)", "V", "15(b)",
     "The face was processed after the person's written release had lapsed.",
     "Obtain a new release before processing again, or destroy the biometric data.", True),
    ("BIPA-15B-REVOKED", "release-revoked", "740 ILCS 14/15(b)", "V", "15(b)",
     "The face was processed after the person revoked their written release.",
     "Stop processing the face. 15(a) does not itself require destruction on revocation; "
     "follow your own retention schedule (and any law that grants withdrawal, e.g. Colorado, "
     "GDPR).", True),
    ("BIPA-15B-NOT-YET-VALID", "release-after-processing", "740 ILCS 14/15(b)", "V", "15(b)",
     "The face was processed before the person's release was signed: 15(b) requires the "
     "release first (each scan accrues separately, Cothron v. White Castle, 2023).",
     "Do not process a face before its release takes effect; the earlier scans stay "
     "violations.", True),
    ("BIPA-15B-OUT-OF-SCOPE", "release-out-of-scope", "740 ILCS 14/15(b)(2)", "V", "15(b)",
     "The person's release does not cover this processing (notice of specific purpose and "
     "term).", "Obtain a release whose scope covers the declared processing.", True),
    ("BIPA-15B-DEFECTIVE-RELEASE", "release-defective", "740 ILCS 14/15(b)(1)-(3)", "V", "15(b)",
     "The release lacks the written notice of collection, the specific purpose or the length "
     "of term, or was signed by a minor rather than their legally authorized representative.",
     "Obtain a complete release (notice of collection, specific purpose, length of term) "
     "signed by the subject or, for a minor, a parent or guardian.", True),
    ("BIPA-15A-RETENTION", "retention-deadline-passed", "740 ILCS 14/15(a)", "V", "15(a)",
     "Biometric data must be destroyed when the purpose is satisfied or within 3 years of the "
     "person's last interaction, whichever is first; that deadline has passed.",
     "Destroy the biometric identifiers derived from this person's photos.", True),
    ("BIPA-15A-NO-DEADLINE", "retention-deadline-unknown", "740 ILCS 14/15(a)", "V", None,
     "No destruction deadline can be computed: the face is not linked to a ledger subject "
     "with a last interaction or purpose date.",
     "Link the face to a subject with last_interaction_at, or destroy its derived data.", True),
    ("BIPA-15A-POLICY", "retention-policy", "740 ILCS 14/15(a)", "S", "15(a)",
     "A public written retention and destruction policy must exist when identifiers are first "
     "collected (Mora v. J&M Plating, 2022).",
     "Publish the policy and attest its URL and adoption date in [tool.bipacheck.org].", True),
    ("BIPA-15C-PROFIT", "profit-from-biometrics", "740 ILCS 14/15(c)", "V", "15(c)",
     "No private entity may sell, lease, trade or otherwise profit from biometric data; "
     "consent does not cure it.", "Stop the sale or the consideration received.", True),
    ("BIPA-15D-DISCLOSURE", "disclosure-without-consent", "740 ILCS 14/15(d)", "V", "15(d)",
     "Biometric data was (or is attested to be) disclosed to a recipient without the person's "
     "consent to that disclosure (one recovery per recipient, 14/20(c)).",
     "Obtain releases with the scope disclose:<recipient>, or stop the disclosure.", True),
    ("BIPA-15E-CARE", "standard-of-care", "740 ILCS 14/15(e)", "V", None,
     "Biometric data must be stored and protected with reasonable care, at least as well as "
     "other confidential data; only the operator can attest it.",
     "Attest the security standard in [tool.bipacheck.org] (security_standard).", True),
)

# A release status at a processing time -> the rule a face processed then breaks.
CONSENT_RULES = {
    "none": "BIPA-15B-NO-RELEASE",
    "expired": "BIPA-15B-EXPIRED",
    "revoked": "BIPA-15B-REVOKED",
    "not-yet-valid": "BIPA-15B-NOT-YET-VALID",
    "out-of-scope": "BIPA-15B-OUT-OF-SCOPE",
    "defective": "BIPA-15B-DEFECTIVE-RELEASE",
}
