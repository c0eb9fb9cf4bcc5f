"""Which jurisdiction packs an audit applies, and why each other pack is left out.

One place for the pack-scope questions the audit asks: which packs judge each face, which packs are
in scope once every photo has been seen (BIPA by default, plus every pack a face's processing met),
which pack the operator attests is out of reach, and the status line the report gives each pack so
a pack left out is never silent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..findings import Finding, RuleBook
from .pack import Pack, available, rule_book, select
from .pack_eval import check_settings, facts_for, operator_pack_findings
from .profiles import Profile


@dataclass(frozen=True)
class PackScope:
    packs: dict[str, Pack]  # every pack available to the audit, id -> Pack
    selected: tuple[str, ...] = ()  # --jurisdiction (empty: chosen by the data)
    settings: Mapping | None = field(default=None, hash=False)  # [tool.bipacheck.packs]

    @classmethod
    def load(cls, packs_path: str | None = None, selected=(), settings: Mapping | None = None) -> "PackScope":
        """The shipped packs plus those on `packs_path`; unknown ids and misspelt facts fail here,
        before any work."""
        packs = available(packs_path)
        select(packs, selected)
        check_settings(packs, settings)
        return cls(packs, tuple(selected), settings)

    def rules(self) -> RuleBook:
        return rule_book(self.packs)

    def face_packs(self) -> list[Pack]:
        """The packs policy.pack_eval applies to each face (BIPA has its own evaluator)."""
        return [p for p in self.packs.values() if p.evaluator is None and (not self.selected or p.id in self.selected)]

    def keeps(self, finding: Finding) -> bool:
        """With --jurisdiction, only the selected packs' findings (and the tool's own) are kept."""
        return not self.selected or finding.pack is None or finding.pack in self.selected

    def attested_outside(self, pack: Pack) -> bool:
        """The operator attests the fact that brings the pack in is false (e.g. under the CCPA thresholds)."""
        fact = pack.trigger.get("fact")
        return bool(fact) and facts_for(pack, self.settings).get(fact) is False

    def in_scope(self, reach: Mapping[str, set[str]]) -> list[str]:
        """--jurisdiction's packs; else the default ones (BIPA) and every pack a face's processing met.
        reach: pack id -> the reaches (in / out / unknown) its faces had."""
        if self.selected:
            return list(self.selected)
        return [p.id for p in self.packs.values()
                if (p.default or "in" in reach.get(p.id, ())) and not self.attested_outside(p)]

    def status(self, reach: Mapping[str, set[str]], in_scope: list[str]) -> dict:
        """Per pack: evaluated or not, and why."""
        out = {}
        for pack in self.packs.values():
            seen = reach.get(pack.id, set())
            if pack.id in in_scope:
                status = "evaluated"
            elif self.attested_outside(pack):
                status = f"not evaluated: the operator attests {pack.trigger['fact']} = false"
            elif self.selected:
                status = "not selected (--jurisdiction)"
            elif "unknown" in seen:
                status = (f"not evaluated: no processing shown in its territory, and some faces' regions are unknown; "
                          f"record {pack.trigger.get('needs', 'the regions')} or pass --jurisdiction {pack.id}")
            elif "not-in-force" in seen and not seen - {"not-in-force", "out"}:
                status = (f"not evaluated: no processing in its territory while it was in force (effective "
                          f"{pack.effective}{', until ' + pack.sunset if pack.sunset else ''})")
            else:
                status = "not evaluated: no processing in its territory"
            out[pack.id] = {"citation": pack.citation, "status": status, "reach": sorted(seen)}
        return out

    def operator_findings(self, in_scope: list[str], profile: Profile) -> list[Finding]:
        """The duties of each pack in scope that rest on the operator's statement (once per audit)."""
        return [f for pack_id in in_scope if self.packs[pack_id].evaluator is None
                for f in operator_pack_findings(self.packs[pack_id], self.settings, profile)]
