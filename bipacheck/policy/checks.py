"""The checks a jurisdiction pack's rule can name (`check = "..."` in its TOML file).

Each check is one small named function: given a pack applied to one photo (policy.pack_eval's
PackContext: its facts, processing times, the ledger) and one face, it says which processing times
break the rule. Operator checks judge the operator's facts once per audit instead. What a pack file
cannot say declaratively lives here, registered in CHECKS, so a pack file can be validated against
the names before anything is evaluated.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..findings import FaceRecord, Rule
from ..ledger.dates import add_months, format_datetime, parse_datetime
from ..ledger.status import consent_state
from .release import REPRESENTATIVES

# release statuses (policy.release.judge) at a processing time that break a consent rule
NOT_VALID = ("none", "expired", "revoked", "not-yet-valid", "out-of-scope", "not-explicit", "purpose", "unproven")
SETTINGS = "[tool.bipacheck.packs]"


@dataclass(frozen=True)
class Hit:
    """Processing times (indices) that break a rule, and how."""

    indices: list[int]
    severity: str | None = None  # None: the rule's own severity
    note: str = ""
    details: dict = field(default_factory=dict)


FaceCheck = Callable[..., list[Hit]]  # (PackContext, Rule, FaceRecord): policy.pack_eval applies it
CHECKS: dict[str, FaceCheck | Callable] = {}
OPERATOR: set[str] = set()  # checks that judge the operator's facts once per audit, not a face


def check(name: str, operator: bool = False):
    def register(fn):
        CHECKS[name] = fn
        if operator:
            OPERATOR.add(name)
        return fn
    return register


@check("consent")
def _consent(ctx, rule: Rule, face: FaceRecord) -> list[Hit]:
    """Processing times without a good release for any of the rule's scopes (policy.release.judge:
    in force, and explicit / for the processing's purposes / proven where the pack requires it).
    rule.statuses: which statuses break it (e.g. only `revoked` for a withdrawal rule);
    rule.review_scopes: a release with one of these scopes makes a missing consent `review`, not a
    violation (CUBI: the person published the image themselves)."""
    wanted = rule.params.get("statuses") or NOT_VALID
    softer = list(rule.params.get("review_scopes") or ())
    hits, statuses, defects, certain, softened = [], set(), set(), False, set()
    for i, p in enumerate(ctx.times):
        judged = ctx.judge(face.subject_id, ctx.scopes(rule), p)
        if judged.status not in wanted:
            continue
        sure = judged.certain
        if sure and softer and ctx.status(face.subject_id, softer, p.at)[0] == "valid":
            sure = False
            softened.update(softer)
        hits.append(i)
        statuses.add(judged.status)
        defects.update(judged.defects)
        certain = certain or sure
    if not hits:
        return []
    note = (f" (a release with scope {', '.join(sorted(softened))} is on record: it removes a bar, it does not "
            "supply consent; counsel should review)" if softened and not certain else "")
    details = {"consent_status": sorted(statuses), **({"defects": sorted(defects)} if defects else {})}
    return [Hit(hits, None if certain else "review", note, details)]


@check("child")
def _child(ctx, rule: Rule, face: FaceRecord) -> list[Hit]:
    """A release in force for a person under rule.age_value's age that no parent or guardian gave."""
    if face.subject_id is None or ctx.lookup is None:
        return []
    limit, scopes, hits = ctx.value(rule.params["age_value"]), ctx.scopes(rule), []
    for i, p in enumerate(ctx.times):
        subject = ctx.lookup.subject_as_of(face.subject_id, p.at)
        age = subject.age_on(p.at) if subject is not None else None
        if age is None or age >= limit:
            continue
        in_force = [c for c in ctx.lookup.consents(face.subject_id)
                    if any(consent_state(c, s, p.at) == "valid" for s in scopes)]
        if in_force and not any(c.signer_role in REPRESENTATIVES for c in in_force):
            hits.append(i)
    return [Hit(hits, note=f" (under {limit})")] if hits else []


@check("public-image")
def _public_image(ctx, rule: Rule, face: FaceRecord) -> list[Hit]:
    """The operator treats an image being public as consent (rule.fact); from rule.since_value on,
    that holds only where the person made it public themselves (a release with rule.scopes)."""
    if ctx.facts.get(rule.params["fact"]) is not True:
        return []
    since = parse_datetime(ctx.value(rule.params["since_value"]))
    hits = [i for i, p in enumerate(ctx.times)
            if p.at >= since and ctx.status(face.subject_id, ctx.scopes(rule), p.at)[0] != "valid"]
    return [Hit(hits)] if hits else []


@check("retention")
def _retention(ctx, rule: Rule, face: FaceRecord) -> list[Hit]:
    """Destroy by the earliest of rule.after's deadlines: [{from = subject date, months_value = name}]."""
    if face.subject_id is None or ctx.lookup is None or not ctx.times:
        return []
    subject = ctx.lookup.subject_as_of(face.subject_id, ctx.as_of)
    deadlines = [add_months(getattr(subject, a["from"]), int(ctx.value(a["months_value"])))
                 for a in rule.params["after"] if subject is not None and getattr(subject, a["from"])]
    if not deadlines or min(deadlines) >= ctx.as_of:
        return []
    deadline = min(deadlines)
    # what every processing in the pack's territory derived is due for destruction
    return [Hit(list(range(len(ctx.times))), note=f" (deadline {deadline.date().isoformat()})",
                details={"retention_deadline": format_datetime(deadline)})]


@check("sharing")
def _sharing(ctx, rule: Rule, face: FaceRecord) -> list[Hit]:
    """Each recipient of a processing needs its own consent: scope rule.prefix + recipient name."""
    hits, names = [], set()
    for i, p in enumerate(ctx.times):
        missing = [n for n in p.recipients
                   if ctx.status(face.subject_id, [rule.params["prefix"] + n], p.at)[0] != "valid"]
        if missing:
            hits.append(i)
            names.update(missing)
    return [Hit(hits, note=f" (to {', '.join(sorted(names))})", details={"recipients": sorted(names)})] if hits else []


@check("present")
def _present(ctx, rule: Rule, face: FaceRecord) -> list[Hit]:
    """Every processing time the pack reaches (an informational duty, or a photo exclusion)."""
    return [Hit(list(range(len(ctx.times))))]


@check("ban")
def _ban(ctx, rule: Rule, face: FaceRecord) -> list[Hit]:
    """A ban no release cures, where the operator's fact (rule.fact) says the banned setting holds;
    not attested is review; rule.unless names an attested exception. (From when: the pack's
    effective date, policy.timeline.reach.)"""
    if rule.params.get("unless") and ctx.facts.get(rule.params["unless"]) is True:
        return []
    stated = ctx.facts.get(rule.params["fact"])
    every = list(range(len(ctx.times)))
    if stated is False or not every:
        return []
    if stated is None:
        return [Hit(every, "review", f" (not attested: {SETTINGS[:-1]}.{ctx.pack.id}] {rule.params['fact']})")]
    return [Hit(every, note=f" ({rule.params['fact']} attested; consent does not cure it)")]


@check("attested", operator=True)
def _attested(pack, rule: Rule, facts: dict) -> tuple[str, str] | None:
    """An operator duty: rule.fact must be attested as rule.want (default true)."""
    name, want = rule.params["fact"], rule.params.get("want", True)
    stated = facts.get(name)
    if stated is None:
        return "review", f"Not attested: {SETTINGS[:-1]}.{pack.id}] {name} ({pack.facts.get(name, '')})."
    if stated != want:
        return rule.severity, f"Attested {name} = {str(stated).lower()}."
    return None
