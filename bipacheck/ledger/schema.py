"""Tables, the metadata that marks a file as a ledger, and forward migrations.

A migration has two halves that must agree: `apply` changes the tables inside the opening
transaction, and `transform` maps one row's old shape to its new shape. `verify` replays the
event chain through `transform`, so rows recorded before a migration still check out after it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from .errors import NotALedger, SchemaTooNew
from .fields import canonical_json

APP_ID = "bipacheck-ledger"
CURRENT_VERSION = 5
OLDEST_VERSION = 1


def create_tables(db: Database) -> None:
    """The current (v5) layout. Runs inside the caller's transaction."""
    db["meta"].create({"key": str, "value": str}, pk="key")
    db["subjects"].create(
        {"subject_id": str, "display_name": str, "jurisdictions": str,
         "last_interaction_at": str, "purpose_satisfied_at": str, "birth_date": str,
         "deceased_at": str, "employment_cba": str},
        pk="subject_id", not_null={"jurisdictions"},
    )
    db["consents"].create(
        {"consent_id": str, "subject_id": str, "scope": str, "purpose": str, "granted_at": str,
         "expires_at": str, "term": str, "revoked_at": str, "method": str,
         "notice_version": str, "evidence_uri": str, "evidence_sha256": str,
         "signer_role": str, "notice_elements": str, "purposes": str, "explicit": str},
        pk="consent_id", not_null={"subject_id", "scope", "granted_at", "method"},
        foreign_keys=[("subject_id", "subjects", "subject_id")],
    )
    db["links"].create(
        {"link_id": str, "subject_id": str, "photo_sha256": str, "photo_path": str,
         "box": str, "role": str, "time_s": str},
        pk="link_id", not_null={"subject_id", "role"},
        foreign_keys=[("subject_id", "subjects", "subject_id")],
    )
    db["events"].create(
        {"seq": int, "at": str, "actor": str, "action": str, "kind": str, "key": str,
         "before": str, "after": str, "note": str, "prev_hash": str, "hash": str},
        pk="seq", not_null={"at", "actor", "action", "kind", "key", "prev_hash", "hash"},
    )
    _create_processing(db)
    db["consents"].create_index(["subject_id"])
    db["links"].create_index(["subject_id"])
    db["links"].create_index(["photo_sha256"])
    db["links"].create_index(["photo_path"])
    db["events"].create_index(["kind", "key"])


def _create_processing(db: Database, purpose: bool = True) -> None:
    columns = {"event_id": str, "processed_at": str, "photo_sha256": str, "photo_path": str,
               "capture_region": str, "processing_region": str, "method": str, "recipients": str}
    db["processing"].create(
        {**columns, **({"purpose": str} if purpose else {})},
        pk="event_id", not_null={"processed_at"},
    )
    db["processing"].create_index(["photo_sha256"])
    db["processing"].create_index(["photo_path"])


@dataclass(frozen=True)
class Migration:
    from_version: int
    description: str
    apply: Callable[[Database], None]
    transform: Callable[[str, dict[str, Any]], dict[str, Any]]

    @property
    def to_version(self) -> int:
        return self.from_version + 1


def _v1_subject_to_v2(kind: str, row: dict[str, Any]) -> dict[str, Any]:
    if kind != "subjects":
        return row
    row = dict(row)
    single = row.pop("jurisdiction", None)
    row["jurisdictions"] = canonical_json([single.strip().upper()] if single else [])
    row["purpose_satisfied_at"] = None
    return row


def _apply_v1_to_v2(db: Database) -> None:
    rows = list(db.query("SELECT * FROM subjects"))
    db.execute("ALTER TABLE subjects ADD COLUMN jurisdictions TEXT NOT NULL DEFAULT '[]'")
    db.execute("ALTER TABLE subjects ADD COLUMN purpose_satisfied_at TEXT")
    for row in rows:
        new = _v1_subject_to_v2("subjects", row)
        db.execute("UPDATE subjects SET jurisdictions = ? WHERE subject_id = ?",
                   [new["jurisdictions"], row["subject_id"]])
    db.execute("ALTER TABLE subjects DROP COLUMN jurisdiction")


_V3_COLUMNS = {"subjects": ("birth_date", "deceased_at", "employment_cba"),
               "consents": ("signer_role", "notice_elements")}


def _v2_to_v3(kind: str, row: dict[str, Any]) -> dict[str, Any]:
    return {**row, **{name: None for name in _V3_COLUMNS.get(kind, ())}}


def _apply_v2_to_v3(db: Database) -> None:
    _add_columns(db, _V3_COLUMNS)
    _create_processing(db, purpose=False)  # the v3 shape: v4 adds its purpose column


def _add_columns(db: Database, added: dict[str, tuple[str, ...]]) -> None:
    for table, columns in added.items():
        for column in columns:
            db.execute(f"ALTER TABLE {table} ADD COLUMN {column} TEXT")


_V4_COLUMNS = {"consents": ("purposes", "explicit"), "processing": ("purpose",)}


def _v3_to_v4(kind: str, row: dict[str, Any]) -> dict[str, Any]:
    return {**row, **{name: None for name in _V4_COLUMNS.get(kind, ())}}


_V5_COLUMNS = {"links": ("time_s",)}


def _v4_to_v5(kind: str, row: dict[str, Any]) -> dict[str, Any]:
    return {**row, **{name: None for name in _V5_COLUMNS.get(kind, ())}}


MIGRATIONS: dict[int, Migration] = {
    1: Migration(1, "subjects: one `jurisdiction` becomes a `jurisdictions` list; add "
                    "purpose_satisfied_at (BIPA 15(a) destruction deadline)",
                 _apply_v1_to_v2, _v1_subject_to_v2),
    2: Migration(2, "subjects: add birth_date, deceased_at, employment_cba; consents: add "
                    "signer_role, notice_elements; new processing table (when and where each "
                    "photo was processed)", _apply_v2_to_v3, _v2_to_v3),
    3: Migration(3, "consents: add purposes (a vocabulary) and explicit (GDPR Art. 9(2)(a)); "
                    "processing: add purpose (compared with the release's purposes)",
                 lambda db: _add_columns(db, _V4_COLUMNS), _v3_to_v4),
    4: Migration(4, "links: add time_s (where in a video the linked box is, in seconds from its start)",
                 lambda db: _add_columns(db, _V5_COLUMNS), _v4_to_v5),
}


# What a ledger of each version holds (tables, and the event columns the chain is made of): a file
# with bipacheck's meta table and less than this is not a ledger, whatever its meta table says.
_TABLES = {1: {"meta", "subjects", "consents", "links", "events"},
           2: {"meta", "subjects", "consents", "links", "events"},
           3: {"meta", "subjects", "consents", "links", "events", "processing"},
           4: {"meta", "subjects", "consents", "links", "events", "processing"},
           5: {"meta", "subjects", "consents", "links", "events", "processing"}}
_EVENT_COLUMNS = {"seq", "at", "actor", "action", "kind", "key", "before", "after", "note", "prev_hash", "hash"}


def _check_tables(conn: sqlite3.Connection, path: str, version: int, tables: set[str]) -> None:
    missing = sorted(_TABLES[version] - tables)
    if missing:
        raise NotALedger(f"{path} is not a bipacheck ledger: its meta table says schema v{version}, but the "
                         f"table(s) {', '.join(missing)} are missing")
    columns = {row[1] for row in conn.execute("PRAGMA table_info(events)")}
    if not _EVENT_COLUMNS <= columns:
        raise NotALedger(f"{path} is not a bipacheck ledger: its events table lacks the hash chain's columns "
                         f"({', '.join(sorted(_EVENT_COLUMNS - columns))})")


def read_meta(conn: sqlite3.Connection, path: str) -> dict[str, str]:
    """The meta table of a bipacheck ledger; NotALedger/SchemaTooNew otherwise."""
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as exc:
        raise NotALedger(f"{path} is not a ledger: not a SQLite database ({exc})") from None
    if "meta" not in tables:
        raise NotALedger(f"{path} is a SQLite database but not a bipacheck ledger "
                         "(no meta table); create one with `bipacheck ledger init`")
    try:
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    except sqlite3.DatabaseError:
        raise NotALedger(f"{path} has a meta table that is not bipacheck's") from None
    if meta.get("app") != APP_ID:
        raise NotALedger(f"{path} is a SQLite database but not a bipacheck ledger "
                         f"(meta app is {meta.get('app')!r})")
    try:
        version = int(meta.get("schema_version", ""))
    except ValueError:
        raise NotALedger(f"{path}: unreadable schema_version {meta.get('schema_version')!r}")
    if version > CURRENT_VERSION:
        raise SchemaTooNew(f"{path} uses ledger schema v{version}, newer than this bipacheck "
                           f"understands (v{CURRENT_VERSION}); upgrade bipacheck to open it")
    if version < OLDEST_VERSION:
        raise NotALedger(f"{path} uses ledger schema v{version}, which no migration covers")
    try:
        _check_tables(conn, path, version, tables)
    except sqlite3.DatabaseError as exc:
        raise NotALedger(f"{path} is not a readable ledger ({exc})") from None
    return meta
