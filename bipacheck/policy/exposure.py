"""Statutory exposure estimate under 740 ILCS 14/20, from the findings. For triage, not legal advice.

Per section, as a range of statutory maxima (negligent ... intentional or reckless) before
judicial discretion (Cothron ¶42) and without fees or actual damages. Persons are a range: every
linked subject, plus one person if any face is unlinked ... plus every distinct unlinked face.
Processing older than the limitation period (Tims) is listed, not counted; processing before the
2024 amendment is shown per scan, separately, as a contested ceiling. Baselined findings are
accepted and left out. Findings carry what counts in `details.exposure` (policy.evaluate).
"""

from __future__ import annotations

from datetime import datetime

from ..ledger.dates import add_years, format_datetime, parse_datetime
from .bipa import BIPA, Law

SECTIONS = ("15(a)", "15(b)", "15(c)", "15(d)")
EVENT = "processing-event"


def _money(count_low: int, count_high: int, law: Law) -> dict:
    return {"negligent": {"low": count_low * law.negligent, "high": count_high * law.negligent},
            "reckless": {"low": count_low * law.reckless, "high": count_high * law.reckless}}


def _persons(keys: dict[str, bool]) -> tuple[int, int]:
    linked = sum(1 for is_linked in keys.values() if is_linked)
    unlinked = len(keys) - linked
    return linked + (1 if unlinked else 0), linked + unlinked


def estimate(findings, as_of: datetime, derives_identifiers: bool = True, law: Law = BIPA) -> dict:
    cutoff = add_years(as_of, -law.limitation_years)
    persons: dict[str, dict[str, bool]] = {s: {} for s in SECTIONS}
    recipients: dict[str, dict[str, bool]] = {}
    scans: set[tuple[str, str]] = set()
    pre_amendment: set[tuple[str, str]] = set()
    sources: set[str] = set()
    barred: list[dict] = []
    not_counted: dict[str, set] = {}
    accepted: list[str] = []
    for f in findings:
        exposure = f.details.get("exposure") if f.details else None
        if not exposure or not exposure.get("section"):
            continue
        if f.suppressed:
            accepted.append(f.fingerprint)
            continue
        section, person = exposure["section"], exposure["person"]
        for entry in exposure["processing"]:
            at = parse_datetime(entry["at"])
            # without processing events a photo occurrence is one scan, whatever times stand in for it
            when = entry["at"] if entry["source"] == EVENT else "occurrence"
            if not entry["counted"]:
                reason = entry["not_counted"].split(":")[0]
                not_counted.setdefault(reason, set()).add((f.sha256, section, person, when))
                continue
            if at < cutoff:
                barred.append({"rule_id": f.rule_id, "photo": f.path, "at": entry["at"]})
                continue
            persons[section][person] = exposure["linked"]
            if section == "15(d)":
                recipients.setdefault(entry["recipient"], {})[person] = exposure["linked"]
            if section == "15(b)":
                scans.add((f"{f.sha256}:{person}", when))
                sources.add(entry["source"])
                if at < law.amendment_date:
                    pre_amendment.add((f"{f.sha256}:{person}", when))
    sections: dict[str, dict] = {}
    total_low = total_high = 0
    for section in SECTIONS:
        if section == "15(d)":
            per = {name: _persons(keys) for name, keys in sorted(recipients.items())}
            low, high = sum(p[0] for p in per.values()), sum(p[1] for p in per.values())
            entry = {"counted": "persons per recipient (740 ILCS 14/20(c))",
                     "recipients": {n: {"low": p[0], "high": p[1]} for n, p in per.items()}}
        else:
            low, high = _persons(persons[section])
            entry = {"counted": "persons"}
        entry["persons"] = {"low": low, "high": high}
        entry.update(_money(low, high, law))
        sections[section] = entry
        total_low, total_high = total_low + low, total_high + high
    basis = ("processing events" if sources == {EVENT} else
             "photo occurrences, a lower bound (no processing events for some photos)")
    sections["15(b)"]["per_scan"] = {"scans": len(scans), "basis": basis, **_money(len(scans), len(scans), law)}
    out = {
        "label": "estimate",
        "law": law.citation,
        "currency": law.currency,
        "basis": "statutory maxima per section before judicial discretion, without fees or actual "
                 "damages (which apply instead when greater)",
        "sections": sections,
        "total": {"violations": {"low": total_low, "high": total_high}, **_money(total_low, total_high, law)},
        "pre_amendment": {
            "before": format_datetime(law.amendment_date), "scans": len(pre_amendment),
            "per_scan": _money(len(pre_amendment), len(pre_amendment), law),
            "note": law.retroactivity_note},
        "time_barred": {"before": cutoff.date().isoformat(), "processing": barred},
        "not_counted": {reason: len(keys) for reason, keys in sorted(not_counted.items())},
        "accepted": sorted(accepted),
        "note": DISCLAIMER if derives_identifiers else
        "The declared processing derives no identifiers, so no statutory damages are estimated. " + DISCLAIMER,
    }
    return out


DISCLAIMER = (
    "Estimate only, not legal advice. Liquidated damages under 740 ILCS 14/20: up to $1,000 per negligent "
    "and $5,000 per intentional or reckless violation, or actual damages if greater, plus fees. Figures are "
    "totals of statutory maxima per section; a court may award less (Cothron v. White Castle, 2023 IL "
    "128004, ¶42). Since P.A. 103-0769 (2024-08-02) a person recovers once per method of collection for "
    "15(b) and once per recipient for 15(d). Processing more than 5 years before the audit date is listed "
    "but not counted (Tims v. Black Horse Carriers, 2023 IL 127801)."
)
