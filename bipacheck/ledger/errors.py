"""Typed ledger errors: each one carries a message a person can act on."""

from __future__ import annotations

from ..errors import BipacheckError


class LedgerError(BipacheckError):
    """The ledger cannot be opened, read or changed as asked."""


class NotALedger(LedgerError):
    """The file is missing, is not SQLite, or is SQLite without bipacheck's metadata."""


class SchemaTooNew(LedgerError):
    """The ledger was written by a newer bipacheck; opening it could lose data."""


class InvalidValue(LedgerError):
    """A field value that cannot go into the ledger (bad date, bad hash, unknown role...)."""


class ImportRejected(LedgerError):
    """A file had bad rows; nothing was imported. `problems` lists (line, reason) for each."""

    def __init__(self, source: str, problems: list[tuple[int, str]]):
        self.source = source
        self.problems = sorted(problems)
        lines = "\n".join(f"  line {line}: {reason}" for line, reason in self.problems)
        super().__init__(
            f"import of {source} rejected, ledger unchanged "
            f"({len(self.problems)} problem(s)):\n{lines}"
        )
