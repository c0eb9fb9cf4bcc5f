"""The ledger's head, kept outside the ledger: what makes a truncated event log visible.

The hash chain proves order and integrity of the events that are there, not that none were cut
from the end: removing the last events (a revocation, say) together with the rows they changed
and the head recorded in the `meta` table leaves a shorter chain that verifies. Only a head quoted
somewhere the ledger's editor cannot also rewrite (a file under version control, the previous
audit report, another system) shows it: the ledger must still hold that event, unchanged.

A head is written `SEQ HASH` (`bipacheck ledger head`); `SEQ:HASH` and a bare `HASH` are read too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .errors import LedgerError

_HEAD = re.compile(r"^\s*#?(?:(\d+)\s*[: ]\s*)?([0-9a-f]{64})\s*$")


@dataclass(frozen=True)
class Head:
    seq: int | None  # None: only the hash was quoted
    hash: str
    source: str = ""  # where it was read from (a file, or the command line)

    def __str__(self) -> str:
        return self.hash if self.seq is None else f"{self.seq} {self.hash}"


def parse_head(text: str, source: str = "the command line") -> Head:
    """A quoted head: `SEQ HASH`, `SEQ:HASH` or `HASH` (lowercase hex SHA-256)."""
    lines = [line for line in text.splitlines() if line.strip()]
    match = _HEAD.match(lines[0]) if len(lines) == 1 else None
    if match is None:
        raise LedgerError(f"{source}: not a ledger head (expected one line `SEQ HASH`, as `bipacheck ledger head` "
                          f"writes it)")
    return Head(int(match.group(1)) if match.group(1) else None, match.group(2), source)


def read_head_file(path: str | Path) -> Head:
    try:
        text = Path(path).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LedgerError(f"ledger head file {path}: {exc}") from None
    return parse_head(text, f"ledger head file {path}")


def head_file_text(seq: int, hash_: str) -> str:
    return f"{seq} {hash_}\n"


def missing_head(db, expected: Head, last: int) -> str | None:
    """Why the ledger (events up to `last`, already verified as a chain) does not hold the quoted head,
    or None when it does."""
    if expected.seq is not None:
        row = db.execute("SELECT hash FROM events WHERE seq = ?", [expected.seq]).fetchone()
        if row is None:
            return (f"the ledger ends at event {last}, but {expected.source} quotes event {expected.seq}: "
                    f"events {last + 1}..{expected.seq} were removed (the log was truncated) or the ledger was "
                    "replaced by an older copy")
        if row[0] != expected.hash:
            return (f"event {expected.seq} is not the one {expected.source} quotes (its hash differs): the log "
                    f"was rewritten at or before event {expected.seq}")
        return None
    if db.execute("SELECT 1 FROM events WHERE hash = ?", [expected.hash]).fetchone() is None:
        return (f"no event has the head hash {expected.source} quotes: the log was truncated or rewritten, or "
                "the ledger was replaced")
    return None
