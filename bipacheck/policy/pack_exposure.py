"""Exposure per jurisdiction pack, from its findings. For triage, not legal advice.

A pack with a private right of action shows a damages range, a regulator-only pack a maximum civil
penalty, a pack without a fixed amount "unquantified". Counted: per rule, the persons with a
`violation` processed where the pack reaches (linked subjects, plus one ... every unlinked face),
and each operator duty found broken once. Amounts are never added across packs.
"""

from __future__ import annotations

from collections.abc import Mapping

from .pack import Pack
from .pack_eval import facts_for

NOTE = ("Per pack: each law's figure stands alone and they are never added together (different "
        "enforcers, different claims, overlapping facts). Estimates only, not legal advice.")


def _amount(pack: Pack, key: str, facts: dict) -> int | None:
    named = pack.enforcement.get(key)
    return None if named is None else int(pack.value(named, facts) if isinstance(named, str) else named)


def estimate(pack: Pack, findings, settings: Mapping | None) -> dict:
    facts = facts_for(pack, settings)
    persons: dict[str, dict[str, bool]] = {}
    for f in findings:
        exposure = (f.details or {}).get("exposure") or {}
        if f.suppressed or exposure.get("pack") != pack.id or f.severity != "violation":
            continue
        if any(entry.get("counted") for entry in exposure["processing"]):
            persons.setdefault(f.rule_id, {})[exposure["person"]] = exposure["linked"]
    low = high = 0
    for keys in persons.values():
        linked = sum(keys.values())
        low, high = low + linked + (1 if len(keys) > linked else 0), high + len(keys)
    kind = pack.enforcement["kind"]
    out = {"pack": pack.id, "citation": pack.citation, "enforcement": kind,
           "who": pack.enforcement.get("who", ""), "violations": {"low": low, "high": high},
           "rules": {rule: len(keys) for rule, keys in sorted(persons.items())}}
    per_low, per_high = _amount(pack, "low", facts), _amount(pack, "high", facts)
    if kind == "unquantified" or per_high is None:
        out["amount"] = None
        out["basis"] = "unquantified: " + pack.enforcement.get("text", "no fixed amount per violation")
    else:
        out["currency"] = pack.enforcement["currency"]
        out["amount"] = {"low": low * (per_low if per_low is not None else per_high), "high": high * per_high}
        out["basis"] = ("damages range per violation (statutory amounts)" if kind == "private-action" else
                        "maximum civil penalty per violation (a regulator's ceiling, not damages)")
        out["per_violation"] = {"low": per_low if per_low is not None else per_high, "high": per_high}
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
