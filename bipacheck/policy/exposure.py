"""Statutory exposure estimate under 740 ILCS 14/20, from the findings. For triage, not legal advice.

Per section, as a range of statutory maxima (negligent ... intentional or reckless) before
judicial discretion (Cothron ¶42) and without fees or actual damages. Persons are a range: every
linked subject, plus one person if any face is unlinked ... plus every distinct unlinked face.
15(b) counts each person once per method of collection (P.A. 103-0769): once per person at the
low end (every method one), once per processing method the ledger records at the high end, since
what counts as one method is untested. Per-scan figures (Cothron) are shown only for processing
before the amendment, as a contested ceiling. 15(a) counts each person processed before a late
retention policy (Mora) as well as each passed destruction deadline. Processing older than the
limitation period (Tims) is listed, not counted. Baselined findings are accepted and left out.
Findings carry what counts in `details.exposure` (policy.evaluate, policy.operator).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from ..ledger.dates import add_years, format_datetime, parse_datetime
from .bipa import BIPA, Law

SECTIONS = ("15(a)", "15(b)", "15(c)", "15(d)")
EVENT = "processing-event"
UNRECORDED = "(method not recorded)"


def _money(count_low: int, count_high: int, law: Law) -> dict:
    return {"negligent": {"low": count_low * law.negligent, "high": count_high * law.negligent},
            "reckless": {"low": count_low * law.reckless, "high": count_high * law.reckless}}


def _persons(keys: dict[str, bool]) -> tuple[int, int]:
    linked = sum(1 for is_linked in keys.values() if is_linked)
    unlinked = len(keys) - linked
    return linked + (1 if unlinked else 0), linked + unlinked


def _people(exposure: dict):
    """(person, linked, processing entries) of one finding: its face's person, or, for a finding
    about the operator (a late 15(a) policy), every person it names."""
    if "persons" in exposure:
        for p in exposure["persons"]:
            yield p["person"], p["linked"], p["processing"]
    else:
        yield exposure["person"], exposure["linked"], exposure["processing"]


def estimate(findings, as_of: datetime, derives_identifiers: bool = True, law: Law = BIPA) -> dict:
    cutoff = add_years(as_of, -law.limitation_years)
    persons: dict[str, dict[str, bool]] = {s: {} for s in SECTIONS}
    recipients: dict[str, dict[str, bool]] = {}
    methods: dict[str, set[str]] = {}  # 15(b): person -> the methods of their counted processing
    late_policy: set[str] = set()  # 15(a): persons counted because the policy came after them
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
        section = exposure["section"]
        for person, linked, entries in _people(exposure):
            for entry in entries:
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
                persons[section][person] = linked
                if exposure.get("operator"):
                    late_policy.add(person)
                if section == "15(d)":
                    recipients.setdefault(entry["recipient"], {})[person] = linked
                if section == "15(b)":
                    methods.setdefault(person, set()).add(entry.get("method") or UNRECORDED)
                    sources.add(entry["source"])
                    if at < law.amendment_date:
                        pre_amendment.add((f"{f.sha256}:{person}", when))
    sections: dict[str, dict] = {}
    total_low = total_high = 0
    for section in SECTIONS:
        low, high = _persons(persons[section])
        entry = {"counted": "persons", "persons": {"low": low, "high": high}}
        if section == "15(d)":
            per = {name: _persons(keys) for name, keys in sorted(recipients.items())}
            low, high = sum(p[0] for p in per.values()), sum(p[1] for p in per.values())
            entry = {"counted": "persons per recipient (740 ILCS 14/20(c))", "persons": {"low": low, "high": high},
                     "recipients": {n: {"low": p[0], "high": p[1]} for n, p in per.items()}}
        elif section == "15(b)":
            high = sum(len(methods[p]) for p in persons[section])  # every unlinked face is its own person
            entry = {**entry, "counted": "persons, once per method of collection (P.A. 103-0769)",
                     "methods": dict(sorted(Counter(m for p in persons[section] for m in methods[p]).items())),
                     "note": law.method_note}
        elif section == "15(a)" and late_policy:
            entry["late_policy_persons"] = len(late_policy)
            entry["note"] = law.policy_standing_note
        entry["violations"] = {"low": low, "high": high}
        entry.update(_money(low, high, law))
        sections[section] = entry
        total_low, total_high = total_low + low, total_high + high
    basis = ("processing events" if sources == {EVENT} else
             "photo occurrences, a lower bound (no processing events for some photos)")
    scans = len(pre_amendment)
    sections["15(b)"]["per_scan"] = {
        "scans": scans, "before": format_datetime(law.amendment_date), "basis": basis,
        "note": "per scan (Cothron) only for processing before " + law.amendment + ": a contested ceiling",
        **_money(scans, scans, law)}
    out = {
        "label": "estimate",
        "law": law.citation,
        "currency": law.currency,
        "basis": "statutory maxima per section before judicial discretion, without fees or actual "
                 "damages (which apply instead when greater)",
        "sections": sections,
        "total": {"violations": {"low": total_low, "high": total_high}, **_money(total_low, total_high, law)},
        "pre_amendment": {
            "before": format_datetime(law.amendment_date), "scans": scans,
            "per_scan": _money(scans, scans, law),
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
    "15(b) and once per recipient for 15(d); scans before it are also shown per scan, as a contested "
    "ceiling. Processing more than 5 years before the audit date is listed but not counted (Tims v. Black "
    "Horse Carriers, 2023 IL 127801)."
)
