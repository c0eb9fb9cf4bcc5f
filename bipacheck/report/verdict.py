"""The one-line answer a reader wants first, and the exposure figures, shared by the markdown and
HTML reports."""

from __future__ import annotations

from .model import Report


def about_operator(finding) -> bool:
    """A finding about the operator (its attestation), not about a photo or a file."""
    return finding.sha256 is None and finding.rule_id != "BIPACHECK-UNSCANNED"


def verdict(report: Report) -> tuple[str, str]:
    """(level, sentence): level is 'fail', 'review', 'incomplete' or 'pass'. Baselined findings are
    accepted, so they do not count; files that could not be scanned are never a pass."""
    live = [f for f in report.findings if not f.suppressed]
    violations = sum(f.severity == "violation" for f in live)
    unscanned = sum(f.rule_id == "BIPACHECK-UNSCANNED" for f in live)
    review = sum(f.severity == "review" for f in live) - unscanned
    if violations:
        photos = len({f.path for f in live if f.severity == "violation" and not about_operator(f)})
        operator = sum(f.severity == "violation" and about_operator(f) for f in live)
        where = [f"in {photos} photo(s)"] if photos else []
        where += [f"{operator} about the operator"] if operator else []
        return "fail", f"{violations} violation(s) " + " and ".join(where)
    if review:
        return "review", f"no violations; {review} finding(s) need a person's review"
    if unscanned:
        return "incomplete", f"no violations found, but {unscanned} file(s) or frame(s) could not be scanned"
    return "pass", "no findings: every face has a valid release"


def _span(low: int, high: int, money: bool = False) -> str:
    fmt = (lambda v: f"${v:,}") if money else (lambda v: f"{v:,}")
    return fmt(low) if low == high else f"{fmt(low)}–{fmt(high)}"


def unconsented_persons(exposure: dict) -> str:
    """Persons without a valid release (15(b)), as the estimate counts them: a range when faces are
    unlinked (one person at least, every distinct face at most)."""
    persons = exposure["sections"]["15(b)"]["persons"]
    return _span(persons["low"], persons["high"])


def exposure_rows(exposure: dict) -> list[tuple[str, str, str, str]]:
    """(what, count, negligent, reckless) for the total, each section with persons in it, the 15(b)
    per-scan figure and the pre-amendment scans: the table the markdown and HTML reports show."""
    def row(label: str, count: str, money: dict) -> tuple[str, str, str, str]:
        return (label, count, _span(money["negligent"]["low"], money["negligent"]["high"], True),
                _span(money["reckless"]["low"], money["reckless"]["high"], True))

    law = exposure.get("law", "740 ILCS 14")
    total = exposure["total"]
    rows = [row(f"total ({law})", _span(total["violations"]["low"], total["violations"]["high"]) + " violation(s)",
                total)]
    for name, section in exposure["sections"].items():
        persons = section["persons"]
        if persons["high"]:
            rows.append(row(f"{name}, {section['counted']}", _span(persons["low"], persons["high"]), section))
    scan = exposure["sections"]["15(b)"]["per_scan"]
    if scan["scans"]:
        rows.append(row(f"15(b) per scan (Cothron), from {scan['basis']}", f"{scan['scans']} scan(s)", scan))
    pre = exposure["pre_amendment"]
    if pre["scans"]:
        rows.append(row(f"scans before {pre['before'][:10]} (contested ceiling)", f"{pre['scans']} scan(s)",
                        pre["per_scan"]))
    return rows


def pack_rows(summary: dict) -> list[tuple[str, str, str, str]]:
    """(pack, enforcement, violations, amount) per jurisdiction pack in scope, when more than BIPA is:
    each law's figure on its own basis, never added across packs."""
    packs = (summary.get("exposure_by_pack") or {}).get("packs", {})
    if len(packs) <= 1:
        return []
    rows = []
    for pack_id, e in packs.items():
        count = e["violations"]
        amount = e["amount"]
        money = e["basis"] if amount is None else f"{_span(amount['low'], amount['high'], True)} ({e['basis']})"
        rows.append((f"{pack_id} ({e['citation']})", e["enforcement"], _span(count["low"], count["high"]), money))
    return rows
