"""Field rules shared by the API and the importer: normalize one value, check one record.

Every value is normalized to the exact text stored in SQLite, so the same release written two
ways (`US-il` / `US-IL`, `-05:00` / `Z`) is the same row and re-imports stay idempotent.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .dates import from_stored, normalize_datetime, parse_duration
from .errors import InvalidValue

KINDS = ("subjects", "consents", "links", "processing")
METHODS = ("written", "electronic")  # how a release was signed
# What a release allows and a processing event serves (../shared/LEGAL.md section 2): a controlled
# vocabulary, so a use can be compared with the purposes a release lists (BIPA 15(b)(2), GDPR 9(2)(a)).
PURPOSES = ("tagging", "grouping", "search", "id_verification", "security", "marketing", "training")
# How identifiers were collected: since P.A. 103-0769 repeats by the same method are one BIPA violation.
PROCESSING_METHODS = ("face-templates", "id-verification", "live-capture")
ROLES = ("uploader", "tagged", "other")
DEFAULT_ROLE = "tagged"
# Who signed a release: the subject, or their legally authorized representative (BIPA 15(b)(3)).
SIGNER_ROLES = ("subject", "parent", "guardian", "legal_rep", "union_rep", "estate")
# What the written notice told the person (15(b)(1)-(2) need collection, purpose and term).
NOTICE_ELEMENTS = ("collection", "purpose", "term", "retention_policy", "recipients", "withdrawal")
# Input names accepted for a stored column: files and flags say `residence`, stored as `jurisdictions`.
ALIASES = {"residence": "jurisdictions"}
# A stored column's name in import and export files, where it differs (the same as the flag's name).
FILE_NAMES = {"jurisdictions": "residence"}
# Old file column names still read for one release, with a warning: old name -> current name.
RENAMED = {"jurisdictions": "residence"}

# The columns a file or API call may provide, in export order.
COLUMNS: dict[str, tuple[str, ...]] = {
    "subjects": ("subject_id", "display_name", "jurisdictions", "last_interaction_at",
                 "purpose_satisfied_at", "birth_date", "deceased_at", "employment_cba"),
    "consents": ("consent_id", "subject_id", "scope", "purpose", "granted_at", "expires_at",
                 "term", "revoked_at", "method", "notice_version", "evidence_uri",
                 "evidence_sha256", "signer_role", "notice_elements", "purposes", "explicit"),
    "links": ("subject_id", "photo_sha256", "photo_path", "box", "role", "time_s"),
    "processing": ("processed_at", "photo_sha256", "photo_path", "capture_region",
                   "processing_region", "method", "recipients", "purpose"),
}
SINGULAR = {"subjects": "subject", "consents": "consent", "links": "link",
            "processing": "processing event"}
KEY = {"subjects": "subject_id", "consents": "consent_id", "links": "link_id",
       "processing": "event_id"}
# Columns that must be present and non-empty in every row of an import file.
REQUIRED = {
    "subjects": ("subject_id",),
    "consents": ("consent_id", "subject_id", "scope", "granted_at", "method"),
    "links": ("subject_id",),
    "processing": ("processed_at",),
}
LINK_IDENTITY = ("subject_id", "photo_sha256", "photo_path", "box")
# A processing event is identified by when, which photo and how; regions and recipients can be edited.
PROCESSING_IDENTITY = ("processed_at", "photo_sha256", "photo_path", "method")
# Columns holding a JSON list, written `;`-separated in CSV.
LIST_COLUMNS = {"subjects": ("jurisdictions",), "consents": ("notice_elements", "purposes"),
                "processing": ("recipients",)}

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_JURISDICTION = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")
_SCOPE = re.compile(r"^[a-z0-9_.:/-]+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def file_columns(kind: str) -> tuple[str, ...]:
    """The columns of `kind` as import and export files name them, in export order."""
    return tuple(FILE_NAMES.get(c, c) for c in COLUMNS[kind])


def renamed_columns(columns: Iterable[str]) -> list[str]:
    """A warning for each old column name among `columns` (accepted for one more release)."""
    return [f"column {old} is now {RENAMED[old]} (as the --{RENAMED[old]} flag); {old} will not be read after "
            "the next release" for old in columns if old in RENAMED]


def canonical_json(value: Any) -> str:
    """One text per value: sorted keys, no spaces, UTF-8 kept (used for storage and hashing)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def identifier(value: Any, field: str) -> str | None:
    if _blank(value):
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InvalidValue(f"{field}: expected text, got {value!r}")
    text = _no_nul(str(value).strip(), field)
    if _CONTROL.search(text) or len(text) > 256:
        raise InvalidValue(f"{field}: {text[:40]!r} has control characters or is too long")
    return text


def _no_nul(text: str, field: str) -> str:
    # NUL ends a string in C tools and hides what follows from whoever reads the export
    if "\x00" in text:
        raise InvalidValue(f"{field}: contains a NUL byte")
    return text


def text(value: Any, field: str) -> str | None:
    if _blank(value):
        return None
    if not isinstance(value, str):
        raise InvalidValue(f"{field}: expected text, got {value!r}")
    return _no_nul(value.strip(), field)


def jurisdictions(value: Any, field: str = "jurisdictions") -> str:
    if _blank(value):
        items: list[Any] = []
    elif isinstance(value, str):
        items = [part for part in re.split(r"[;,]", value) if part.strip()]
    elif isinstance(value, list):
        items = value
    else:
        raise InvalidValue(f"{field}: expected codes like US-IL separated by ';', got {value!r}")
    codes: list[str] = []
    for item in items:
        code = str(item).strip().upper()
        if not _JURISDICTION.match(code):
            raise InvalidValue(f"{field}: {item!r} is not a code like US-IL or CA-QC")
        if code not in codes:
            codes.append(code)
    return canonical_json(codes)


def region(value: Any, field: str) -> str | None:
    """One ISO 3166-2 code (`US-IL`, `DE`); None when not known."""
    if _blank(value):
        return None
    code = str(value).strip().upper()
    if not _JURISDICTION.match(code):
        raise InvalidValue(f"{field}: {value!r} is not a code like US-IL or DE")
    return code


def _word_list(options: tuple[str, ...] | None) -> Callable[[Any, str], str | None]:
    """A `;`-separated list (or a JSON list) of words, stored as a JSON list in given order."""

    def check(value: Any, field: str) -> str | None:
        if _blank(value):
            return None  # not recorded (an explicit JSON [] records "none")
        if isinstance(value, str):
            items = [part.strip() for part in re.split(r"[;,]", value) if part.strip()]
        elif isinstance(value, list):
            items = [str(item).strip() for item in value if str(item).strip()]
        else:
            raise InvalidValue(f"{field}: expected words separated by ';', got {value!r}")
        words: list[str] = []
        for item in items:
            word = item.lower() if options else item
            if options and word not in options:
                raise InvalidValue(f"{field}: {item!r} is not one of {', '.join(options)}")
            if not options and (_CONTROL.search(word) or len(word) > 256):
                raise InvalidValue(f"{field}: {word[:40]!r} has control characters or is too long")
            if word not in words:
                words.append(word)
        return canonical_json(words)

    return check


def boolean(value: Any, field: str) -> str | None:
    """`true` / `false` (stored as that text), or None: not recorded."""
    if _blank(value):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    word = str(value).strip().lower()
    if word in ("true", "yes", "1"):
        return "true"
    if word in ("false", "no", "0"):
        return "false"
    raise InvalidValue(f"{field}: expected true or false, got {value!r}")


def employment_cba(value: Any, field: str = "employment_cba") -> str | None:
    """Covered by a collective bargaining agreement: `true`, `false`, or the agreement's id."""
    if _blank(value):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    word = identifier(value, field)
    assert word is not None
    lowered = word.lower()
    if lowered in ("true", "yes", "1"):
        return "true"
    if lowered in ("false", "no", "0"):
        return "false"
    return word


def sha256(value: Any, field: str) -> str | None:
    if _blank(value):
        return None
    digest = str(value).strip().lower()
    if not _SHA256.match(digest):
        raise InvalidValue(f"{field}: {str(value)[:80]!r} is not a SHA-256 (64 hex digits)")
    return digest


def seconds(value: Any, field: str) -> str | None:
    """A time in a video, in seconds from its start (0 or more, to the millisecond), stored as text."""
    if _blank(value):
        return None
    try:
        number = float(str(value).strip()) if not isinstance(value, bool) else None
    except ValueError:
        number = None
    if number is None or not 0 <= number < float("inf"):
        raise InvalidValue(f"{field}: {str(value)[:80]!r} is not a time in seconds (0 or more)")
    return f"{round(number, 3):.3f}".rstrip("0").rstrip(".")


def box(value: Any, field: str = "box") -> str | None:
    """`[x, y, w, h]` in upright pixels, from a list, JSON text, or "x y w h" / "x,y,w,h"."""
    if _blank(value):
        return None
    parts: Any = value
    if isinstance(value, str):
        raw = value.strip()
        try:
            parts = json.loads(raw) if raw.startswith("[") else re.split(r"[\s,]+", raw)
        except ValueError:
            raise InvalidValue(f"{field}: {raw!r} is not a JSON list") from None
    if not isinstance(parts, list) or len(parts) != 4:
        raise InvalidValue(f"{field}: {value!r} must be four integers x y w h")
    numbers = []
    for part in parts:
        if isinstance(part, bool) or not isinstance(part, (int, str)):
            raise InvalidValue(f"{field}: {value!r} must be four integers x y w h")
        try:
            numbers.append(int(part))
        except ValueError:
            raise InvalidValue(f"{field}: {value!r} must be four integers x y w h") from None
    x, y, w, h = numbers
    if w <= 0 or h <= 0:
        raise InvalidValue(f"{field}: width and height must be positive, got {w}x{h}")
    if x < 0 or y < 0:
        raise InvalidValue(f"{field}: x and y must not be negative, got ({x}, {y})")
    return canonical_json(numbers)


def photo_path(value: Any, field: str = "photo_path") -> str | None:
    """A path relative to the audited root, POSIX style: `a/b.jpg` (backslashes become `/`)."""
    if _blank(value):
        return None
    if not isinstance(value, str):
        raise InvalidValue(f"{field}: expected a relative path, got {value!r}")
    raw = _no_nul(value.strip(), field).replace("\\", "/")
    if raw.startswith("/") or re.match(r"^[A-Za-z]:/", raw) or "://" in raw:
        raise InvalidValue(f"{field}: {value!r} must be relative to the audited root")
    parts = [p for p in raw.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise InvalidValue(f"{field}: {value!r} must not contain '..'")
    if not parts:
        raise InvalidValue(f"{field}: {value!r} names no file")
    return "/".join(parts)


def scope(value: Any, field: str = "scope") -> str | None:
    if _blank(value):
        return None
    name = str(value).strip().lower()
    if not _SCOPE.match(name):
        raise InvalidValue(f"{field}: {value!r} must be one word such as face_geometry")
    return name


def _choice(options: tuple[str, ...]) -> Callable[[Any, str], str | None]:
    def check(value: Any, field: str) -> str | None:
        if _blank(value):
            return None
        choice = str(value).strip().lower()
        if choice not in options:
            raise InvalidValue(f"{field}: {value!r} is not one of {', '.join(options)}")
        return choice

    return check


def term(value: Any, field: str = "term") -> str | None:
    if _blank(value):
        return None
    if not isinstance(value, str):
        raise InvalidValue(f"{field}: expected an ISO 8601 duration such as P3Y, got {value!r}")
    parse_duration(value, field)
    return value.strip().upper()


NORMALIZE: dict[str, Callable[[Any, str], Any]] = {
    "subject_id": identifier,
    "consent_id": identifier,
    "display_name": text,
    "jurisdictions": jurisdictions,
    "last_interaction_at": normalize_datetime,
    "purpose_satisfied_at": normalize_datetime,
    "scope": scope,
    "granted_at": normalize_datetime,
    "expires_at": normalize_datetime,
    "term": term,
    "revoked_at": normalize_datetime,
    "method": _choice(METHODS),
    "notice_version": text,
    "evidence_uri": text,
    "evidence_sha256": sha256,
    "photo_sha256": sha256,
    "photo_path": photo_path,
    "box": box,
    "time_s": seconds,
    "role": _choice(ROLES),
    "birth_date": normalize_datetime,
    "deceased_at": normalize_datetime,
    "employment_cba": employment_cba,
    "signer_role": _choice(SIGNER_ROLES),
    "notice_elements": _word_list(NOTICE_ELEMENTS),
    "purposes": _word_list(PURPOSES),
    "explicit": boolean,
    "purpose": text,
    "processed_at": normalize_datetime,
    "capture_region": region,
    "processing_region": region,
    "recipients": _word_list(None),
}
# The same column name meaning something else in one kind: a processing `method` is how
# identifiers were collected (face-templates...), a release's `method` how it was signed; a
# processing `purpose` is one word of PURPOSES, a release's `purpose` its own wording.
NORMALIZE_IN_KIND: dict[tuple[str, str], Callable[[Any, str], Any]] = {
    ("processing", "method"): _choice(PROCESSING_METHODS),
    ("processing", "purpose"): _choice(PURPOSES),
}


def normalize(kind: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """Normalize the fields given; raise InvalidValue naming every bad field at once."""
    out: dict[str, Any] = {}
    problems: list[str] = []
    for name, value in values.items():
        name = ALIASES.get(name, name)
        if name not in COLUMNS[kind]:
            problems.append(f"unknown column {name!r} for {kind}")
            continue
        try:
            out[name] = NORMALIZE_IN_KIND.get((kind, name), NORMALIZE[name])(value, name)
        except InvalidValue as exc:
            problems.append(str(exc))
            continue
        if name in REQUIRED[kind] and out[name] is None:
            problems.append(f"{name} is required")
    if problems:
        raise InvalidValue("; ".join(problems))
    return out


def link_id(record: Mapping[str, Any]) -> str:
    """A link is identified by who, which photo and which box (in a video, at which time: links
    without a time keep the ids they had before time_s existed); its role can be edited."""
    identity = {name: record.get(name) for name in LINK_IDENTITY}
    if record.get("time_s") is not None:
        identity["time_s"] = record["time_s"]
    return "L" + hashlib.sha256(canonical_json(identity).encode()).hexdigest()[:24]


def event_id(record: Mapping[str, Any]) -> str:
    identity = {name: record.get(name) for name in PROCESSING_IDENTITY}
    return "P" + hashlib.sha256(canonical_json(identity).encode()).hexdigest()[:24]


def complete(kind: str, given: Mapping[str, Any], existing: Mapping[str, Any] | None) -> dict:
    """The full stored row: given fields win, fields not given keep the existing value."""
    row: dict[str, Any] = {name: None for name in COLUMNS[kind]}
    if kind == "subjects":
        row["jurisdictions"] = "[]"
    if existing:
        row.update({k: v for k, v in existing.items() if k in row})
    row.update(given)
    if kind == "links":
        row["role"] = row["role"] or DEFAULT_ROLE
        row = {"link_id": link_id(row), **row}
    if kind == "processing":
        row = {"event_id": event_id(row), **row}
    return row


def check(kind: str, row: Mapping[str, Any]) -> list[str]:
    """Rules that span fields; an empty list means the row may be stored."""
    problems = [f"{name} is required" for name in REQUIRED[kind] if row.get(name) is None]
    if kind == "consents" and row.get("granted_at"):
        granted = from_stored(row["granted_at"])
        expires, revoked = from_stored(row.get("expires_at")), from_stored(row.get("revoked_at"))
        if expires is not None and expires <= granted:
            problems.append(f"expires_at {row['expires_at']} is not after granted_at "
                            f"{row['granted_at']}")
        if revoked is not None and revoked < granted:
            problems.append(f"revoked_at {row['revoked_at']} is before granted_at "
                            f"{row['granted_at']}")
    if kind in ("links", "processing") and not (row.get("photo_sha256") or row.get("photo_path")):
        problems.append("one of photo_sha256 or photo_path is required")
    return problems


def normalize_photo_path(relpath: str) -> str | None:
    """The form link paths are stored in, so callers can match photos the same way."""
    return photo_path(relpath, "photo_path")
