"""The incremental scan cache: one SQLite file remembering what the detector found in each object.

A row is keyed by (object URL, settings fingerprint) and holds the listing's change key, a stamp
of the sidecars next to the object, the content SHA-256 and the detection result as JSON (boxes,
scores, face tags: never pixels). A row is reused only when fingerprint, change key and stamp all
match, the row authenticates (an HMAC under a key kept outside this file: cache_auth.py), and, for
local files, the file's content still hashes to the row's SHA-256: a same-size file swapped in
with its times reset, or a row edited in the file, is scanned again. The consent ledger is never
cached: findings are always evaluated afresh from cached detections. Each result is committed as
soon as it is produced (WAL mode), so an audit killed at any point resumes where it stopped.

Each settings fingerprint is also recorded with its settings and when it was last used, so
`cache info` can say what a cache holds and `cache prune` can drop rows no current audit reads
(another detector, threshold or bipacheck version leaves its rows behind otherwise).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

from ..version import __version__
from ..detect.base import Face
from ..errors import ConfigError, ImageError
from ..metadata import TagRegion
from ..sources import Listing
from ..sources.filters import PathFilter
from ..video import FaceTrack
from .cache_auth import authentic, cache_key, row_mac
from .scan import PhotoScan, ScanSettings, SkippedFile

SCHEMA_VERSION = 2  # 2: rows carry an HMAC (rows of version 1 are dropped: nothing vouches for them)
_SEEN_BATCH = 512  # listed URLs are recorded in batches; results are committed one by one

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS results (
    url TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    change_key TEXT NOT NULL,
    stamp TEXT,            -- sidecar stamp; NULL when it could not be known (never matches)
    sha256 TEXT NOT NULL,
    kind TEXT NOT NULL,    -- 'photo' or 'skipped'
    result TEXT NOT NULL,  -- JSON
    mac TEXT,              -- HMAC-SHA256 of every field above (cache_auth.row_mac)
    PRIMARY KEY (url, fingerprint)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS configurations (
    fingerprint TEXT PRIMARY KEY,
    settings TEXT NOT NULL,   -- JSON: what the fingerprint is the hash of
    last_used TEXT NOT NULL,  -- UTC, ISO 8601, for people
    use_order INTEGER NOT NULL  -- larger = used more recently, for ordering (clocks tie and step back)
) WITHOUT ROWID;
"""


def default_cache_path(ledger: str) -> str:
    """Where the CLI keeps the cache of audits against `ledger` unless told otherwise."""
    return f"{ledger}.cache.db"


# Bump when the same bytes scan to a different result within one version (2: metadata warnings no
# longer quote face-tag names; PNGs with oversized text chunks are scanned, not skipped; 3: alpha
# views and embedded images are searched, faces say where they were found; 4: videos are scanned,
# a result is an image's or a video's, with the video's facts and face tracks; 5: icon images, TIFF
# SubIFDs and tags, uncompressed EXIF and JFIF thumbnails, BMP/TIFF/hex images in metadata, what follows
# a GIF or BMP, and a 16-bit frame's transparent grey level are searched too).
RESULTS_REVISION = 5


def settings_key(detector_settings: dict, settings: ScanSettings) -> dict:
    """Everything that changes a detection result: model hash, threshold, scan settings, version."""
    return {"detector": detector_settings, "scan": settings.as_dict(), "bipacheck": __version__,
            "results": RESULTS_REVISION}


def fingerprint_of(key: dict) -> str:
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


def encode_result(result: PhotoScan | SkippedFile) -> tuple[str, str]:
    """(kind, JSON) of a result, without its URL and relpath (those come from the listing)."""
    if isinstance(result, PhotoScan):
        return "photo", json.dumps({
            "sha256": result.sha256, "size": result.size, "format": result.format,
            "width": result.width, "height": result.height,
            "faces": [[int(f.x), int(f.y), int(f.w), int(f.h), float(f.score), f.found_by, f.found_in]
                      for f in result.faces],
            "frames_scanned": result.frames_scanned, "frame_count": result.frame_count,
            "warnings": list(result.warnings), "tags": [t.to_dict() for t in result.tags],
            "tag_errors": list(result.tag_errors), "unscanned": list(result.unscanned),
            "kind": result.kind, "video": result.video, "tracks": [t.to_record() for t in result.tracks],
        }, ensure_ascii=False)
    return "skipped", json.dumps({"reason": result.reason, "message": result.message,
                                  "sha256": result.sha256, "size": result.size}, ensure_ascii=False)


def decode_result(kind: str, text: str, url: str, relpath: str) -> PhotoScan | SkippedFile:
    data = json.loads(text)
    if kind == "skipped":
        return SkippedFile(url, relpath, data["reason"], data["message"], data["sha256"], data["size"])
    return PhotoScan(url, relpath, data["sha256"], data["size"], data["format"], data["width"],
                     data["height"], [Face(*f) for f in data["faces"]], data["frames_scanned"],
                     data["frame_count"], data["warnings"], data["unscanned"], [TagRegion(**t) for t in data["tags"]],
                     data["tag_errors"], kind=data["kind"], video=data["video"],
                     tracks=[FaceTrack.from_record(t) for t in data["tracks"]])


@dataclass(frozen=True)
class ListingScope:
    """Which cached rows a complete listing of `specs` speaks for, so that rows of objects no longer
    listed can be dropped. `partial` listings (a manifest, pre-listed entries) never drop anything;
    `accepts` is the include/exclude filter on a path relative to the spec."""

    specs: tuple[str, ...] = ()
    partial: bool = False
    accepts: object = None  # Callable[[str], bool] | None

    def roots(self) -> list[str]:
        roots = []
        for spec in self.specs:
            scheme, sep, rest = spec.partition("://")
            root = f"{scheme.lower()}://{rest}" if sep and scheme.lower() != "file" else spec
            roots.append(root.rstrip("/") or root)
        return roots


@dataclass
class CacheStats:
    hits: int = 0
    scanned: int = 0
    dropped: int = 0
    rejected: int = 0  # rows that failed authentication (edited, or written under another key): rescanned
    content_changed: int = 0  # hits whose file no longer hashes to the row's SHA-256: rescanned
    full: bool = False
    protected: set[str] = field(default_factory=set)  # listing failures: never drop rows under these


class ScanCache:
    """One audit's view of the cache file: lookups and writes for one settings fingerprint."""

    def __init__(self, path: str | os.PathLike, key: dict, *, scope: ListingScope = ListingScope(),
                 full: bool = False):
        self.path = os.fspath(path)
        self.fingerprint = fingerprint_of(key)
        self.scope = scope
        self.stats = CacheStats(full=full)
        self._seen: list[tuple[str]] = []
        self._key = cache_key()
        self._db = _connect(self.path)
        with _transaction(self._db):
            self._db.execute(
                "INSERT OR REPLACE INTO configurations VALUES (?, ?, ?, "
                "(SELECT COALESCE(MAX(use_order), 0) + 1 FROM configurations))",
                (self.fingerprint, json.dumps(key, sort_keys=True), _now()))

    # -- reading and writing ------------------------------------------------------------------
    def lookup(self, obj, stamp: str | None) -> PhotoScan | SkippedFile | None:
        """The cached result of `obj` (a SourceObject) if it is unchanged, else None: any doubt (a
        row that does not authenticate, content that no longer hashes the same) is a miss."""
        if stamp is None:
            return None
        row = self._db.execute(
            "SELECT change_key, stamp, sha256, kind, result, mac FROM results WHERE url = ? AND fingerprint = ?",
            (obj.url, self.fingerprint)).fetchone()
        if row is None or row[0] != obj.change_key or row[1] != stamp:
            return None
        change_key, stamp, sha256, kind, text, mac = row
        if not authentic(self._key, mac, obj.url, self.fingerprint, change_key, stamp, sha256, kind, text):
            self.stats.rejected += 1
            return None
        if not self._same_content(obj, sha256):
            self.stats.content_changed += 1
            return None
        self.stats.hits += 1
        return decode_result(kind, text, obj.url, obj.relpath)

    @staticmethod
    def _same_content(obj, sha256: str) -> bool:
        """Local files are re-hashed (size and times can be set back; bytes cannot): a streamed read,
        no decode. Bucket and git objects' change keys already come from their content (ETag,
        generation, blob id)."""
        rehash = getattr(obj.location, "content_sha256", None)
        if rehash is None:
            return True
        try:
            return rehash() == sha256
        except ImageError:
            return False

    def store(self, obj, stamp: str | None, result: PhotoScan | SkippedFile) -> None:
        """Commit a fresh result now. Objects that could not be read at all (no content hash:
        a network error, a vanished file) are not remembered: the next run tries them again."""
        self.stats.scanned += 1
        if result.sha256 is None:
            return
        kind, text = encode_result(result)
        fields = (obj.url, self.fingerprint, obj.change_key, stamp, result.sha256, kind, text)
        self._db.execute(
            "INSERT OR REPLACE INTO results (url, fingerprint, change_key, stamp, sha256, kind, result, mac)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (*fields, row_mac(self._key, *fields)))

    def saw(self, url: str) -> None:
        """`url` is in this run's listing (its rows must survive the drop at the end)."""
        self._seen.append((url,))
        if len(self._seen) >= _SEEN_BATCH:
            self._flush_seen()

    def protect(self, url: str) -> None:
        """`url` could not be listed (or was skipped by its source): keep every row under it."""
        self.stats.protected.add(url.rstrip("/"))

    # -- end of run ---------------------------------------------------------------------------
    def finish(self) -> None:
        """Called after a COMPLETE listing only: drop rows of objects under the audited sources
        that are no longer listed (deleted objects), whatever fingerprint they were stored with."""
        self._flush_seen()
        if self.scope.partial or not self.scope.specs:
            return
        self._db.create_function("bipa_droppable", 1, self._droppable, deterministic=True)
        ranges, params = [], []
        for root in self.scope.roots():
            ranges.append("(url = ? OR (url >= ? AND url < ?))")
            params += [root, root + "/", root + "0"]  # '0' follows '/': everything below root
        where = (f"({' OR '.join(ranges)}) AND url NOT IN (SELECT url FROM temp.seen)"
                 " AND bipa_droppable(url)")
        with _transaction(self._db, "IMMEDIATE"):
            (count,) = self._db.execute(f"SELECT COUNT(DISTINCT url) FROM results WHERE {where}",
                                        params).fetchone()
            self._db.execute(f"DELETE FROM results WHERE {where}", params)
        self.stats.dropped = count

    def _droppable(self, url: str) -> bool:
        parts = url.split("/")
        if any("/".join(parts[:i]) in self.stats.protected for i in range(1, len(parts) + 1)):
            return False
        if self.scope.accepts is None:
            return True
        for root in self.scope.roots():
            if url.startswith(root + "/"):
                return bool(self.scope.accepts(url[len(root) + 1:]))
        return True

    def report(self) -> dict:
        """The run facts that go into report.run["cache"]."""
        return {"path": self.path, "fingerprint": self.fingerprint, "full": self.stats.full,
                "hits": self.stats.hits, "scanned": self.stats.scanned, "dropped": self.stats.dropped,
                "rejected": self.stats.rejected, "content_changed": self.stats.content_changed}

    def rows(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM results").fetchone()[0]

    def close(self) -> None:
        try:
            self._flush_seen()
        finally:
            self._db.close()

    def _flush_seen(self) -> None:
        if self._seen:
            with _transaction(self._db):
                self._db.executemany("INSERT OR IGNORE INTO temp.seen (url) VALUES (?)", self._seen)
            self._seen.clear()

    def __enter__(self) -> "ScanCache":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _transaction:
    def __init__(self, db: sqlite3.Connection, mode: str = "DEFERRED"):
        self.db, self.mode = db, mode

    def __enter__(self):
        self.db.execute(f"BEGIN {self.mode}")

    def __exit__(self, exc_type, *_):
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")


def _connect(path: str) -> sqlite3.Connection:
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise ConfigError(f"cache {path}: folder {parent} does not exist")
    try:
        db = sqlite3.connect(path, isolation_level=None, timeout=30)
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if tables - {"meta", "results", "configurations"}:
            db.close()  # e.g. --cache pointed at the ledger: never touch someone else's file
            raise ConfigError(f"cache {path} is another SQLite database (tables: {', '.join(sorted(tables))}), "
                              "not a bipacheck cache: point --cache elsewhere")
        db.execute("PRAGMA journal_mode = WAL")  # readers never block the writer; a kill loses nothing
        db.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: durable against process death
        db.executescript(_SCHEMA)
        version = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if version is not None and version[0] == "1":  # unauthenticated rows: dropped, the objects rescanned
            db.executescript("BEGIN IMMEDIATE; DROP TABLE results; UPDATE meta SET value = '2' WHERE "
                             "key = 'schema_version'; COMMIT;")
            db.executescript(_SCHEMA)
            version = ("2",)
        if version is None:
            db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        elif version[0] != str(SCHEMA_VERSION):
            db.close()
            raise ConfigError(f"cache {path} has schema version {version[0]}, this bipacheck uses "
                              f"{SCHEMA_VERSION}: delete it or point --cache elsewhere")
        # Listed URLs of this run: a temporary table, on disk, so memory stays flat.
        db.execute("CREATE TEMP TABLE IF NOT EXISTS seen (url TEXT PRIMARY KEY) WITHOUT ROWID")
    except sqlite3.DatabaseError as exc:
        raise ConfigError(f"cache {path} is not a bipacheck cache ({exc})") from None
    return db


def open_cache(path: str | os.PathLike, detector_settings: dict, settings: ScanSettings, *,
               sources: Sequence[str] = (), listing: Listing = Listing(), partial: bool = False,
               full: bool = False) -> ScanCache:
    """The cache for one run over `sources` listed with `listing`'s include/exclude globs.

    Only a listing of whole sources can tell which cached objects were deleted: a manifest run, or
    one over entries listed elsewhere (`partial`), never drops rows."""
    partial = partial or listing.manifest is not None
    accepts = None
    if listing.include or listing.exclude:
        accepts = PathFilter(tuple(listing.include), tuple(listing.exclude)).accepts
    scope = ListingScope(tuple(str(s) for s in sources), partial, accepts)
    return ScanCache(path, settings_key(detector_settings, settings), scope=scope, full=full)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _existing(path: str | os.PathLike) -> sqlite3.Connection:
    if not os.path.isfile(path) or os.path.getsize(path) == 0:
        raise ConfigError(f"cache {os.fspath(path)} does not exist")
    return _connect(os.fspath(path))


def cache_info(path: str | os.PathLike) -> list[dict]:
    """The settings a cache holds results for, most recently used first, with their row counts.
    Rows written before settings were recorded show settings None."""
    db = _existing(path)
    try:
        counts = dict(db.execute("SELECT fingerprint, COUNT(*) FROM results GROUP BY fingerprint"))
        known = db.execute("SELECT fingerprint, settings, last_used FROM configurations "
                           "ORDER BY use_order DESC").fetchall()
    finally:
        db.close()
    found = [{"fingerprint": f, "rows": counts.pop(f, 0), "settings": json.loads(s), "last_used": used}
             for f, s, used in known]
    return found + [{"fingerprint": f, "rows": n, "settings": None, "last_used": None}
                    for f, n in sorted(counts.items())]


def cache_prune(path: str | os.PathLike, keep: int = 1) -> dict:
    """Drop the rows of every settings fingerprint but the `keep` most recently used, then compact."""
    if keep < 0:
        raise ConfigError("keep must be 0 or more")
    configurations = cache_info(path)
    doomed = [c["fingerprint"] for c in configurations[keep:]]
    db = _existing(path)
    try:
        with _transaction(db, "IMMEDIATE"):
            for fingerprint in doomed:
                db.execute("DELETE FROM results WHERE fingerprint = ?", (fingerprint,))
                db.execute("DELETE FROM configurations WHERE fingerprint = ?", (fingerprint,))
        db.execute("VACUUM")
    finally:
        db.close()
    return {"kept": [c["fingerprint"] for c in configurations[:keep]], "dropped": doomed,
            "rows_dropped": sum(c["rows"] for c in configurations[keep:])}
