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

from ..errors import ConfigError
from ..imaging import named_like_image
from ..video.decode import named_like_video
from ..names import printable, visible
from ..options import Options
from ..report.model import Report
from ..sources import Listing, Skipped, list_sources, locate, staged_objects
from ..sources.local import OUTSIDE_ROOT, within_root
from .audit import run
from .baseline import about_operator


def repo_root(start: Path | None = None) -> Path | None:
    proc = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=start or Path.cwd(),
                          capture_output=True, text=True)
    return Path(proc.stdout.strip()) if proc.returncode == 0 else None


def _relative_objects(files: Sequence[str], root: Path, follow_symlinks: bool = False):
    """The files as source objects whose relpath is relative to the repository root, so ledger
    links by path (`assets/team.jpg`) match whatever folder the hook runs from. A file whose real
    path lies outside the repository (a committed link to /etc/passwd) is skipped as outside-root."""
    # a file named on the command line that is missing (or cannot be listed) is an error naming it
    for entry in list_sources(list(files), Listing(follow_symlinks=follow_symlinks), verb="check",
                              photos_only=False):
        real = getattr(getattr(entry, "location", None), "path", None)
        repository = os.fsencode(os.path.realpath(root))
        if real is not None and not follow_symlinks and not within_root(real, repository):
            entry = Skipped(entry.url, *OUTSIDE_ROOT)
        try:
            rel = Path(os.path.abspath(entry.url)).relative_to(root).as_posix()
        except ValueError:
            yield entry  # outside the repository: keep the source's own names
            continue
        if hasattr(entry, "read"):
            entry = dataclasses.replace(entry, relpath=rel)
        yield dataclasses.replace(entry, url=locate(printable(str(root)), rel))  # named from the repository root


def run_check(files: Sequence[str], opts: Options) -> Report:
    """Audit `files` (or, with opts.staged, the staged blobs of them) as the pre-commit hook does.

    Fail closed: a file whose content is an image but cannot be scanned is an UNSCANNED finding
    (exit 3, which blocks the commit); a file that is an image by name but not by content (a text
    file named .jpg) too. Only files that are not images by name or content (source code, text)
    are passed over quietly, so the hook can be given every staged file and decide by content."""
    if not opts.ledger:
        raise ConfigError("no consent ledger configured: set `ledger = \"...\"` in [tool.bipacheck] "
                          "(pyproject.toml) or .bipacheck.toml, or pass --ledger")
    if not Path(opts.ledger).is_file():
        raise ConfigError(f"consent ledger {opts.ledger} does not exist (create it with `bipacheck ledger init`)")
    root = repo_root() or Path.cwd()
    if opts.staged:
        entries = (dataclasses.replace(e, url=locate(printable(str(root)), e.url))
                   for e in staged_objects(str(root), list(files) or None))  # staged names are repository paths
    else:
        entries = _relative_objects(files, root, opts.follow_symlinks)
    # reports name files from the repository root, as ledger links by path do
    return run(list(files), opts, entries=entries, command="check", ignore=not_an_image, root=printable(str(root)))


def not_an_image(skipped) -> bool:
    """Neither named like an image or a video nor holding one: source code, text, archives, empty files
    (an empty `__init__.py`) in a commit. An empty or unreadable file named like an image or a video
    still blocks."""
    return (skipped.reason in ("unsupported-format", "empty-file") and not named_like_image(skipped.relpath)
            and not named_like_video(skipped.relpath))


def human_summary(report: Report) -> str:
    """Short text for a developer whose commit was blocked: what, where, and how to fix it."""
    failing = report.failing()
    unscanned = [f for f in report.unscanned if f not in failing]
    unknown = [f for f in report.reach_unknown if f not in failing]
    s = report.summary
    blockers = [f"{count} {what}" for count, what in ((len(failing), "finding(s)"),
                                                      (len(unscanned), "file(s) not scanned"),
                                                      (len(unknown), "face(s) whose reach is unknown")) if count]
    lines = [f"bipacheck check: {s['scanned']} file(s) checked, {s['faces']} face(s); "
             + (f"the commit is blocked by {', '.join(blockers)}" if blockers else "nothing blocks the commit")]
    for finding in failing:
        lines.append(f"{finding.path}: {finding.severity.upper()} {finding.rule_id} ({finding.citation})")
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
    if any(about_operator(f) for f in failing):
        lines += [
            "  Findings about the operator (no photo: its attestation) are company-wide: correct the attestation,",
            "  or accept one by name: `bipacheck baseline operator RULE_ID --justification \"why\"`.",
        ]
    for finding in unscanned:
        reason = finding.details.get("reason")
        detail = finding.message.removeprefix(f"Not scanned ({reason}): ")  # the reason is said once
        lines.append(f"{finding.path}: NOT SCANNED ({reason}): {detail}")
    if unscanned:
        lines.append("bipacheck: files that could not be scanned block the commit too: an image nobody could "
                     "check is never passed. Fix or remove them, or accept them in the baseline.")
    for finding in unknown:
        lines.append(f"{finding.path}: REACH UNKNOWN {finding.rule_id}: {finding.message}")
    if unknown:
        lines.append("bipacheck: faces without a release where nobody stated the processing region block the "
                     "commit too: whether the law reaches them could not be checked. State where they are processed "
                     "(`bipacheck init --region REGION`, e.g. US-IL, writes processing_regions into "
                     ".bipacheck.toml) or record processing events in the ledger.")
    stale = (report.run.get("baseline") or {}).get("stale", [])
    if stale:
        lines.append(f"bipacheck: {len(stale)} baseline entr{'y' if len(stale) == 1 else 'ies'} no longer "
                     "match (stale); `bipacheck baseline update` prunes them.")
    return "".join(visible(line) + "\n" for line in lines)  # a file name cannot drive the terminal
