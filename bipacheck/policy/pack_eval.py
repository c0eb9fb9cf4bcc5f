"""The pack evaluator: a photo's faces under each jurisdiction pack that has no evaluator of its own.

A face is evaluated once per pack: where it was captured and processed and where the person lives
decide whether the pack reaches each processing time (in / out / unknown, unknown being `review`);
each of the pack's rules names a check (policy/checks.py) that says which processing times break it.
Facts only the operator knows (signage, notice at collection, a public-accommodation venue...)
come from `[tool.bipacheck.packs.<id>]`; a missing one is `review`, never silence.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..errors import ConfigError
from ..findings import FaceRecord, Finding, Rule
from .attestation import Attestation
from .checks import CHECKS, OPERATOR, SETTINGS, Hit
from .pack import Pack
from .profiles import Profile
from .release import Judgement, Needs, judge
from .timeline import IN, NOT_IN_FORCE, OUT, UNKNOWN, Processing, reach


@dataclass
class PackContext:
    """One pack applied to one photo."""

    pack: Pack
    facts: dict  # the operator's facts and value overrides for this pack
    times: list[Processing]
    lookup: Any  # a Ledger or None
    as_of: datetime
    profile: Profile
    attestation: Attestation | None
    memo: dict = field(default_factory=dict)  # (subject, scope, time) -> ConsentStatus, shared by a photo's packs
    evidence: Any = None  # a policy.evidence.EvidenceRoot (--evidence), or None

    def value(self, name: str) -> Any:
        return self.pack.value(name, self.facts)

    def scopes(self, rule: Rule) -> list[str]:
        return list(rule.params.get("scopes") or [self.pack.requires.get("consent_scope", "face_geometry")])

    def judge(self, subject_id: str | None, scopes: list[str], p: Processing) -> Judgement:
        """The subject's release at one processing time, with what this pack asks of it: explicit
        (requires.explicit_consent), for the processing's purposes (requires.specified_purposes),
        backed by its document when --evidence is given (a violation where requires.writing)."""
        if subject_id is None or self.lookup is None:
            return Judgement("none")
        req = self.pack.requires
        needs = Needs(explicit=bool(req.get("explicit_consent")), purposes=bool(req.get("specified_purposes")),
                      used=p.purposes, writing=bool(req.get("writing")), evidence=self.evidence)
        key = (subject_id, tuple(scopes), p.at, needs)
        if key not in self.memo:
            self.memo[key] = judge(self.lookup, subject_id, scopes, p.at, 0, needs)
        return self.memo[key]

    def status(self, subject_id: str | None, scopes: list[str], at: datetime) -> tuple[str, str | None]:
        """The best release status across `scopes` (valid if any is)."""
        if subject_id is None or self.lookup is None:
            return "none", None
        first = None
        for scope in scopes:
            key = (subject_id, scope, at)
            if key not in self.memo:
                self.memo[key] = self.lookup.consent_status(subject_id, scope, at)
            found = self.memo[key]
            if found.valid:
                return "valid", found.consent_id
            first = first or found
        return first.status, first.consent_id


def facts_for(pack: Pack, settings: Mapping | None) -> dict:
    """The shared facts of [tool.bipacheck.packs] (e.g. establishments) under this pack's own table."""
    settings = settings or {}
    common = {k: v for k, v in settings.items() if not isinstance(v, Mapping)}
    own = settings.get(pack.id, {})
    unknown = set(own) - set(pack.facts) - set(pack.values)
    if unknown:
        raise ConfigError(f"{SETTINGS[:-1]}.{pack.id}]: unknown key(s) {', '.join(sorted(unknown))}; known: "
                          f"{', '.join(sorted(set(pack.facts) | set(pack.values)))}")
    return {**common, **own}


SHARED = ("establishments",)  # facts several packs read, at the top of [tool.bipacheck.packs]


def check_settings(packs: Mapping[str, Pack], settings: Mapping | None) -> None:
    for name, value in (settings or {}).items():
        if isinstance(value, Mapping) and name not in packs:
            raise ConfigError(f"{SETTINGS}: no pack {name!r}; known: {', '.join(packs)}")
        if not isinstance(value, Mapping) and name not in SHARED:
            raise ConfigError(f"{SETTINGS}: unknown shared fact {name!r}; known: {', '.join(SHARED)}")
    for pack in packs.values():
        facts_for(pack, settings)


# -- applying packs ---------------------------------------------------------------------------------

@dataclass
class PackOutcome:
    findings: list[Finding] = field(default_factory=list)
    reach: dict[str, set[str]] = field(default_factory=dict)  # pack id -> reaches its faces had


def evaluate_packs(packs: list[Pack], scan, records: list[FaceRecord], times: list[Processing], *, lookup,
                   profile: Profile, as_of: datetime, attestation: Attestation | None,
                   settings: Mapping | None, evidence=None) -> PackOutcome:
    """Every face of a photo under every pack without its own evaluator."""
    out = PackOutcome()
    if not times:
        return out
    residences, memo = {}, {}
    for rec in records:
        if rec.subject_id is not None and lookup is not None and rec.subject_id not in residences:
            subject = lookup.subject_as_of(rec.subject_id, as_of)
            residences[rec.subject_id] = subject.residence if subject is not None and subject.residence else None
    for pack in packs:
        ctx = PackContext(pack, facts_for(pack, settings), times, lookup, as_of, profile, attestation, memo, evidence)
        seen = out.reach.setdefault(pack.id, set())
        for rec in records:
            residence = residences.get(rec.subject_id)
            places = [reach(pack, p, residence, ctx.facts, attestation) for p in times]
            seen.update(where for where, _ in places)
            for rule in pack.rules:
                if rule.check in OPERATOR or rule.check is None:
                    continue
                for hit in CHECKS[rule.check](ctx, rule, rec):
                    found = _finding(ctx, rule, rec, hit, places, scan)
                    if found is not None:
                        out.findings.append(found)
    return out


def _finding(ctx: PackContext, rule: Rule, rec: FaceRecord, hit: Hit, places, scan) -> Finding | None:
    reaches = {places[i][0] for i in hit.indices}
    overall = IN if IN in reaches else UNKNOWN if UNKNOWN in reaches else OUT
    if overall == OUT or not hit.indices:
        return None
    severity = hit.severity or rule.severity
    if overall == UNKNOWN and severity == "violation":
        severity = "review"
    severity, unstated = _unless_trigger_stated(ctx.pack, ctx.facts, severity)
    if rule.derived and not ctx.profile.derives_identifiers:
        severity = "info"
    person = rec.subject_id or rec.person_key(scan.sha256)
    entries = []
    for i in hit.indices:
        where, why = places[i]
        if where == OUT:
            continue  # a processing time the pack does not reach is not its finding's business
        entry = {**ctx.times[i].as_dict(), "territory": where, "where": why,
                 "counted": where == IN and severity == "violation"}
        if not entry["counted"]:
            entry["not_counted"] = ("territory unknown" if where == UNKNOWN else
                                    f"law not in force: {why}" if where == NOT_IN_FORCE else
                                    "the declared processing derives no identifiers" if severity == "info"
                                    else f"severity {severity}")
        entries.append(entry)
    who = f"subject {rec.subject_id}" if rec.subject_id else "an unidentified person (no ledger link)"
    return Finding(rule, severity, f"Face at {rec.place} is {who} ({ctx.pack.name}): {rule.summary}{hit.note}"
                   f"{unstated}", scan.url, scan.sha256, scan.size, [rec],
                   {"pack": ctx.pack.id, "reach": overall, **hit.details,
                    "exposure": {"pack": ctx.pack.id, "person": person, "linked": rec.subject_id is not None,
                                 "processing": entries}})


def _unless_trigger_stated(pack: Pack, facts: dict, severity: str) -> tuple[str, str]:
    """A violation is `review` while the operator has not stated the fact that brings the law in
    (e.g. CUBI's commercial purpose): whether the law applies at all is then unknown."""
    fact = pack.trigger.get("fact")
    if severity != "violation" or not fact or facts.get(fact) is not None:
        return severity, ""
    return "review", (f" (review: {SETTINGS[:-1]}.{pack.id}] {fact} is not attested, so whether the law "
                      "applies is unknown)")


def operator_pack_findings(pack: Pack, settings: Mapping | None, profile: Profile) -> list[Finding]:
    """The pack's duties that rest on the operator's statement, once per audit for a pack in scope."""
    if not profile.derives_identifiers:
        return []
    facts, out = facts_for(pack, settings), []
    where = f"{SETTINGS[:-1]}.{pack.id}]"
    for rule in pack.rules:
        if rule.check not in OPERATOR:
            continue
        judged = CHECKS[rule.check](pack, rule, facts)
        if judged:
            severity, unstated = _unless_trigger_stated(pack, facts, judged[0])
            out.append(Finding(rule, severity, f"{judged[1]} {rule.summary}{unstated}", where, None, None,
                               details={"pack": pack.id, "attestation": where,
                                        "exposure": {"pack": pack.id, "person": f"operator:{rule.id}",
                                                     "linked": True, "operator": True,
                                                     "processing": [{"counted": severity == "violation"}]}}))
    return out



def describe(pack: Pack) -> dict:
    """A pack as `bipacheck packs` lists it."""
    req, enf = pack.requires, pack.enforcement
    duties = [f"consent: {req.get('consent', 'none')}"] + [
        f"{k.replace('_', ' ')}: {req[k]}" for k in ("consent_timing", "consent_form") if k in req] + [
        k.replace("_", " ") for k in ("notice", "signage", "explicit_consent", "specified_purposes", "writing", "ban")
        if req.get(k) is True]
    if enf["kind"] == "unquantified":
        money = enf.get("text", "no fixed amount")
    else:
        amounts = [pack.value(enf[k], {}) if isinstance(enf[k], str) else enf[k] for k in ("low", "high") if k in enf]
        money = f"{enf.get('currency', '')} {'-'.join(f'{a:,}' for a in amounts)} per violation"
    regions = ", ".join(pack.regions)
    return {
        "id": pack.id, "name": pack.name, "citation": pack.citation, "mark": pack.mark,
        "effective": pack.effective, "default": pack.default, "source": pack.source,
        "applies": f"{' or '.join(pack.trigger['on'])} in {regions}"
                   + (f"; {pack.trigger['note']}" if pack.trigger.get("note") else ""),
        "needs": pack.trigger.get("needs", ""), "requires": "; ".join(duties),
        "retention": pack.retention.get("rule", ""), "disclosure": pack.disclosure.get("rule", ""),
        "enforcement": f"{enf['kind']}: {enf.get('who', '')}, {money}",
        "rules": [f"{r.id} [{r.mark}]" for r in pack.rules], "facts": dict(pack.facts),
        "values": {k: dict(v) for k, v in pack.values.items()},
    }
