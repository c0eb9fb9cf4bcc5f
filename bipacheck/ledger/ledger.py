"""The Ledger API: open/create, questions the audit asks, and recorded changes.

Every write runs in one `BEGIN IMMEDIATE` transaction (WAL mode, busy timeout), so two writers
queue instead of losing work, and a process killed mid-write leaves the ledger as it was.
"""

from __future__ import annotations

import getpass
import os
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from sqlite_utils import Database

from ..hashing import sha256_file
from . import anchor, events, fields, io
from .anchor import Head
from .dates import format_datetime, normalize_datetime, now_utc, parse_datetime
from .errors import ImportRejected, InvalidValue, LedgerError, NotALedger
from .models import (Consent, ConsentStatus, Event, ImportResult, PhotoLink, ProcessingEvent,
                     Subject, VerifyResult)
from .schema import APP_ID, CURRENT_VERSION, MIGRATIONS, create_tables, read_meta
from .status import best_status

BUSY_TIMEOUT_SECONDS = 60.0
IMPORT_CHUNK = 500
_ROLE_STRENGTH = {"uploader": 0, "tagged": 1, "other": 2}
_ORDER = {"subjects": "subject_id", "consents": "subject_id, granted_at, consent_id",
          "links": "subject_id, photo_sha256, photo_path, box, time_s",
          "processing": "processed_at, photo_sha256, photo_path, event_id", "events": "seq"}


def default_actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER") or "unknown"


def _connect(path: Path, must_exist: bool, read_only: bool = False) -> sqlite3.Connection:
    target = path.resolve().as_uri() + ("?mode=ro" if read_only else "?mode=rw" if must_exist else "")
    try:
        return sqlite3.connect(target, uri=True, isolation_level=None,
                               timeout=BUSY_TIMEOUT_SECONDS)
    except sqlite3.Error as exc:
        raise NotALedger(f"cannot open ledger {path}: {exc}") from None


def _prepare(db: Database) -> None:
    # sqlite-utils < 4 committed any open transaction inside insert/update, which would break
    # all-or-nothing imports silently; refuse to run rather than risk that.
    if not hasattr(Database, "atomic"):
        raise LedgerError("the consent ledger needs sqlite-utils >= 4.0 (pip install -U "
                          "sqlite-utils)")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA foreign_keys=ON")
    db.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_SECONDS * 1000)}")


class Ledger:
    """A consent ledger file. `Ledger(path)` opens an existing one; see `Ledger.create`."""

    def __init__(self, path: str | os.PathLike, *, actor: str | None = None, read_only: bool = False):
        """read_only: an audit's view. Nothing is written, not even a migration or a WAL checkpoint,
        so the file whose SHA-256 the report pins is exactly the file that was read."""
        self.path = Path(path)
        self.actor = actor or default_actor()
        self.read_only = read_only
        if not self.path.is_file():
            raise NotALedger(f"no ledger at {self.path} (create one with `bipacheck ledger init`)")
        conn = _connect(self.path, must_exist=True, read_only=read_only)
        try:
            meta = read_meta(conn, str(self.path))
            # no sqlite-utils plugins: none may touch the consent ledger's connection (and loading
            # them scans every installed package's entry points, 45 ms of every hook run)
            self.db = Database(conn, execute_plugins=False)
            if read_only:
                self.db.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_SECONDS * 1000)}")
            else:
                _prepare(self.db)
        except BaseException:
            conn.close()
            raise
        if int(meta["schema_version"]) < CURRENT_VERSION and read_only:
            self.close()
            raise LedgerError(f"ledger {self.path} has schema version {meta['schema_version']}, older than this "
                              f"bipacheck's {CURRENT_VERSION}; upgrade it first: bipacheck ledger migrate {self.path}")
        if int(meta["schema_version"]) < CURRENT_VERSION:
            try:
                self._migrate()
            except BaseException:
                self.close()
                raise

    # A Ledger crosses process boundaries (e.g. an audit's worker pool) by path: each process
    # opens its own connection, which is what SQLite's locking expects.
    def __getstate__(self) -> dict[str, Any]:
        return {"path": str(self.path), "actor": self.actor, "read_only": self.read_only}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["path"], actor=state["actor"], read_only=state.get("read_only", False))  # type: ignore[misc]

    # -- opening -------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | os.PathLike, *, actor: str | None = None, read_only: bool = False) -> "Ledger":
        return cls(path, actor=actor, read_only=read_only)

    @classmethod
    def create(cls, path: str | os.PathLike, *, actor: str | None = None) -> "Ledger":
        """Make a new ledger. An existing empty ledger is reused; anything else is refused."""
        path = Path(path)
        if path.exists() and (not path.is_file() or path.stat().st_size > 0):
            if not path.is_file():
                raise LedgerError(f"{path} exists and is not a file")
            ledger = cls(path, actor=actor)
            if ledger.is_empty():
                return ledger
            ledger.close()
            raise LedgerError(f"{path} already holds a ledger with records; refusing to "
                              "initialize over it")
        if not path.parent.is_dir():
            raise LedgerError(f"cannot create {path}: directory {path.parent} does not exist")
        db = Database(_connect(path, must_exist=False), execute_plugins=False)  # as in __init__
        try:
            _prepare(db)
            db.execute("BEGIN IMMEDIATE")
            if "meta" not in db.table_names():  # another process may have just created it
                create_tables(db)
                db["meta"].insert_all([
                    {"key": "app", "value": APP_ID},
                    {"key": "schema_version", "value": str(CURRENT_VERSION)},
                    {"key": "created_at", "value": format_datetime(now_utc())},
                ])
                chain = events.Chain(db)
                chain.append("init", events.SCHEMA_KIND, "", None, None, actor or default_actor(),
                             {"app": APP_ID, "schema_version": CURRENT_VERSION})
                chain.flush()
            db.execute("COMMIT")
        except BaseException:
            db.rollback()
            raise
        finally:
            db.close()
        return cls(path, actor=actor)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "Ledger":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        return int(self._meta()["schema_version"])

    def _meta(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT key, value FROM meta").fetchall())

    def is_empty(self) -> bool:
        """No subjects, consents or links, and no events beyond schema bookkeeping."""
        rows = sum(self.db[kind].count for kind in fields.KINDS)
        return rows == 0 and not self.db.execute(
            "SELECT 1 FROM events WHERE kind != ? LIMIT 1", [events.SCHEMA_KIND]).fetchone()

    # -- transactions ----------------------------------------------------------------------
    @contextmanager
    def _transaction(self) -> Iterator[events.Chain]:
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise LedgerError(f"ledger {self.path} is busy (another process is writing): "
                              f"{exc}") from None
        try:
            chain = events.Chain(self.db)
            yield chain
            chain.flush()
            self.db.execute("COMMIT")
        except BaseException:
            self.db.rollback()
            raise

    def _migrate(self) -> None:
        with self._transaction() as chain:
            version = int(self._meta()["schema_version"])  # re-read: someone may have migrated
            while version < CURRENT_VERSION:
                step = MIGRATIONS[version]
                step.apply(self.db)
                chain.append("migrate", events.SCHEMA_KIND, "", None, None, self.actor,
                             {"from": version, "to": step.to_version,
                              "description": step.description})
                version = step.to_version
            self.db["meta"].upsert({"key": "schema_version", "value": str(version)}, pk="key")

    def _stored(self, kind: str, key: str) -> dict[str, Any] | None:
        pk = fields.KEY[kind]
        rows = list(self.db.query(f"SELECT * FROM [{kind}] WHERE [{pk}] = ?", [key]))
        return rows[0] if rows else None

    def _insert_once(self, chain: events.Chain, kind: str, row: dict, action: str, actor: str | None,
                     instead: str) -> None:
        """Insert `row`; the same row again is a no-op, a different row under its key an error."""
        key = row[fields.KEY[kind]]
        before = self._stored(kind, key)
        if before is None:
            self._write(chain, kind, None, row, action, actor or self.actor)
        elif before != row:
            raise LedgerError(f"{fields.SINGULAR[kind]} {key!r} already exists with other {instead}")

    def _write(self, chain: events.Chain, kind: str, before: dict | None, after: dict | None,
               action: str, actor: str, note: dict | None = None) -> None:
        """Store one row change and its event. Insert, update or delete follows from before/after."""
        key = (after or before or {})[fields.KEY[kind]]
        if before is None:
            self.db[kind].insert(after)
        elif after is None:
            self.db[kind].delete(key)
        else:
            self.db[kind].update(key, {k: v for k, v in after.items() if before.get(k) != v})
        chain.append(action, kind, key, before, after, actor, note)

    # -- reading ---------------------------------------------------------------------------
    def subject(self, subject_id: str) -> Subject | None:
        row = self._stored("subjects", str(subject_id))
        return Subject.from_row(row) if row else None

    def subjects(self) -> list[Subject]:
        return [Subject.from_row(r) for r in self._rows("subjects")]

    def consent(self, consent_id: str) -> Consent | None:
        row = self._stored("consents", str(consent_id))
        return Consent.from_row(row) if row else None

    def consents(self, subject_id: str | None = None) -> list[Consent]:
        return [Consent.from_row(r) for r in self._rows("consents", subject_id)]

    def links(self, subject_id: str | None = None) -> list[PhotoLink]:
        return [PhotoLink.from_row(r) for r in self._rows("links", subject_id)]

    def processing_events(self, sha256: str | None = None,
                          relpath: str | None = None) -> list[ProcessingEvent]:
        """Times the photo (by content hash OR relative path) was processed, oldest first."""
        digest = fields.sha256(sha256, "sha256")
        path = _normalized_path(relpath)  # a name no event could spell (`\\x01a.jpg`) matches nothing
        if digest is None and path is None:
            return []
        rows = self.db.query("SELECT * FROM processing WHERE photo_sha256 = ? OR photo_path = ? "
                             f"ORDER BY {_ORDER['processing']}", [digest, path])
        return [ProcessingEvent.from_row(r) for r in rows]

    def has_processing_events(self) -> bool:
        return self.db.execute("SELECT 1 FROM processing LIMIT 1").fetchone() is not None

    def subject_as_of(self, subject_id: str, when: datetime | str) -> Subject | None:
        """The subject's row as the ledger recorded it at `when` (the event log's history).

        Facts recorded only after `when` (e.g. a ledger first imported later) fall back to the
        earliest recorded row: the closest the ledger can say to how things stood.
        """
        moment = format_datetime(parse_datetime(when, "when"))
        row, first, version = None, None, CURRENT_VERSION
        for event in self.db.query(
                "SELECT * FROM events WHERE (kind = 'subjects' AND key = ?) OR kind = ? "
                "ORDER BY seq", [str(subject_id), events.SCHEMA_KIND]):
            note = events.decode(event).note or {}
            if event["action"] == "init":
                version = int(note.get("schema_version", version))
                continue
            if event["action"] == "migrate":
                if row is not None:
                    row = MIGRATIONS[note["from"]].transform("subjects", row)
                if first is not None:
                    first = MIGRATIONS[note["from"]].transform("subjects", first)
                version = int(note["to"])
                continue
            if event["at"] > moment and first is not None:
                break
            after = events.decode(event).after
            if event["at"] <= moment:
                row = after
            first = first if first is not None else after
        chosen = row if row is not None else first
        if chosen is None:
            return None
        while version < CURRENT_VERSION:  # a history that stops before later migrations
            chosen = MIGRATIONS[version].transform("subjects", chosen)
            version += 1
        return Subject.from_row(chosen)

    def _rows(self, kind: str, subject_id: str | None = None) -> Iterator[dict[str, Any]]:
        where, args = ("WHERE subject_id = ?", [str(subject_id)]) if subject_id else ("", [])
        return self.db.query(f"SELECT * FROM [{kind}] {where} ORDER BY {_ORDER[kind]}", args)

    def photo_links(self, sha256: str | None = None, relpath: str | None = None) -> list[PhotoLink]:
        """Subjects linked to a photo by content hash OR relative path, one per subject+box."""
        digest = fields.sha256(sha256, "sha256")
        path = _exact_path(relpath)
        if digest is None and path is None:
            return []
        rows = self.db.query("SELECT * FROM links WHERE photo_sha256 = ? OR photo_path = ?",
                             [digest, path])
        best: dict[tuple, PhotoLink] = {}
        for link in map(PhotoLink.from_row, rows):
            key = (link.subject_id, tuple(link.box) if link.box else None, link.time_s)
            held = best.get(key)
            if held is None or _ROLE_STRENGTH[link.role] < _ROLE_STRENGTH[held.role]:
                best[key] = link
        return sorted(best.values(), key=lambda l: (l.subject_id, l.box or [], l.time_s or 0.0))

    def consent_status(self, subject_id: str, scope: str, as_of: datetime | str) -> ConsentStatus:
        """Whether `subject_id` had a release covering `scope` at `as_of` (aware datetime)."""
        when = parse_datetime(as_of, "as_of")
        if when is None:
            raise InvalidValue("as_of: a date is required")
        wanted = fields.scope(scope)
        if wanted is None:
            raise InvalidValue("scope: a scope such as face_geometry is required")
        return best_status(self.consents(str(subject_id)), wanted, when)

    def history(self, subject_id: str | None = None, limit: int | None = None) -> list[Event]:
        """Events oldest first; for a subject: its own row, its consents and its links."""
        where, args = "", []
        if subject_id is not None:
            where = ("WHERE (kind = 'subjects' AND key = ?) "
                     "OR json_extract(after, '$.subject_id') = ? "
                     "OR json_extract(before, '$.subject_id') = ?")
            args = [str(subject_id)] * 3
        base = f"SELECT * FROM events {where}"
        sql = (f"SELECT * FROM ({base} ORDER BY seq DESC LIMIT {int(limit)}) ORDER BY seq"
               if limit else f"{base} ORDER BY seq")
        return [events.decode(r) for r in self.db.query(sql, args)]

    def head(self) -> tuple[int, str]:
        """(last event number, its hash): quote it elsewhere to anchor the chain."""
        return events.head(self.db)

    def verify(self, expect: Head | None = None) -> VerifyResult:
        """Replay the hash chain and compare every row with it, in one consistent snapshot.

        expect: a head quoted outside the ledger (anchor.py): the ledger must still hold that event,
        unchanged, or events were cut from its end (which the chain alone cannot show)."""
        self.db.execute("BEGIN")
        try:
            result = events.verify(self.db)
            if result.ok and expect is not None:
                missing = anchor.missing_head(self.db, expect, result.events)
                if missing:
                    return VerifyResult(False, expect.seq, missing, result.events, result.head_hash, [missing],
                                        head_held=False)
                result.head_held = True
                which = f"event {expect.seq}" if expect.seq is not None else "the event"
                result.reason += f"; it still holds {which} that {expect.source} quotes as its head"
            return result
        except sqlite3.DatabaseError as exc:
            raise NotALedger(f"{self.path} cannot be read as a ledger ({exc})") from None
        finally:
            self.db.rollback()

    def file_sha256(self) -> str:
        """SHA-256 of the ledger file (for the audit report). Read-write: after folding the WAL into
        it; read-only: as it is (see wal_sha256 for changes not yet folded in)."""
        if not self.read_only:
            self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return sha256_file(self.path)

    def wal_sha256(self) -> str | None:
        """SHA-256 of the write-ahead log when it holds changes not yet in the main file, else None."""
        wal = self.path.with_name(self.path.name + "-wal")
        return sha256_file(wal) if wal.is_file() and wal.stat().st_size > 0 else None

    # -- changing --------------------------------------------------------------------------
    def add_subject(self, subject_id: str, display_name: str | None = None,
                    jurisdictions: list[str] | str | None = None,
                    last_interaction_at: datetime | str | None = None,
                    purpose_satisfied_at: datetime | str | None = None, *,
                    residence: list[str] | str | None = None,
                    birth_date: datetime | str | None = None,
                    deceased_at: datetime | str | None = None,
                    employment_cba: bool | str | None = None,
                    actor: str | None = None) -> Subject:
        """Add a person; repeating the same call is a no-op, a different one an error.

        `residence` is another name for `jurisdictions` (give one of them)."""
        if residence is not None and jurisdictions is not None:
            raise InvalidValue("give residence or jurisdictions, not both (they are one field)")
        given = fields.normalize("subjects", {
            "subject_id": subject_id, "display_name": display_name,
            "jurisdictions": residence if residence is not None else jurisdictions,
            "last_interaction_at": last_interaction_at,
            "purpose_satisfied_at": purpose_satisfied_at, "birth_date": birth_date,
            "deceased_at": deceased_at, "employment_cba": employment_cba})
        row = fields.complete("subjects", given, None)
        with self._transaction() as chain:
            self._insert_once(chain, "subjects", row, "add-subject", actor,
                              "details; use edit-subject to change them")
        return Subject.from_row(row)

    def edit_subject(self, subject_id: str, *, actor: str | None = None,
                     **changes: Any) -> Subject:
        """Change some of a subject's fields (e.g. last_interaction_at); others are kept."""
        if "subject_id" in changes:
            raise InvalidValue("subject_id cannot be edited; add a new subject instead")
        given = fields.normalize("subjects", changes)
        with self._transaction() as chain:
            before = self._require("subjects", str(subject_id))
            after = fields.complete("subjects", given, before)
            if after != before:
                self._write(chain, "subjects", before, after, "edit", actor or self.actor)
        return Subject.from_row(after)

    def grant(self, subject_id: str, scope: str, granted_at: datetime | str | None = None, *,
              consent_id: str | None = None, purpose: str | None = None,
              expires_at: datetime | str | None = None, term: str | None = None,
              method: str = "written", notice_version: str | None = None,
              evidence_uri: str | None = None, evidence_sha256: str | None = None,
              signer_role: str | None = None, notice_elements: list[str] | str | None = None,
              purposes: list[str] | str | None = None, explicit: bool | str | None = None,
              actor: str | None = None) -> Consent:
        """Record a written release. granted_at defaults to now; consent_id to a new id."""
        given = fields.normalize("consents", {
            "consent_id": consent_id or f"C-{uuid.uuid4().hex[:12]}",
            "subject_id": subject_id, "scope": scope, "purpose": purpose,
            "granted_at": granted_at if granted_at is not None else now_utc(),
            "expires_at": expires_at, "term": term, "method": method,
            "notice_version": notice_version, "evidence_uri": evidence_uri,
            "evidence_sha256": evidence_sha256, "signer_role": signer_role,
            "notice_elements": notice_elements, "purposes": purposes, "explicit": explicit})
        row = fields.complete("consents", given, None)
        problems = fields.check("consents", row)
        if problems:
            raise InvalidValue("; ".join(problems))
        with self._transaction() as chain:
            self._require("subjects", row["subject_id"])
            self._insert_once(chain, "consents", row, "grant", actor,
                              "terms; a release is never rewritten, grant a new one")
        return Consent.from_row(row)

    def revoke(self, consent_id: str, revoked_at: datetime | str | None = None, *,
               reason: str | None = None, actor: str | None = None) -> Consent:
        """Mark a release revoked from `revoked_at` (default now). The row is kept as proof."""
        when = normalize_datetime(revoked_at if revoked_at is not None else now_utc(),
                                  "revoked_at")
        with self._transaction() as chain:
            before = self._require("consents", str(consent_id))
            if before["revoked_at"]:
                raise LedgerError(f"consent {consent_id!r} was already revoked at "
                                  f"{before['revoked_at']}")
            after = {**before, "revoked_at": when}
            problems = fields.check("consents", after)
            if problems:
                raise InvalidValue("; ".join(problems))
            self._write(chain, "consents", before, after, "revoke", actor or self.actor,
                        {"reason": reason} if reason else None)
        return Consent.from_row(after)

    def link(self, subject_id: str, photo_sha256: str | None = None,
             photo_path: str | None = None, box: list[int] | str | None = None,
             role: str = fields.DEFAULT_ROLE, *, time_s: float | str | None = None,
             actor: str | None = None) -> PhotoLink:
        """Record that a subject appears in a photo or video (by content hash and/or relative path);
        time_s: in a video, when the box is on screen (seconds from its start)."""
        given = fields.normalize("links", {"subject_id": subject_id, "photo_sha256": photo_sha256,
                                           "photo_path": photo_path, "box": box, "role": role,
                                           "time_s": time_s})
        row = fields.complete("links", given, None)
        problems = fields.check("links", row)
        if problems:
            raise InvalidValue("; ".join(problems))
        with self._transaction() as chain:
            self._require("subjects", row["subject_id"])
            before = self._stored("links", row["link_id"])
            if before != row:
                self._write(chain, "links", before, row, "edit" if before else "link",
                            actor or self.actor)
        return PhotoLink.from_row(row)

    def unlink(self, subject_id: str, photo_sha256: str | None = None,
               photo_path: str | None = None, box: list[int] | str | None = None, *,
               actor: str | None = None) -> int:
        """Remove a subject's links to a photo (all boxes unless `box` is given)."""
        given = fields.normalize("links", {"subject_id": subject_id, "photo_sha256": photo_sha256,
                                           "photo_path": photo_path, "box": box})
        if not (given["photo_sha256"] or given["photo_path"]):
            raise InvalidValue("one of photo_sha256 or photo_path is required")
        clauses = [f"[{name}] = ?" for name, value in given.items() if value is not None]
        values = [value for value in given.values() if value is not None]
        with self._transaction() as chain:
            rows = list(self.db.query(f"SELECT * FROM links WHERE {' AND '.join(clauses)}",
                                      values))
            if not rows:
                raise LedgerError(f"no link of subject {given['subject_id']!r} to that photo")
            for row in rows:
                self._write(chain, "links", row, None, "unlink", actor or self.actor)
        return len(rows)

    def record_processing(self, processed_at: datetime | str, photo_sha256: str | None = None,
                          photo_path: str | None = None, *, capture_region: str | None = None,
                          processing_region: str | None = None, method: str | None = None,
                          recipients: list[str] | str | None = None, purpose: str | None = None,
                          actor: str | None = None) -> ProcessingEvent:
        """Record that a photo was processed (e.g. templates made); the same call again is a no-op."""
        given = fields.normalize("processing", {
            "processed_at": processed_at, "photo_sha256": photo_sha256, "photo_path": photo_path,
            "capture_region": capture_region, "processing_region": processing_region,
            "method": method, "recipients": recipients, "purpose": purpose})
        row = fields.complete("processing", given, None)
        problems = fields.check("processing", row)
        if problems:
            raise InvalidValue("; ".join(problems))
        with self._transaction() as chain:
            self._insert_once(chain, "processing", row, "process", actor,
                              "regions or recipients; import a corrected events file to edit them")
        return ProcessingEvent.from_row(row)

    def _require(self, kind: str, key: str) -> dict[str, Any]:
        row = self._stored(kind, key)
        if row is None:
            singular = fields.SINGULAR[kind]
            raise LedgerError(f"unknown {singular} {key!r}")
        return row

    # -- files -----------------------------------------------------------------------------
    def import_file(self, path: str | os.PathLike, kind: str | None = None,
                    actor: str | None = None,
                    progress: Callable[[int, int], None] | None = None) -> ImportResult:
        """Import a CSV or JSON Lines file, all or nothing; re-importing it changes nothing.

        New rows are recorded as `import` events, changed rows as `edit` events. Any bad row
        rejects the whole file with ImportRejected listing every bad line. `progress(done,
        total)` is called as rows are written, inside the transaction.
        """
        if kind is not None and kind not in fields.KINDS:
            raise LedgerError(f"unknown kind {kind!r}; use one of {', '.join(fields.KINDS)}")
        source = io.read_source(path)
        kind = kind or io.infer_kind(source.columns)
        if kind not in fields.KINDS:  # an unreadable file says why before we guess its kind
            raise ImportRejected(source.name, source.problems or [(
                source.header_line,
                "cannot tell whether this file holds subjects, consents, links or processing "
                "events; pass --kind")])
        parsed, problems = io.parse_rows(kind, source)
        result = ImportResult(kind, source.name, warnings=fields.renamed_columns(source.columns))
        actor = actor or self.actor
        with self._transaction() as chain:
            plan, more = self._plan_import(kind, parsed)
            problems += more
            if problems:
                raise ImportRejected(source.name, problems)
            result.unchanged = len(parsed) - len(plan)
            for start in range(0, len(plan), IMPORT_CHUNK):
                for line, before, after in plan[start:start + IMPORT_CHUNK]:
                    note = {"source": source.name, "source_sha256": source.sha256, "line": line}
                    self._write(chain, kind, before, after, "edit" if before else "import",
                                actor, note)
                    result.edited += before is not None
                    result.added += before is None
                chain.flush()
                if progress:
                    progress(min(start + IMPORT_CHUNK, len(plan)), len(plan))
        return result

    def _plan_import(self, kind: str, parsed: list[tuple[int, dict]]) -> tuple[list, list]:
        """(line, before, after) for each row that changes something, and the problems found."""
        pk = fields.KEY[kind]
        existing = {row[pk]: row for row in self.db.query(f"SELECT * FROM [{kind}]")}
        subjects = {r[0] for r in self.db.execute("SELECT subject_id FROM subjects")}
        plan, problems = [], []
        for line, given in parsed:
            key = fields.complete(kind, given, None)[pk]
            before = existing.get(key)
            after = fields.complete(kind, given, before)
            reasons = fields.check(kind, after)
            if kind in ("consents", "links") and after["subject_id"] not in subjects:
                reasons.append(f"unknown subject {after['subject_id']!r} (import subjects first)")
            if kind == "consents" and before and before["revoked_at"] and not after["revoked_at"]:
                reasons.append(f"consent {key!r} was revoked at {before['revoked_at']}; an import "
                               "cannot undo a revocation (grant a new consent instead)")
            if reasons:
                problems.append((line, "; ".join(reasons)))
            elif after != before:
                plan.append((line, before, after))
        return plan, problems

    def export(self, kind: str, out: TextIO, format: str = "csv") -> int:
        """Write one kind (subjects, consents, links or events) to `out`; returns rows written.

        Exports of subjects, consents and links import back unchanged (a no-op re-import).
        """
        if kind not in (*fields.KINDS, "events"):
            raise LedgerError(f"unknown kind {kind!r}; use {', '.join(fields.KINDS)} or events")
        self.db.execute("BEGIN")  # one snapshot even while others write
        try:
            return io.write_rows(kind, self._rows(kind), out, format)
        finally:
            self.db.rollback()

    def export_dir(self, directory: str | os.PathLike, format: str = "csv") -> list[Path]:
        """Write subjects, consents and links files (e.g. subjects.csv) into `directory`, and
        processing.csv when the ledger holds processing events."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        written = []
        for kind in fields.KINDS:
            if kind == "processing" and not self.has_processing_events():
                continue
            target = directory / f"{kind}.{'csv' if format == 'csv' else 'jsonl'}"
            with open(target, "w", encoding="utf-8", newline="") as fh:
                self.export(kind, fh, format)
            written.append(target)
        return written


def _normalized_path(relpath: str | None) -> str | None:
    try:
        return fields.photo_path(relpath, "relpath")
    except InvalidValue:
        return None


def _exact_path(relpath: str | None) -> str | None:
    """`relpath` if a link could name it exactly, else None: `bs\\x.jpg` or `./bs/x.jpg` is not the
    photo a link to `bs/x.jpg` means."""
    return relpath if relpath and _normalized_path(relpath) == relpath else None
