"""The one-line answer a reader wants first, and the exposure figures as text and table rows,
shared by the table, markdown and HTML reports."""

from __future__ import annotations

from collections import Counter

REACH_UNKNOWN = "reach-unknown"  # causes next_step groups findings by, besides rule ids
OPERATOR_FACTS = "operator-facts"


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


def next_step(report) -> str | None:
    """What to do first: the advice for the most common cause of the exit code (failing findings for
    1; files not scanned or faces of unknown reach for 3; else the reviews left). None: nothing to do."""
    code = report.exit_code
    if code == 1:
        pool = report.failing()
    elif code == 3:
        pool = report.unscanned + report.reach_unknown
    else:
        pool = [f for f in report.findings if not f.suppressed and f.severity == "review"]
    if not pool:
        return None
    unknown = {id(f) for f in report.reach_unknown}

    def cause(f) -> str:
        if id(f) in unknown:
            return REACH_UNKNOWN
        return OPERATOR_FACTS if about_operator(f) and (f.details or {}).get("missing") else f.rule_id

    causes = Counter(cause(f) for f in pool)
    sections = Counter(f.rule.section or f.rule_id for f in pool)
    section = {cause(f): f.rule.section or f.rule_id for f in pool}
    # ties go to the cause whose statute section has the most findings, then to the worst photo's
    top = max(dict.fromkeys(cause(f) for f in _table_order(pool)), key=lambda c: (causes[c], sections[section[c]]))
    return _advice(top, causes[top], [f for f in pool if cause(f) == top], report.run)


def _table_order(findings: list) -> list:
    """Photos as the table lists them: worst severity first, then most findings, then path."""
    rank = {"info": 0, "review": 1, "violation": 2}
    by_photo: dict[str, list] = {}
    for f in findings:
        by_photo.setdefault(f.path, []).append(f)
    ordered = sorted(by_photo.values(), key=lambda fs: (-max(rank[f.severity] for f in fs), -len(fs), fs[0].path))
    return [f for fs in ordered for f in sorted(fs, key=lambda f: -rank[f.severity])]


def _advice(cause: str, count: int, findings: list, run: dict) -> str:
    attestation = run.get("attestation") or {}
    if cause == REACH_UNKNOWN:
        where = attestation.get("source")
        how = ("run `bipacheck init --region REGION` (e.g. US-IL: where face templates are made) in the folder "
               "you audit from" if not attestation.get("sha256") else
               f"add processing_regions (e.g. [\"US-IL\"]) to [tool.bipacheck.org] in {where}")
        return (f"{count} face finding(s) are review because nobody stated where the faces are processed, so "
                f"whether the law reaches them is unknown: {how}, or record processing_region in the ledger's "
                "processing events.")
    if cause == OPERATOR_FACTS:
        keys = ", ".join(sorted({f.details["missing"] for f in findings}))
        return (f"{count} fact(s) about the operator are not stated ({keys}): run `bipacheck init` in a terminal "
                "(it asks for each), or see the operator findings above.")
    rule = findings[0].rule
    ledger = (run.get("ledger") or {}).get("path")
    if cause == "BIPA-15B-NO-RELEASE":
        if not ledger:
            return (f"{count} face(s) have no written release because no consent ledger was given: create one "
                    "(`bipacheck init`), import the releases (`bipacheck ledger import consent.db FILE`) and "
                    "audit again.")
        return (f"{count} face(s) have no written release on record ({rule.citation}): import each person's "
                f"release and a link to the photo (`bipacheck ledger import {ledger} FILE`; `bipacheck init "
                "--examples` writes files with every column), or obscure the faces (`bipacheck redact`).")
    return f"{count} finding(s) {rule.id} ({rule.citation}): {rule.fix}"


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
