"""Exposure per jurisdiction pack, from its findings. For triage, not legal advice.

A pack with a private right of action shows a damages range, a regulator-only pack a maximum civil
penalty, a pack without a fixed amount "unquantified". Counted: per rule, the persons with a
`violation` processed where the pack reaches (linked subjects, plus one ... every unlinked face),
and each operator duty found broken once, at the rule's own amount where the pack sets one (NYC:
$500 per signage violation, $500 / $5,000 for sale or sharing). Amounts are never added across packs.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..findings import Rule
from .pack import Pack
from .pack_eval import facts_for

NOTE = ("Per pack: each law's figure stands alone and they are never added together (different "
        "enforcers, different claims, overlapping facts). Estimates only, not legal advice.")


def _amount(pack: Pack, named, facts: dict) -> int | None:
    return None if named is None else int(pack.value(named, facts) if isinstance(named, str) else named)


def _per_violation(pack: Pack, rule: Rule | None, facts: dict) -> tuple[int, int] | None:
    """(low, high) per violation of `rule`: its own amounts (`low`/`high` naming a value or a number,
    e.g. NYC's signage), else the pack's; None when the pack has no fixed amount."""
    params = rule.params if rule is not None else {}
    high = _amount(pack, params.get("high", pack.enforcement.get("high")), facts)
    if pack.enforcement["kind"] == "unquantified" or high is None:
        return None
    low = _amount(pack, params.get("low", pack.enforcement.get("low")), facts)
    return (high if low is None else low), high


def estimate(pack: Pack, findings, settings: Mapping | None) -> dict:
    facts = facts_for(pack, settings)
    rules = {rule.id: rule for rule in pack.rules}
    persons: dict[str, dict[str, bool]] = {}
    for f in findings:
        exposure = (f.details or {}).get("exposure") or {}
        if f.suppressed or exposure.get("pack") != pack.id or f.severity != "violation":
            continue
        if any(entry.get("counted") for entry in exposure["processing"]):
            persons.setdefault(f.rule_id, {})[exposure["person"]] = exposure["linked"]
    low = high = money_low = money_high = 0
    by_rule = {}
    for rule_id, keys in sorted(persons.items()):
        linked = sum(keys.values())
        count = {"low": linked + (1 if len(keys) > linked else 0), "high": len(keys)}
        low, high = low + count["low"], high + count["high"]
        entry: dict = {"violations": count}
        per = _per_violation(pack, rules.get(rule_id), facts)
        if per is not None:
            entry["per_violation"] = {"low": per[0], "high": per[1]}
            entry["amount"] = {"low": count["low"] * per[0], "high": count["high"] * per[1]}
            money_low, money_high = money_low + entry["amount"]["low"], money_high + entry["amount"]["high"]
        if rules.get(rule_id) is not None and rules[rule_id].params.get("cure"):
            entry["note"] = rules[rule_id].params["cure"]
        by_rule[rule_id] = entry
    kind = pack.enforcement["kind"]
    out = {"pack": pack.id, "citation": pack.citation, "enforcement": kind,
           "who": pack.enforcement.get("who", ""), "violations": {"low": low, "high": high},
           "rules": {rule: len(keys) for rule, keys in sorted(persons.items())}, "by_rule": by_rule}
    default = _per_violation(pack, None, facts)
    if default is None:
        out["amount"] = None
        out["basis"] = "unquantified: " + pack.enforcement.get("text", "no fixed amount per violation")
    else:
        out["currency"] = pack.enforcement["currency"]
        out["amount"] = {"low": money_low, "high": money_high}
        out["basis"] = ("damages range per violation (statutory amounts, per rule)" if kind == "private-action" else
                        "maximum civil penalty per violation (a regulator's ceiling, not damages)")
        out["per_violation"] = {"low": default[0], "high": default[1]}
    return out


def by_pack(packs: Mapping[str, Pack], in_scope, findings, settings: Mapping | None, bipa_estimate: dict) -> dict:
    """Every pack in scope: its own estimate (BIPA's detailed one stays in summary.exposure)."""
    out = {}
    for pack_id in in_scope:
        if pack_id == "bipa":
            total = bipa_estimate["total"]
            out[pack_id] = {"pack": "bipa", "citation": bipa_estimate["law"], "enforcement": "private-action",
                            "who": packs["bipa"].enforcement.get("who", ""),
                            "violations": total["violations"], "currency": bipa_estimate["currency"],
                            "amount": {"low": total["negligent"]["low"], "high": total["reckless"]["high"]},
                            "basis": "negligent ... reckless; per section in summary.exposure"}
        else:
            out[pack_id] = estimate(packs[pack_id], findings, settings)
    return {"note": NOTE, "packs": out}
