"""The one-line answer a reader wants first, and the exposure figures as text and table rows,
shared by the table, markdown and HTML reports."""

from __future__ import annotations


def about_operator(finding) -> bool:
    """A finding about the operator (its attestation), not about a photo or a file."""
    return finding.sha256 is None and finding.rule_id != "BIPACHECK-UNSCANNED"


def verdict(report) -> tuple[str, str]:
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
    """(what, count, negligent, reckless) for the total, each section with violations in it and the
    scans before the 2024 amendment (per scan, a contested ceiling): the table the markdown and HTML
    reports show."""
    def row(label: str, count: str, money: dict) -> tuple[str, str, str, str]:
        return (label, count, _span(money["negligent"]["low"], money["negligent"]["high"], True),
                _span(money["reckless"]["low"], money["reckless"]["high"], True))

    law = exposure.get("law", "740 ILCS 14")
    total = exposure["total"]
    rows = [row(f"total ({law})", _span(total["violations"]["low"], total["violations"]["high"]) + " violation(s)",
                total)]
    for name, section in exposure["sections"].items():
        count = section.get("violations", section["persons"])  # 15(b): once per person per method
        if count["high"]:
            rows.append(row(f"{name}, {section['counted']}", _span(count["low"], count["high"]), section))
    pre = exposure["pre_amendment"]
    if pre["scans"]:
        rows.append(row(f"15(b) per scan (Cothron), scans before {pre['before'][:10]} (contested ceiling)",
                        f"{pre['scans']} scan(s)",
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


def exposure_lines(exp: dict) -> list[str]:
    """The estimate as text: the total range, then each section that has persons in it."""
    def span(money: dict, kind: str) -> str:
        low, high = money[kind]["low"], money[kind]["high"]
        return f"${low:,}" if low == high else f"${low:,}-${high:,}"

    total = exp["total"]
    lines = [f"exposure (estimate, not legal advice; statutory maxima, total): {span(total, 'negligent')} "
             f"negligent ... {span(total, 'reckless')} reckless"]
    for name, section in exp["sections"].items():
        found = section.get("violations", section["persons"])  # 15(b): once per person per method
        if found["high"]:
            count = found["low"] if found["low"] == found["high"] else f"{found['low']}-{found['high']}"
            lines.append(f"  {name}, {section['counted']}: {count}; total {span(section, 'negligent')} ... "
                         f"{span(section, 'reckless')}")
    pre = exp["pre_amendment"]
    if pre["scans"]:
        lines.append(f"  15(b) per scan (Cothron), scans before {pre['before'][:10]}: {pre['scans']}, a contested "
                     "ceiling "
                     f"(total {span(pre['per_scan'], 'negligent')} ... {span(pre['per_scan'], 'reckless')})")
    for reason, count in exp["not_counted"].items():
        lines.append(f"  not counted ({reason}): {count} processing time(s)")
    if exp["time_barred"]["processing"]:
        lines.append(f"  time-barred (before {exp['time_barred']['before'][:10]}): "
                     f"{len(exp['time_barred']['processing'])} processing time(s) listed, not counted")
    if exp["accepted"]:
        lines.append(f"  accepted in the baseline, not counted: {len(exp['accepted'])} finding(s)")
    return lines


def pack_exposure_lines(exp: dict) -> list[str]:
    """Each jurisdiction pack's own figure, one line each (never added across packs)."""
    lines = ["exposure per jurisdiction pack (never added across packs):"]
    for pack_id, e in exp["packs"].items():
        count = e["violations"]
        span = f"{count['low']}" if count["low"] == count["high"] else f"{count['low']}-{count['high']}"
        if e["amount"] is None:
            money = e["basis"]
        else:
            a = e["amount"]
            money = (f"{e['currency']} {a['low']:,}" if a["low"] == a["high"] else
                     f"{e['currency']} {a['low']:,}-{a['high']:,}") + f" ({e['basis']})"
        lines.append(f"  {pack_id} ({e['citation']}): {span} violation(s); {money}")
    return lines
