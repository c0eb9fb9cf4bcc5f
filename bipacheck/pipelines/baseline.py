"""Findings accepted on purpose, keyed by fingerprint (content hash + rule + rounded box).

No paths, line numbers or timestamps: a renamed photo stays accepted, an edited one does not, and
two branches that accept different photos merge without conflicts (entries are sorted, one per key).
The detection settings the baseline was made with are pinned, as detect-secrets does, so a change
of detector or threshold is visible instead of silently shifting what counts as accepted.

Findings about the operator (its attestation: 15(a) policy, 15(c), 15(d) recipients, 15(e), a
pack's attested duties) are company-wide, not a photo's: accepting a photo never accepts them.
They are accepted only by name (`operator:<rule id>`), each with its own justification.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError
from ..findings import Finding
from ..report.formats import write_atomic
from ..report.model import Report

BASELINE_VERSION = 1
DEFAULT_BASELINE = ".bipacheck-baseline.json"
OPERATOR = "operator:"  # the key of an operator finding accepted by name: operator:<rule id>


def about_operator(finding: Finding) -> bool:
    """A finding about the operator's statement, not about a photo or a file."""
    return finding.sha256 is None and "attestation" in (finding.details or {})


def baseline_key(finding: Finding) -> str:
    return OPERATOR + finding.rule_id if about_operator(finding) else finding.fingerprint


@dataclass
class Baseline:
    entries: dict[str, dict] = field(default_factory=dict)  # fingerprint -> {rule_id, sha256, justification}
    settings: dict = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | Path) -> "Baseline":
        path = Path(path)
        try:
            data = json.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"baseline {path} does not exist (create it with `bipacheck baseline create`)") from None
        except (OSError, ValueError) as exc:
            raise ConfigError(f"baseline {path} is not readable JSON: {exc}") from None
        if not isinstance(data, dict) or data.get("version") != BASELINE_VERSION or \
                not isinstance(data.get("findings"), dict):
            raise ConfigError(f"baseline {path} is not a bipacheck baseline (version {BASELINE_VERSION})")
        return cls(dict(data["findings"]), dict(data.get("settings", {})))

    @classmethod
    def read_or_empty(cls, path: str | Path) -> "Baseline":
        """A missing file is an empty baseline: nothing accepted yet."""
        return cls.load(path) if Path(path).exists() else cls()

    def save(self, path: str | Path) -> None:
        data = {"version": BASELINE_VERSION, "tool": "bipacheck", "settings": self.settings,
                "findings": dict(sorted(self.entries.items()))}
        write_atomic(str(path), json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def pinned_settings(run: dict) -> dict:
    """The settings of an audit (a report's `run`) that decide which findings exist."""
    det = run["detector"]
    return {"detector": det.get("detector"), "model_sha256": det.get("model_sha256"),
            "threshold": det.get("threshold"), "min_face": run.get("min_face"),
            "processing": run["processing"]["profile"]}


def create(report: Report, justification: str | None = None, previous: Baseline | None = None) -> Baseline:
    """A baseline accepting every finding of `report` about a photo or file (keeping justifications
    already written, and any operator findings accepted by name). Operator findings are left out."""
    old = previous.entries if previous else {}
    entries = {key: entry for key, entry in old.items() if key.startswith(OPERATOR)}
    for finding in report.findings:
        if about_operator(finding):
            continue  # company-wide: only `accept_operator` accepts it, by name
        fp = finding.fingerprint
        kept = old.get(fp, {}).get("justification")
        entries[fp] = {"rule_id": finding.rule_id, "sha256": finding.sha256,
                       "justification": kept or justification}
    return Baseline(entries, pinned_settings(report.run))


def update(report: Report, previous: Baseline, justification: str | None = None, prune: bool = True) -> Baseline:
    """Add the report's new findings; with `prune`, drop entries whose photo was audited and no
    longer has that finding (entries for photos outside this audit are kept)."""
    fresh = create(report, justification, previous)
    audited = {p["sha256"] for p in report.photos}
    current = set(fresh.entries)
    kept = {fp: e for fp, e in previous.entries.items()
            if fp not in current and not (prune and e.get("sha256") in audited)}
    return Baseline({**kept, **fresh.entries}, fresh.settings)


def accept_operator(previous: Baseline, rule_ids, justification: str, known: set[str]) -> Baseline:
    """`previous` plus the operator findings of `rule_ids` accepted by name with `justification`
    (required: each company-wide finding is accepted on its own grounds). known: the operator rule ids."""
    if not justification or not justification.strip():
        raise ConfigError("an operator finding is accepted only with its own --justification")
    unknown = sorted(set(rule_ids) - known)
    if unknown:
        raise ConfigError(f"{', '.join(unknown)}: not a finding about the operator; these are: "
                          f"{', '.join(sorted(known))}")
    entries = dict(previous.entries)
    for rule_id in rule_ids:
        entries[OPERATOR + rule_id] = {"rule_id": rule_id, "sha256": None, "justification": justification.strip()}
    return Baseline(entries, previous.settings)


def apply_baseline(findings: list[Finding], photos: list[dict], run: dict, baseline: Baseline, *,
                   partial: bool) -> dict:
    """Mark each finding new or unchanged (and suppressed when accepted); return the baseline
    section of the report's `run`, with stale entries. The audit applies it before summarising, so
    accepted findings leave every exposure figure.

    partial: only some files were audited (a pre-commit chunk); then an entry is stale only when
    its own photo was audited and no longer has that finding.
    """
    seen = set()
    for finding in findings:
        key = baseline_key(finding)  # an operator finding matches only its by-name entry, never a photo's
        entry = baseline.entries.get(key)
        if entry is None:
            finding.baseline_state = "new"
        else:
            finding.baseline_state = "unchanged"
            finding.suppressed = True
            finding.justification = entry.get("justification")
            seen.add(key)
    audited = {p["sha256"] for p in photos} | {f.sha256 for f in findings if f.sha256}
    stale = sorted(
        fp for fp, entry in baseline.entries.items()
        if fp not in seen and (not partial or entry.get("sha256") in audited)
    )
    now = pinned_settings(run)
    changed = {k: {"baseline": baseline.settings.get(k), "now": v} for k, v in now.items()
               if k in baseline.settings and baseline.settings.get(k) != v}
    return {
        "entries": len(baseline.entries),
        "matched": len(seen),
        "stale": [{"fingerprint": fp, "rule_id": baseline.entries[fp].get("rule_id")} for fp in stale],
        "settings_changed": changed,
    }
