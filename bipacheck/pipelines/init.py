"""`bipacheck init`: the operator's configuration and an empty consent ledger in one folder, so a
plain `bipacheck audit PHOTOS` there needs no other flag.

The configuration is a `.bipacheck.toml` with `ledger = ...` and the operator's attestation
(`[tool.bipacheck.org]`, policy/attestation.py). Facts nobody answered are written as commented
placeholders and left out of the attestation, so every audit reports them as `review` and names
the flag that states them (policy/facts.py). Nothing existing is replaced without `force`, and a
ledger is never replaced at all. The file is checked by parsing it back before it is written.
"""

from __future__ import annotations

import csv
import io
import json
import textwrap
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..ledger import Ledger
from ..ledger.dates import format_datetime
from ..ledger.fields import NOTICE_ELEMENTS, file_columns
from ..options import read_config
from ..policy.attestation import RECIPIENT_KEYS, parse as parse_attestation
from ..policy.facts import FACTS, Fact
from ..report.base import write_atomic

CONFIG = ".bipacheck.toml"
DEFAULT_LEDGER = "consent.db"
EXAMPLES = "ledger-examples"
ACTOR = "bipacheck init"
WRITES = {"ledger", "org"}  # the settings init writes; a file with others is edited by hand


@dataclass
class InitResult:
    config: Path
    ledger: Path
    ledger_created: bool
    stated: list[str]  # attestation keys the file states
    unanswered: list[Fact]  # asked facts left out: review findings until stated
    examples: list[Path] = field(default_factory=list)


def init(folder: str | Path, answers: Mapping[str, Any], *, ledger: str | None = None, examples: bool = False,
         force: bool = False, today: date | None = None) -> InitResult:
    """Write `folder`/.bipacheck.toml from `answers` (attestation key -> value; None: unanswered) and
    create the ledger it names (default consent.db). force: replace an existing .bipacheck.toml (and
    example files); the facts it states are kept unless answered again. An existing ledger is kept."""
    folder = Path(folder)
    today = today or datetime.now(timezone.utc).date()
    config = folder / CONFIG
    _refuse_shadowing(folder)
    previous = _previous(config, force)
    ledger_name = ledger or previous.get("ledger") or DEFAULT_LEDGER
    facts = {k: v for k, v in (previous.get("org") or {}).items() if k != "attested_at"}
    facts.update({k: v for k, v in answers.items() if v is not None})
    facts["attested_at"] = today
    statement = parse_attestation(facts, str(config))  # a bad region or date fails before anything is written
    text = render(ledger_name, facts, today)
    if parse_attestation(tomllib.loads(text)["tool"]["bipacheck"]["org"], str(config)).as_dict() != statement.as_dict():
        raise AssertionError("bipacheck init wrote a configuration that does not read back as the answers")
    example_files = {folder / EXAMPLES / name: body for name, body in example_csvs(today).items()} if examples else {}
    for path in example_files:
        if path.exists() and not force:
            raise ConfigError(f"{path} exists; --force replaces it")
    folder.mkdir(parents=True, exist_ok=True)
    ledger_path = folder / ledger_name
    created = _ensure_ledger(ledger_path)
    write_atomic(str(config), text)
    for path, body in example_files.items():
        path.parent.mkdir(exist_ok=True)
        write_atomic(str(path), body)
    return InitResult(config, ledger_path, created, sorted(statement.given - {"attested_at"}),
                      [f for f in FACTS if f.asked and f.key not in statement.given], list(example_files))


def _refuse_shadowing(folder: Path) -> None:
    pyproject = folder / "pyproject.toml"
    if pyproject.is_file() and not (folder / CONFIG).exists():
        try:
            configured = "bipacheck" in tomllib.loads(pyproject.read_text("utf-8")).get("tool", {})
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            configured = False
        if configured:  # a .bipacheck.toml beside it would silently win over it
            raise ConfigError(f"{pyproject} already configures bipacheck ([tool.bipacheck]); state the facts in its "
                              "[tool.bipacheck.org] table instead of writing a .bipacheck.toml that would hide it")


def _previous(config: Path, force: bool) -> dict:
    """The settings of an existing .bipacheck.toml that --force may replace ({} if none)."""
    if not config.exists():
        return {}
    if not force:
        raise ConfigError(f"{config} exists; --force replaces it (the facts it states are kept unless given again)")
    settings = read_config(config)
    other = sorted(set(settings) - WRITES)
    if other:
        raise ConfigError(f"{config} has settings init does not write ({', '.join(other)}); edit the file instead")
    return settings


def _ensure_ledger(path: Path) -> bool:
    """Create an empty ledger at `path`; an existing ledger is kept as it is (never replaced)."""
    if path.exists():
        Ledger.open(path, read_only=True).close()  # anything but a ledger is refused (NotALedger)
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    Ledger.create(path, actor=ACTOR).close()
    return True


# -- the configuration file -------------------------------------------------------------------------

def render(ledger: str, facts: Mapping[str, Any], today: date) -> str:
    """The .bipacheck.toml text: settings, the stated facts, each unanswered one as a commented placeholder."""
    lines = [
        f"# bipacheck settings for audits run in this folder or below it (written by `bipacheck init`, {today}).",
        "# Any flag of audit, scan or check can be a key of [tool.bipacheck] (same name); a flag overrides it.",
        "[tool.bipacheck]",
        f"ledger = {_value(ledger)}  # the consent ledger (`bipacheck ledger --help`)",
        "",
        "# The operator's attestation: facts no photo or ledger can show. Every report pins its SHA-256.",
        "# An unanswered fact stays a `review` finding until it is stated here.",
        "[tool.bipacheck.org]",
        f"attested_at = {_value(facts['attested_at'])}",
    ]
    stated = {k: v for k, v in facts.items() if k != "attested_at"}
    for fact in FACTS:
        if fact.key in stated:
            if fact.key != "recipients" or not stated["recipients"]:
                lines += [*_comment(fact.why), f"{fact.key} = {_value(stated[fact.key])}"]
        elif fact.asked:
            lines += ["", *_comment(f"UNANSWERED (review until stated): {fact.question} {fact.why}"),
                      f"# {fact.key} = ...    (or: {fact.command} --force)"]
    for key, value in stated.items():
        if not any(f.key == key for f in FACTS):  # facts init does not ask but a previous file stated
            lines.append(f"{key} = {_value(value)}")
    for recipient in stated.get("recipients") or ():
        entry = {"name": recipient} if isinstance(recipient, str) else recipient
        lines += ["", "[[tool.bipacheck.org.recipients]]"]
        lines += [f"{k} = {_value(v)}" for k, v in entry.items() if k in RECIPIENT_KEYS and v is not None]
    return "\n".join(lines) + "\n"


def _comment(text: str) -> list[str]:
    return textwrap.wrap(text, width=100, initial_indent="# ", subsequent_indent="# ")


def _value(value: Any) -> str:
    """One TOML value. A JSON string is a valid TOML basic string (every control character escaped)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int):
        return str(value)
    raise ConfigError(f"cannot write {value!r} into a TOML file")


# -- example ledger files -----------------------------------------------------------------------------

def example_csvs(today: date) -> dict[str, str]:
    """One example row per kind, every column the ledger reads, valid as written: imported in order, the
    release (granted yesterday, three years' term, every notice element) covers a face linked by path to
    `example.jpg` (relative to the audited folder) and processed in Illinois after it was granted."""
    yesterday = today - timedelta(days=1)  # granted and processed in the past, whatever the hour
    day = yesterday.isoformat()
    processed = format_datetime(datetime.combine(yesterday, datetime.min.time(), timezone.utc) + timedelta(hours=12))
    rows = {
        "subjects": {"subject_id": "example-1", "display_name": "Ana Example", "residence": "US-IL",
                     "last_interaction_at": day, "employment_cba": "false"},
        "consents": {"consent_id": "example-release-1", "subject_id": "example-1", "scope": "face_geometry",
                     "purpose": "photo tag suggestions", "granted_at": day, "term": "P3Y", "method": "electronic",
                     "notice_version": "notice-v1", "evidence_uri": "https://example.invalid/releases/1.pdf",
                     "signer_role": "subject", "notice_elements": ";".join(NOTICE_ELEMENTS),
                     "purposes": "tagging"},
        "links": {"subject_id": "example-1", "photo_path": "example.jpg", "role": "uploader"},
        "processing": {"processed_at": processed, "photo_path": "example.jpg", "capture_region": "US-IL",
                       "processing_region": "US-IL", "method": "face-templates", "purpose": "tagging"},
    }
    files = {}
    for number, (kind, row) in enumerate(rows.items(), start=1):
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=file_columns(kind), lineterminator="\n")
        writer.writeheader()
        writer.writerow(row)
        files[f"{number}-{kind}.csv"] = out.getvalue()
    return files
