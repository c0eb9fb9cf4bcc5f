"""Jurisdiction packs: one TOML file per law (bipacheck/policy/packs/*.toml, plus any folder on
--packs-path or BIPACHECK_PACKS_PATH) declaring who it reaches, what it needs, its enforcement and
its rules. policy/pack_eval.py applies them; a rule's `check` names a function of policy/checks.py.

Marks follow ../shared/LEGAL.md: V = checked against statute or opinion text, S = secondary
sources only, M = unverified. [M] facts are `[values.NAME]` entries an operator can override in
`[tool.bipacheck.packs.<id>]`.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..findings import MARKS, SEVERITIES, Rule, RuleBook
from ..ledger import InvalidValue
from ..ledger.dates import parse_datetime
from .checks import CHECKS

BUILTIN = Path(__file__).with_name("packs")
PATH_VARIABLE = "BIPACHECK_PACKS_PATH"
ENFORCEMENT = ("private-action", "regulator", "unquantified")
# targeting: the operator offers goods or services to, or monitors, people in the territory (the
# trigger's `targeting` names the facts that say so) and the person was there (GDPR Art. 3(2)).
TRIGGER_FACTS = ("residence", "capture", "processing", "establishment", "targeting")
# A pack whose per-face work is a whole evaluator of its own names it (`evaluator = "..."`).
EVALUATORS = {"bipa-release": "policy/evaluate.py: releases judged at each processing time, 15(a)-(e)"}
REQUIRED = ("id", "name", "citation", "effective", "mark", "trigger", "requires", "retention", "disclosure",
            "enforcement", "rules")


@dataclass(frozen=True)
class Pack:
    id: str
    name: str
    citation: str
    effective: str
    mark: str
    default: bool  # evaluated even when no face meets its trigger (BIPA: out of territory is info)
    evaluator: str | None  # a named evaluator doing the per-face work instead of the rules' checks
    trigger: dict
    requires: dict
    retention: dict
    disclosure: dict
    enforcement: dict
    values: dict  # name -> {"value", "mark", "about"}: facts an operator may override
    facts: dict  # name -> question: operator facts the pack reads from [tool.bipacheck.packs.<id>]
    marks: dict
    rules: tuple[Rule, ...]
    raw: dict = field(hash=False, compare=False, repr=False)
    source: str = ""
    sunset: str | None = None  # the day the law stopped applying (repealed, expired), if it did

    def not_in_force(self, at: datetime) -> str | None:
        """Why the law does not reach processing at `at` (before it took effect, or from its
        sunset on); None while it is in force. Dates are 00:00 UTC of the day."""
        if at < _day(self.effective, self.source):
            return f"before {self.citation} took effect ({self.effective})"
        if self.sunset and at >= _day(self.sunset, self.source):
            return f"after {self.citation} ceased to apply ({self.sunset})"
        return None

    @property
    def regions(self) -> tuple[str, ...]:
        return tuple(self.trigger["regions"])

    def value(self, name: str, overrides: dict | None = None) -> Any:
        if overrides and name in overrides:
            return overrides[name]
        return self.values[name]["value"]

    def covers(self, region: str | None) -> bool:
        """A region in the pack's territory: the code itself or a subdivision of it (DE-BY in DE)."""
        return bool(region) and any(region == r or region.startswith(r + "-") for r in self.regions)


def _day(text: str, where: str) -> datetime:
    try:
        day = parse_datetime(text, "date")
    except InvalidValue as exc:
        raise ConfigError(f"pack {where}: {exc}") from None
    if day is None:
        raise ConfigError(f"pack {where}: an empty date")
    return day


def _need(data: dict, key: str, where: str, kind=str) -> Any:
    value = data.get(key)
    if not isinstance(value, kind):
        raise ConfigError(f"{where}: {key} must be a {kind.__name__}, got {value!r}")
    return value


def _rule(data: dict, pack_id: str, pack_citation: str, where: str) -> Rule:
    here = f"{where}: rule {data.get('id', '?')}"
    for key in ("id", "name", "citation", "summary", "fix"):
        _need(data, key, here)
    severity, mark = data.get("severity", "violation"), data.get("mark", "V")
    if severity not in SEVERITIES or mark not in MARKS:
        raise ConfigError(f"{here}: severity must be one of {SEVERITIES} and mark one of {MARKS}")
    check = data.get("check")
    if check is not None and check not in CHECKS:
        raise ConfigError(f"{here}: check {check!r} is not one of {', '.join(sorted(CHECKS))}")
    known = {"id", "name", "citation", "summary", "fix", "derived", "mark", "section", "severity", "check"}
    return Rule(data["id"], data["name"], data["citation"], data["summary"], data["fix"],
                bool(data.get("derived", True)), mark, data.get("section"), pack_id, severity, check,
                {k: v for k, v in data.items() if k not in known}, pack_citation)


def load(path: Path) -> Pack:
    """One pack file, checked: a malformed pack is a configuration error naming the file."""
    where = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"pack {where}: {exc}") from None
    missing = [k for k in REQUIRED if k not in data]
    if missing:
        raise ConfigError(f"pack {where}: missing {', '.join(missing)}")
    trigger = _need(data, "trigger", where, dict)
    _need(trigger, "regions", f"{where}: trigger", list)
    on = _need(trigger, "on", f"{where}: trigger", list)
    if not set(on) <= set(TRIGGER_FACTS) or not on:
        raise ConfigError(f"{where}: trigger.on must list some of {', '.join(TRIGGER_FACTS)}")
    enforcement = _need(data, "enforcement", where, dict)
    if enforcement.get("kind") not in ENFORCEMENT:
        raise ConfigError(f"{where}: enforcement.kind must be one of {', '.join(ENFORCEMENT)}")
    if data["mark"] not in MARKS:
        raise ConfigError(f"{where}: mark must be one of {MARKS}")
    for key in ("effective", "sunset"):
        if data.get(key) is not None:
            _day(str(data[key]), where)
    if "targeting" in on and not trigger.get("targeting"):
        raise ConfigError(f"{where}: trigger.on names targeting, so trigger.targeting must list the facts that say so")
    values = data.get("values", {})
    for name, entry in values.items():
        if not isinstance(entry, dict) or "value" not in entry or entry.get("mark") not in MARKS:
            raise ConfigError(f"{where}: values.{name} needs a value and a mark (V, S or M)")
    if data.get("evaluator") is not None:
        if data["evaluator"] not in EVALUATORS:
            raise ConfigError(f"{where}: evaluator {data['evaluator']!r} is not one of {', '.join(EVALUATORS)}")
    rules = tuple(_rule(r, data["id"], data["citation"], where) for r in _need(data, "rules", where, list))
    for owner, amounts in [("enforcement", enforcement)] + [(f"rule {r.id}", r.params) for r in rules]:
        for key in ("low", "high"):
            named = amounts.get(key)
            if (isinstance(named, str) and named not in values) or not isinstance(named, (str, int, type(None))):
                raise ConfigError(f"{where}: {owner} {key} = {named!r} names no [values.*] entry and is not a number")
    return Pack(data["id"], data["name"], data["citation"], str(data["effective"]), data["mark"],
                bool(data.get("default", False)), data.get("evaluator"), trigger, data["requires"],
                data["retention"], data["disclosure"], enforcement, values, data.get("facts", {}),
                data.get("marks", {}), rules, data, where,
                str(data["sunset"]) if data.get("sunset") is not None else None)


def _folders(extra: str | os.PathLike | None) -> list[Path]:
    folders = [BUILTIN]
    for text in (os.environ.get(PATH_VARIABLE), os.fspath(extra) if extra else None):
        folders += [Path(p) for p in (text or "").split(os.pathsep) if p]
    return folders


def available(extra: str | os.PathLike | None = None) -> dict[str, Pack]:
    """Every pack: the shipped ones, then BIPACHECK_PACKS_PATH's folders, then `extra` (--packs-path).
    A rule id two packs declare is a configuration error (see rule_book)."""
    found: dict[str, Pack] = {}
    for folder in _folders(extra):
        if folder != BUILTIN and not folder.is_dir():
            raise ConfigError(f"packs path {folder}: not a folder")
        for path in sorted(folder.glob("*.toml")):
            pack = load(path)
            if pack.id in found and found[pack.id].source != pack.source:
                raise ConfigError(f"pack {pack.id!r} is declared twice: {found[pack.id].source} and {path}")
            found[pack.id] = pack
    rule_book(found)
    return found


def rule_book(packs: dict[str, Pack]) -> RuleBook:
    """The rules an audit with these packs knows: the tool's own plus every pack's."""
    return RuleBook(rule for pack in packs.values() for rule in pack.rules)


def select(packs: dict[str, Pack], ids) -> dict[str, Pack]:
    """The packs --jurisdiction names (all of them when it names none)."""
    unknown = [i for i in ids if i not in packs]
    if unknown:
        raise ConfigError(f"unknown jurisdiction pack(s) {', '.join(unknown)}; known: {', '.join(packs)}")
    return {i: packs[i] for i in ids} if ids else dict(packs)


def builtin(pack_id: str) -> Pack:
    return load(BUILTIN / f"{pack_id}.toml")
