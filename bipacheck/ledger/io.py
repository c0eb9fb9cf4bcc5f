"""Reading import files (CSV or JSON Lines) into checked rows, and writing exports.

CSV: a header row naming columns from fields.COLUMNS. A column left out of the header keeps the
ledger's current value; an empty cell clears it. Exports quote cells a spreadsheet would run as a
formula (bipacheck.csv_cells), and imports read them back unquoted. JSON Lines: one object per line with the same
names; a key left out behaves like a missing column. Line numbers are the file's own.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ..csv_cells import neutralize, restore
from .errors import ImportRejected, InvalidValue, LedgerError
from .fields import ALIASES, COLUMNS, FILE_NAMES, KEY, LIST_COLUMNS, REQUIRED, complete, file_columns, normalize

FORMATS = ("csv", "json")
EVENT_COLUMNS = ("seq", "at", "actor", "action", "kind", "key", "before", "after", "note",
                 "prev_hash", "hash")


@dataclass
class SourceFile:
    name: str
    sha256: str
    format: str  # "csv" or "jsonl"
    columns: list[str] = field(default_factory=list)
    header_line: int = 1
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)


def read_source(path: str | Path) -> SourceFile:
    """Rows with their line numbers; structural problems (bad JSON, ragged CSV) collected."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LedgerError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRejected(path.name, [(text_line(data, exc.start), "not UTF-8 text")]) from None
    fmt = "jsonl" if _looks_like_jsonl(path, text) else "csv"
    source = SourceFile(path.name, hashlib.sha256(data).hexdigest(), fmt)
    (_read_jsonl if fmt == "jsonl" else _read_csv)(text, source)
    return source


def text_line(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _looks_like_jsonl(path: Path, text: str) -> bool:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return True
    if suffix == ".csv":
        return False
    return text.lstrip().startswith("{")


def _read_csv(text: str, source: SourceFile) -> None:
    reader = csv.reader(io.StringIO(text, newline=""))
    start = 1
    header: list[str] | None = None
    for cells in reader:
        line, start = start, reader.line_num + 1
        if not any(cell.strip() for cell in cells):
            continue
        if header is None:
            header = [c.strip() for c in cells]
            source.columns, source.header_line = header, line
            dupes = sorted({c for c in header if header.count(c) > 1})
            if dupes:
                source.problems.append((line, f"duplicate column(s): {', '.join(dupes)}"))
            continue
        if len(cells) != len(header):
            source.problems.append((line, f"has {len(cells)} fields, the header has {len(header)}"))
            continue
        source.rows.append((line, dict(zip(header, map(restore, cells)))))  # our exports quote formulas
    if header is None:
        source.problems.append((1, "empty file: no header row"))


def _read_jsonl(text: str, source: SourceFile) -> None:
    if text.lstrip().startswith("["):
        source.problems.append((1, "expected JSON Lines (one object per line), not a JSON array"))
        return
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            value = json.loads(raw)
        except ValueError as exc:
            source.problems.append((number, f"not valid JSON ({exc.msg})"))
            continue
        if not isinstance(value, dict):
            source.problems.append((number, "each line must be one JSON object"))
            continue
        if not source.columns:
            source.columns = list(value)
        source.rows.append((number, value))
    if not source.rows and not source.problems:
        source.problems.append((1, "empty file: no JSON objects"))


def infer_kind(columns: Iterable[str]) -> str | None:
    """processing if there is a processed_at; consents if a consent_id; links if a photo
    column; subjects if only theirs."""
    names = {ALIASES.get(c, c) for c in columns}
    if "processed_at" in names:
        return "processing"
    if "consent_id" in names:
        return "consents"
    if names & {"photo_sha256", "photo_path"}:
        return "links"
    if "subject_id" in names and names <= set(COLUMNS["subjects"]):
        return "subjects"
    return None


def parse_rows(kind: str, source: SourceFile) -> tuple[list[tuple[int, dict]], list]:
    """Normalize every row. Duplicates within the file are errors on the later line."""
    problems = list(source.problems)
    if source.format == "csv":
        named = [ALIASES.get(c, c) for c in source.columns]
        unknown = [c for c, n in zip(source.columns, named) if n not in COLUMNS[kind]]
        missing = [c for c in REQUIRED[kind] if c not in named]
        if unknown:
            problems.append((source.header_line, f"unknown column(s) for {kind}: "
                             f"{', '.join(unknown)} (expected: {', '.join(file_columns(kind))})"))
        if missing:
            problems.append((source.header_line,
                             f"missing required column(s): {', '.join(missing)}"))
        if unknown or missing:
            return [], problems
    parsed: list[tuple[int, dict]] = []
    seen: dict[str, int] = {}
    for line, values in source.rows:
        reasons = [f"missing required field {c}" for c in REQUIRED[kind] if c not in values]
        try:
            given = normalize(kind, values)
        except InvalidValue as exc:
            reasons.insert(0, str(exc))
        if reasons:
            problems.append((line, "; ".join(reasons)))
            continue
        key = complete(kind, given, None)[KEY[kind]]
        if key in seen:
            what = "link" if kind == "links" else KEY[kind] + f" {key!r}"
            problems.append((line, f"duplicate {what} (first on line {seen[key]})"))
            continue
        seen[key] = line
        parsed.append((line, given))
    return parsed, problems


def to_export(kind: str, row: dict[str, Any], fmt: str) -> dict[str, Any]:
    """A stored row as a file row that imports back to the same stored row."""
    out = {name: row.get(name) for name in COLUMNS[kind]}
    for name in LIST_COLUMNS.get(kind, ()):
        if out[name] is not None:
            words = json.loads(out[name])
            out[name] = words if fmt == "json" else ";".join(words)
    if kind == "links" and out["box"]:
        box = json.loads(out["box"])
        out["box"] = box if fmt == "json" else " ".join(map(str, box))
    return {FILE_NAMES.get(name, name): value for name, value in out.items()}


def write_rows(kind: str, rows: Iterable[dict[str, Any]], out: TextIO, fmt: str) -> int:
    """Write stored rows (or event rows for kind 'events') as CSV or JSON Lines."""
    if fmt not in FORMATS:
        raise LedgerError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    columns = EVENT_COLUMNS if kind == "events" else file_columns(kind)
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n") if fmt == "csv" else None
    if writer:
        writer.writeheader()
    count = 0
    for row in rows:
        if kind == "events":
            record = {n: row[n] for n in columns}
            if fmt == "json":
                for n in ("before", "after", "note"):
                    record[n] = None if record[n] is None else json.loads(record[n])
        else:
            record = to_export(kind, row, fmt)
        if writer:
            writer.writerow({k: "" if v is None else neutralize(str(v)) for k, v in record.items()})
        else:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
    return count
