"""Statutory exposure estimate under 740 ILCS 14/20. An estimate for triage, not legal advice."""

from __future__ import annotations

NEGLIGENT = 1_000
RECKLESS = 5_000
DISCLAIMER = (
    "Estimate only, not legal advice. Liquidated damages under 740 ILCS 14/20: $1,000 per negligent and "
    "$5,000 per intentional or reckless violation. Since P.A. 103-0769 (Aug. 2, 2024) a person recovers "
    "once per method of collection ('per person'); before it, Cothron v. White Castle (Ill. 2023) let "
    "each scan count ('per scan', shown for comparison and for claims accrued earlier). Faces not linked "
    "to a ledger subject count as distinct persons."
)


def estimate(persons: int, scans: int, derives_identifiers: bool) -> dict:
    """persons: distinct unconsented people; scans: unconsented face occurrences across photos."""
    if not derives_identifiers:
        persons = scans = 0
    return {
        "label": "estimate",
        "unconsented_persons": persons,
        "unconsented_scans": scans,
        "per_person": {"negligent": persons * NEGLIGENT, "reckless": persons * RECKLESS},
        "per_scan": {"negligent": scans * NEGLIGENT, "reckless": scans * RECKLESS},
        "currency": "USD",
        "note": DISCLAIMER if derives_identifiers else
        "The declared processing derives no identifiers, so no statutory damages are estimated. " + DISCLAIMER,
    }
