"""`bipacheck check`: audit exactly the files a commit adds, for pre-commit style hooks.

pre-commit may call the hook several times with chunks of the file list, so nothing here
depends on seeing every file: the baseline is applied per finding, and a baseline entry is
called stale only when its own photo was checked.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

from . import baseline as baseline_mod
from .auditing import audit
from .config import find_config
from .errors import ConfigError
from .policy.rules import RULES
from .report.model import Report
from .scanner import ScanSettings


def repo_root(start: Path | None = None) -> Path | None:
    proc = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=start or Path.cwd(),
                          capture_output=True, text=True)
    return Path(proc.stdout.strip()) if proc.returncode == 0 else None


def _relative_objects(files: Sequence[str], root: Path):
    """The files as source objects whose relpath is relative to the repository root, so ledger
    links by path (`assets/team.jpg`) match whatever folder the hook runs from."""
    from .sources import iter_sources

    for entry in iter_sources(list(files)):
        if hasattr(entry, "read"):
            try:
                rel = Path(os.path.abspath(entry.url)).relative_to(root).as_posix()
                entry = dataclasses.replace(entry, relpath=rel)
            except ValueError:
                pass  # outside the repository: keep the source's own relpath
        yield entry


def check(files: Sequence[str], *, settings: dict, staged: bool = False) -> Report:
    """Audit `files` (or the staged blobs of them) with the merged config/flag `settings`."""
    ledger = settings.get("ledger")
    if not ledger:
        raise ConfigError("no consent ledger configured: set `ledger = \"...\"` in [tool.bipacheck] "
                          "(pyproject.toml) or .bipacheck.toml, or pass --ledger")
    if not Path(ledger).is_file():
        raise ConfigError(f"consent ledger {ledger} does not exist (create it with `bipacheck ledger init`)")
    root = repo_root() or Path.cwd()
    if staged:
        from .sources import staged_objects

        entries = staged_objects(str(root), list(files) or None)
    else:
        entries = _relative_objects(files, root)
    scan_settings = ScanSettings(min_face=int(settings.get("min_face", ScanSettings.min_face)),
                                 max_pixels=int(settings.get("max_pixels", ScanSettings.max_pixels)))
    report = audit(list(files), entries=entries, ledger=ledger,
                   processing=settings.get("processing", "face-templates"),
                   detector=settings.get("detector", "centerface"), threshold=settings.get("threshold"),
                   review_threshold=settings.get("review_threshold"), settings=scan_settings,
                   attestation=settings.get("org"),
                   attestation_source=str(find_config()[0]) if settings.get("org") else None)
    if settings.get("baseline"):
        attach_baseline(report, settings["baseline"], partial=True)
    return report


def attach_baseline(report: Report, path: str, *, partial: bool) -> None:
    """Compare with the baseline at `path` (a missing file is an empty baseline: nothing accepted yet)."""
    base = baseline_mod.Baseline.load(path) if Path(path).exists() else baseline_mod.Baseline()
    report.run["baseline"] = {"path": path, **baseline_mod.apply(report, base, partial=partial)}
    refresh_exposure(report)  # accepted findings leave the estimate


def refresh_exposure(report: Report) -> None:
    from .ledger.dates import parse_datetime
    from .policy.exposure import estimate

    report.summary["exposure"] = estimate(report.findings, parse_datetime(report.run["as_of"]),
                                          report.run["processing"]["derives_identifiers"])


def human_summary(report: Report, fail_on: str) -> str:
    """Short text for a developer whose commit was blocked: what, where, and how to fix it."""
    failing = report.failing(fail_on)
    lines = []
    for finding in failing:
        rule = RULES[finding.rule_id]
        lines.append(f"{finding.path}: {finding.severity.upper()} {finding.rule_id} ({rule.citation})")
        lines.append(f"  {finding.message}")
    if failing:
        lines += [
            "",
            f"bipacheck: {len(failing)} finding(s) block this commit. To fix, for each face:",
            "  - record the person's written release and link them to the photo in the ledger "
            "(`bipacheck ledger grant ...` and `bipacheck ledger link ...`), or",
            "  - redact the face (blur or crop it) and stage the new file, or",
            "  - accept it on purpose: `bipacheck baseline update FILE... --justification \"why\"`.",
        ]
    stale = (report.run.get("baseline") or {}).get("stale", [])
    if stale:
        lines.append(f"bipacheck: {len(stale)} baseline entr{'y' if len(stale) == 1 else 'ies'} no longer "
                     "match (stale); `bipacheck baseline update` prunes them.")
    s = report.summary
    lines.append(f"bipacheck: {s['scanned']} file(s) checked, {s['faces']} face(s), {len(failing)} blocking finding(s)"
                 + (f", {s['skipped']} not scanned" if s["skipped"] else ""))
    return "\n".join(lines) + "\n"
