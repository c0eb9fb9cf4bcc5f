"""Exit codes: one table for audit, scan, check and the ledger commands (README and --help quote it)."""

from __future__ import annotations

from enum import IntEnum


class Exit(IntEnum):
    OK = 0
    FINDINGS = 1  # findings at or above --fail-on (audit, check); a broken hash chain (ledger verify)
    ERROR = 2  # usage, configuration or ledger error: nothing was audited
    UNSCANNED = 3  # nothing failing, but something could not be checked: never a pass


# What each code means, one line each (the table report's verdict says it).
MEANINGS = {
    Exit.OK: "nothing at or above --fail-on, and every file scanned",
    Exit.FINDINGS: "findings at or above --fail-on",
    Exit.ERROR: "usage, configuration or ledger error: nothing was audited",
    Exit.UNSCANNED: "nothing failing, but something could not be checked (files not scanned, or faces whose "
                    "processing region nobody stated): never a pass",
}


def exit_code(*, failing: bool, unscanned: bool) -> Exit:
    """Failing findings outrank what could not be checked (unscanned files or frames, faces whose
    processing region nobody stated); either outranks success."""
    if failing:
        return Exit.FINDINGS
    return Exit.UNSCANNED if unscanned else Exit.OK


HELP = """\b
Exit codes (the same for audit, scan, check and ledger):
  0  nothing at or above --fail-on, and every file scanned
  1  findings at or above --fail-on (ledger verify: a broken hash chain)
  2  usage, configuration or ledger error: nothing was audited
  3  nothing failing, but something could not be checked: files (or frames)
     not scanned, or faces without a release whose processing region is unknown"""
