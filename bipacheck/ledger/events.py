"""The hash chain: every change appends an event, and `verify` replays them all.

An event's hash covers the previous event's hash and the canonical JSON of the event,
including the full row before and after the change. Replaying the chain therefore yields the
exact content every subject, consent and link row must have now, so a row edited or deleted
directly in SQLite is caught as surely as an edited or deleted event.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlite_utils import Database

from .dates import format_datetime, now_utc
from .fields import KEY, KINDS, canonical_json
from .models import Event, VerifyResult
from .schema import MIGRATIONS

GENESIS = "0" * 64
SCHEMA_KIND = "schema"
_HASHED = ("seq", "at", "actor", "action", "kind", "key", "before", "after", "note")


def event_hash(prev_hash: str, event: dict[str, Any]) -> str:
    body = canonical_json({name: event.get(name) for name in _HASHED})
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


def head(db: Database) -> tuple[int, str]:
    row = db.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
    return (row[0], row[1]) if row else (0, GENESIS)


class Chain:
    """Appends events inside the caller's write transaction; `flush` stores them."""

    def __init__(self, db: Database):
        self.db = db
        self.seq, self.hash = head(db)
        self.pending: list[dict[str, Any]] = []

    def append(self, action: str, kind: str, key: str, before: dict | None,
               after: dict | None, actor: str, note: dict | None = None) -> dict[str, Any]:
        event = {"seq": self.seq + 1, "at": format_datetime(now_utc()), "actor": actor,
                 "action": action, "kind": kind, "key": key, "before": before,
                 "after": after, "note": note}
        event["prev_hash"] = self.hash
        event["hash"] = event_hash(self.hash, event)
        self.seq, self.hash = event["seq"], event["hash"]
        self.pending.append(event)
        return event

    def flush(self) -> None:
        if not self.pending:
            return
        stored = [
            {**e, **{n: None if e[n] is None else canonical_json(e[n])
                     for n in ("before", "after", "note")}}
            for e in self.pending
        ]
        self.db["events"].insert_all(stored)
        self.db["meta"].upsert_all(
            [{"key": "head_seq", "value": str(self.seq)}, {"key": "head_hash", "value": self.hash}],
            pk="key",
        )
        self.pending = []


def decode(row: dict[str, Any]) -> Event:
    values = dict(row)
    for name in ("before", "after", "note"):
        values[name] = None if values[name] is None else json.loads(values[name])
    return Event(**values)


def verify(db: Database) -> VerifyResult:
    """Replay the chain; name the first event that no longer holds."""
    state: dict[tuple[str, str], dict] = {}
    touched: dict[tuple[str, str], int] = {}
    prev, last, version = GENESIS, 0, None
    for row in db.query("SELECT * FROM events ORDER BY seq"):
        seq = row["seq"]
        if seq != last + 1:
            return _broken(last + 1, f"event {last + 1} is missing (events jump from {last} "
                                     f"to {seq}): it was deleted", last, prev)
        try:
            event = decode(row)
        except (ValueError, TypeError):
            return _broken(seq, f"event {seq} is not readable JSON: it was edited", last, prev)
        if event.prev_hash != prev:
            return _broken(seq, f"event {seq} does not follow event {last}: its prev_hash is not "
                                f"event {last}'s hash (event {last} or {seq} was edited)",
                           last, prev)
        if event_hash(prev, event.__dict__) != event.hash:
            return _broken(seq, f"event {seq} ({event.action} {event.kind} {event.key}) was "
                                "edited: its content no longer matches its hash", last, prev)
        target = (event.kind, event.key)
        if event.kind in KINDS:
            if state.get(target) != event.before:
                return _broken(seq, f"event {seq} starts from a different {event.kind} row "
                                    f"{event.key!r} than the chain left it", last, prev)
            if event.after is None:
                state.pop(target, None)
            else:
                state[target] = event.after
            touched[target] = seq
        elif event.action == "init":
            version = (event.note or {}).get("schema_version")
        elif event.action == "migrate":
            migration = MIGRATIONS[(event.note or {})["from"]]
            state = {k: migration.transform(k[0], v) for k, v in state.items()}
            version = migration.to_version
        prev, last = event.hash, seq

    meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
    head_seq = int(meta.get("head_seq", "0"))
    if head_seq > last:
        return _broken(last + 1, f"events {last + 1}..{head_seq} were deleted (the ledger head "
                                 f"records event {head_seq})", last, prev)
    if head_seq != last or meta.get("head_hash", GENESIS) != prev:
        return _broken(last, f"the ledger head does not match event {last}", last, prev)
    if version is not None and str(version) != meta.get("schema_version"):
        return _broken(last, f"schema_version {meta.get('schema_version')} is not the version "
                             f"the chain records (v{version})", last, prev)
    return _check_rows(db, state, touched, last, prev)


def _check_rows(db: Database, state: dict, touched: dict, last: int, prev: str) -> VerifyResult:
    problems: list[tuple[float, int | None, str]] = []
    for kind in KINDS:
        pk = KEY[kind]
        actual = {row[pk]: row for row in db.query(f"SELECT * FROM [{kind}]")}
        expected = {key: row for (k, key), row in state.items() if k == kind}
        for key in sorted(set(actual) | set(expected)):
            have, want = actual.get(key), expected.get(key)
            if have == want:
                continue
            seq = touched.get((kind, key))
            if want is None:
                what = f"{kind} row {key!r} was added outside the ledger (no event records it)"
            elif have is None:
                what = f"{kind} row {key!r} recorded by event {seq} was deleted"
            else:
                fields = sorted(n for n in set(have) | set(want) if have.get(n) != want.get(n))
                what = (f"{kind} row {key!r} was edited after event {seq} recorded it "
                        f"(changed: {', '.join(fields)})")
            problems.append((seq if seq is not None else float("inf"), seq, what))
    if problems:
        problems.sort(key=lambda p: p[0])
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        return VerifyResult(False, problems[0][1], problems[0][2] + more, last, prev,
                            [p[2] for p in problems])
    return VerifyResult(True, None, f"{last} events verified; every row matches the chain",
                        last, prev)


def _broken(seq: int, reason: str, last: int, prev: str) -> VerifyResult:
    return VerifyResult(False, seq, reason, last, prev, [reason])
