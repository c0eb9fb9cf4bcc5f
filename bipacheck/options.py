"""One set of options for `audit`, `scan` and `check`, built the same way from command-line flags,
the config file and Python keyword arguments.

Every option is a field of `Options`; its metadata says which commands take it, how a string (from
a flag, a TOML file or a keyword) becomes a value, and its help text. The CLI generates its flags
from these fields, the config file accepts exactly these keys, and `bipacheck.audit()` /
`bipacheck.scan()` / `bipacheck.check()` accept exactly these keywords, so the three cannot drift.
Precedence, identical everywhere: given flag or keyword > config file > default.

The config file is `[tool.bipacheck]` in pyproject.toml or the top level of `.bipacheck.toml`. Its
keys are exactly these option names (with `_` or `-`). Paths in a config file (ledger, baseline,
...) are relative to the file's own folder, so the hook behaves the same whichever folder
pre-commit runs it from.
"""

from __future__ import annotations

import dataclasses
import inspect
import os
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from .detect import detectors
from .errors import BipacheckError, ConfigError
from .ledger.dates import parse_datetime
from .outputs import REPORT_MODE
from .policy import attestation, profiles
from .report.formats import FORMATS as REPORT_FORMATS
from .scanning.cache import default_cache_path
from .scanning.engine import DetectorConfig, Execution, default_workers
from .scanning.scan import ScanSettings
from .sources import Listing

COMMANDS = ("audit", "scan", "check")
ALL = frozenset(COMMANDS)
POLICY = frozenset({"audit", "check"})
LISTING = frozenset({"audit", "scan"})
FAIL_ON = ("violation", "review", "info", "never")
# scan and check write these; audit writes every report format (bipacheck.report.formats). First = default.
FORMATS = {"audit": ("table",), "scan": ("table", "json"), "check": ("text", "json", "sarif")}


# -- parsers: any value a flag, a TOML file or a keyword may give -> the typed value -----------------

def _text(value: Any, name: str) -> str:
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str):
        raise ConfigError(f"{name}: expected text, got {value!r}")
    return value


def _path(value: Any, name: str) -> str:
    text = _text(value, name)
    if not text:
        raise ConfigError(f"{name}: empty path")
    return text


def _typed(kind: str, **bounds: Any) -> Callable[[Callable], Callable]:
    """Mark a parser with the kind of value it takes, so the CLI can give its flag a typed click
    parameter (--help then says INTEGER, FLOAT or DATE, and click rejects a bad value early)."""
    def mark(parse: Callable) -> Callable:
        parse.value_type = (kind, bounds)
        return parse
    return mark


def _integer(low: int = 1) -> Callable[[Any, str], int]:
    @_typed("int", min=low)
    def parse(value: Any, name: str) -> int:
        try:
            number = value if isinstance(value, int) and not isinstance(value, bool) else int(str(value).strip())
        except ValueError:
            number = None
        if number is None or number < low:
            raise ConfigError(f"{name}: expected a whole number >= {low}, got {value!r}")
        return number
    return parse


@_typed("float", min=0, max=1, min_open=True, max_open=True)
def _fraction(value: Any, name: str) -> float:
    try:
        number = float(value) if not isinstance(value, bool) else None
    except (TypeError, ValueError):
        number = None
    if number is None or not 0 < number < 1:
        raise ConfigError(f"{name}: expected a number between 0 and 1 (exclusive), got {value!r}")
    return number


@_typed("float", min=0, min_open=True)
def _seconds(value: Any, name: str) -> float:
    try:
        number = float(value) if not isinstance(value, bool) else None
    except (TypeError, ValueError):
        number = None
    if number is None or not 0 < number < float("inf"):
        raise ConfigError(f"{name}: expected a positive number of seconds, got {value!r}")
    return number


def _flag(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "yes", "1", "on", "false", "no", "0", "off"}:
        return value.strip().lower() in {"true", "yes", "1", "on"}
    raise ConfigError(f"{name}: expected true or false, got {value!r}")


def _patterns(value: Any, name: str) -> tuple[str, ...]:
    # a single string is one pattern, never a sequence of one-character patterns
    if isinstance(value, (str, os.PathLike)):
        return (_text(value, name),)
    if isinstance(value, Iterable):
        return tuple(_text(v, name) for v in value)
    raise ConfigError(f"{name}: expected a pattern or a list of patterns, got {value!r}")


def _octal_mode(value: Any, name: str) -> int:
    """Text is octal digits ("640", "0o640"); a number is the mode itself (0o640 in TOML or Python)."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 0o777:
        return value
    text = str(value).strip().removeprefix("0o") if isinstance(value, str) else ""
    if not text or any(c not in "01234567" for c in text) or int(text, 8) > 0o777:
        raise ConfigError(f"{name}: expected permission bits in octal such as \"600\" or 0o640, got {value!r}")
    return int(text, 8)


@_typed("date")
def _date(value: Any, name: str) -> datetime:
    try:
        parsed = parse_datetime(value, name)
    except BipacheckError as exc:
        raise ConfigError(str(exc)) from None
    if parsed is None:
        raise ConfigError(f"{name}: empty date")
    return parsed


def _choice(*choices: str) -> Callable[[Any, str], str]:
    def parse(value: Any, name: str) -> str:
        if value not in choices:
            raise ConfigError(f"{name}: {value!r} is not one of {', '.join(choices)}")
        return value
    return parse


def _attestation(value: Any, name: str):
    # a config entry's label is "<file>: org": the file is where the statement came from
    source = name[: -len(": org")] if name.endswith(": org") else "the org keyword"
    return attestation.parse(value, source)


def _pack_settings(value: Any, name: str) -> dict:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{name}: expected a table (shared facts, and one table per pack id), got {value!r}")
    return {k: dict(v) if isinstance(v, Mapping) else v for k, v in value.items()}


def _detectors() -> tuple[str, ...]:
    return detectors.NAMES


def _profiles() -> tuple[str, ...]:
    return tuple(profiles.PROFILES)


# -- the options ------------------------------------------------------------------------------------

def option(default: Any, help: str, parse: Callable[[Any, str], Any], *, commands: frozenset = ALL,
           choices: Callable[[], tuple[str, ...]] | None = None, path: bool = False, flag: bool = False,
           multiple: bool = False, short: str | None = None, metavar: str | None = None,
           show_default: str | bool = True, cli: bool = True) -> Any:
    """A field of Options. help: one text, or one per command where the commands differ (format).
    path: relative paths in a config file are taken from the file's folder. cli=False: a table that
    only a config file or a keyword can give, no flag."""
    return field(default=default, metadata={
        "help": help, "parse": parse, "commands": commands, "choices": choices, "path": path,
        "flag": flag, "multiple": multiple, "short": short, "metavar": metavar, "show_default": show_default,
        "cli": cli})


@dataclass(frozen=True)
class Options:
    # what the findings mean (audit, check)
    ledger: str | None = option(
        None, "Consent ledger (SQLite, see `bipacheck ledger`). Without one, every face counts as having no "
              "written release.", _path, commands=POLICY, path=True, metavar="DB")
    processing: str = option(
        "face-templates", "What the operator does with uploads. face-templates (recognition, tag suggestions, "
                          "grouping, search) derives identifiers; face-detection-only and none make findings "
                          "informational.", lambda v, n: _choice(*_profiles())(v, n), commands=POLICY,
        choices=_profiles)
    as_of: datetime | None = option(
        None, "Evaluate releases and retention deadlines as of this ISO 8601 date (a bare date is 00:00 UTC; "
              "default: now).", _date, commands=POLICY, metavar="DATE", show_default=False)
    review_threshold: float | None = option(
        None, "Possible faces scoring between this and the threshold are flagged for human review (default: "
              "0.75 x threshold).", _fraction, commands=POLICY, show_default=False)
    fail_on: str = option(
        "violation", "Weakest finding severity that makes the exit code 1 (check: of a finding not in the "
                     "baseline).", _choice(*FAIL_ON), commands=POLICY, choices=lambda: FAIL_ON)
    baseline: str | None = option(
        None, "Accepted findings (see `bipacheck baseline`): matching findings are suppressed and do not fail "
              "the run; entries that match nothing are reported as stale.", _path, commands=POLICY, path=True,
        metavar="FILE")
    tag_map: str | None = option(
        None, "CSV (name,subject_id) or JSON mapping names in face tags to ledger subject ids; names are matched "
              "to subjects only through this map.", _path, commands=POLICY, path=True, metavar="FILE")
    show_names: bool = option(
        False, "Include the names found in face tags in the report (off: reports carry subject ids only).",
        _flag, commands=POLICY, flag=True)
    org: Any = option(
        None, "The operator's attestation: the [tool.bipacheck.org] table of the config file, or a dict with "
              "the same keys (entity, attested_by, attested_at, policy_url, policy_adopted_at, "
              "retention_schedule, sells_or_profits, security_standard, exemptions, processing_regions, "
              "processing_purposes, recipients, tag_software; see docs/law.md). Hashed into the report's "
              "run.attestation; a missing "
              "item is a review finding.", _attestation, commands=POLICY, cli=False, show_default=False)
    jurisdiction: tuple[str, ...] = option(
        (), "Evaluate only this jurisdiction pack (repeatable; `bipacheck packs` lists them). Default: bipa, "
            "plus every pack whose trigger the data meets (a processing time in its territory); faces whose "
            "regions are unknown are then review for it.", _patterns, commands=POLICY, multiple=True,
        metavar="PACK", show_default=False)
    packs_path: str | None = option(
        None, "A folder of extra jurisdiction packs (*.toml, the format of bipacheck/policy/packs); "
              "BIPACHECK_PACKS_PATH adds more (os.pathsep-separated).", _path, commands=POLICY, path=True,
        metavar="DIR")
    packs: Any = option(
        None, "Facts for the jurisdiction packs: the [tool.bipacheck.packs] table (shared facts such as "
              "establishments, then one table per pack id with its facts and [M] value overrides; `bipacheck "
              "packs` lists them), or a dict with the same shape.", _pack_settings, commands=POLICY, cli=False,
        show_default=False)
    evidence: str | None = option(
        None, "Open the signed document of each release a verdict rests on under this folder or bucket URL "
              "(s3://, gs://) and check its SHA-256: missing, altered or placeholder evidence is a finding "
              "(a violation where the law requires a writing); notice texts are read from ROOT/notices/ and "
              "hashed per notice_version. Where documents are looked for: docs/law.md.", _path,
        commands=POLICY, path=True, metavar="ROOT")
    ledger_head: str | None = option(
        None, "A file holding the ledger's head as quoted outside it (`bipacheck ledger head DB -o FILE`, kept under "
              "version control): the ledger must still hold that event, else events were cut from its end and "
              "nothing is audited (exit 2; --allow-broken-ledger audits anyway, recorded).", _path,
        commands=POLICY, path=True, metavar="FILE")
    allow_broken_ledger: bool = option(
        False, "Audit even when the ledger's hash chain is broken (`bipacheck ledger verify` names the edit); "
               "the report records the override. Without it a broken chain is a configuration error.",
        _flag, commands=POLICY, flag=True)
    # how faces are found (all commands)
    detector: str = option(
        "centerface", "Face detector (weights ship with the package): centerface (best recall), yunet (about 5x "
                      "faster, lower recall), cascade (YuNet proposes, CenterFace decides: faster, a little less "
                      "recall).",
        lambda v, n: _choice(*_detectors())(v, n), choices=_detectors)
    threshold: float | None = option(
        None, "Detector score threshold (default: the detector's recall-first value).", _fraction,
        show_default=False)
    min_face: int = option(
        24, "Smallest face reported, in original pixels (max of width and height). Large photos are decoded at "
            "reduced scale as far as this allows.", _integer(1))
    max_pixels: int = option(
        200_000_000, "Refuse images declaring more pixels than this (decompression-bomb guard).", _integer(1))
    max_frames: int = option(16, "Frames scanned per animated or multi-page image.", _integer(1))
    no_tags: bool = option(False, "Do not read face tags from metadata and sidecars.", _flag, flag=True)
    video_interval: float = option(
        1.0, "Seconds between a video's regular samples (videos: MP4, MOV/M4V, WebM, MKV, AVI, sniffed by "
             "content). Samples are at most half this apart, so a face on screen for longer than half of it is "
             "in at least one sample (docs/video.md).", _seconds, metavar="SECONDS")
    # which objects (audit, scan)
    include: tuple[str, ...] = option(
        (), "Only objects whose relative path matches this glob (repeatable).", _patterns, commands=LISTING,
        multiple=True, metavar="GLOB", show_default=False)
    exclude: tuple[str, ...] = option(
        (), "Leave out objects whose relative path matches this glob (repeatable).", _patterns, commands=LISTING,
        multiple=True, metavar="GLOB", show_default=False)
    manifest: str | None = option(
        None, "A text file listing the keys to audit, one per line, relative to each source.", _path,
        commands=LISTING, path=True, metavar="FILE")
    endpoint_url: str | None = option(
        None, "S3-compatible endpoint for s3:// sources.", _text, commands=LISTING, metavar="URL")
    history: bool = option(
        False, "Each source is a git repository: audit every image and video blob reachable from any branch or tag (the "
               "history, once per blob), not the work tree. Each finding names the commit that added the photo and "
               "whether HEAD still holds it: a photo only in history is still retained (15(a)).", _flag,
        commands=LISTING, flag=True)
    since: datetime | None = option(
        None, "With --history: only photos committed on or after this ISO 8601 date.", _date, commands=LISTING,
        metavar="DATE", show_default=False)
    range: str | None = option(
        None, "With --history: only photos of the commits this git revision range names (v1.0..main).", _text,
        commands=LISTING, metavar="A..B", show_default=False)
    follow_symlinks: bool = option(
        False, "Also follow symbolic links that lead outside the audited folder (check: the repository); "
               "without it they are skipped as outside-root. Links that stay inside are always followed.",
        _flag, flag=True)
    # how the work runs
    workers: int | None = option(
        None, "Worker processes, each loading the model once; with --dask local, dask workers.", _integer(1),
        show_default="number of CPU cores")
    dask: str | None = option(
        None, "Run the scans on a dask.distributed cluster: a scheduler address (tcp://host:8786) or 'local' "
              "for a local cluster of --workers processes. Needs the distributed package (the [dask] extra).", _text,
        commands=LISTING, metavar="ADDRESS")
    cache: str | None = option(
        None, "Scan cache (SQLite): unchanged objects are not scanned again, and an interrupted run resumes "
              "where it stopped. audit's default: <ledger>.cache.db when a ledger is given.", _path, path=True,
        metavar="FILE", show_default=False)
    no_cache: bool = option(False, "Neither read nor write a scan cache.", _flag, flag=True)
    full: bool = option(False, "Rescan every object even when the cache has it (the cache is refreshed).",
                        _flag, flag=True)
    quiet: bool = option(False, "No progress bar (shown on stderr only when it is a terminal anyway).", _flag,
                         flag=True, short="-q")
    # check only
    staged: bool = option(
        False, "Check the staged (git index) version of the files, not the working tree copies; with no FILES, "
               "every staged added or modified file.", _flag, commands=frozenset({"check"}), flag=True)
    # what is written
    format: str | None = option(
        None, {
            "audit": "Output format: table (a readable summary ending with the verdict), json (the legal team's "
                     "report, schema: `bipacheck schema`), sarif (SARIF 2.1.0 for CI), csv (one row per "
                     "finding), markdown (a summary for a pull-request comment or CI job summary), html (one "
                     "self-contained page with thumbnails, face boxes, filters and the person roll-up).",
            "scan": "Output format: table (faces per file) or json (the same, with every skip and its reason).",
            "check": "Output format: text (a short summary for the developer whose commit it is), json (the "
                     "audit report) or sarif (SARIF 2.1.0 for CI).",
        }, _text, show_default="table (check: text)")
    html_thumbnails: str = option(
        "embed", "html: embed small thumbnails read again from the photos, with faces without a release "
                 "blurred on screen until revealed (embed) or blurred in the pixels themselves (blurred), or "
                 "none for a report without pixels.", _choice("embed", "blurred", "none"),
        commands=frozenset({"audit"}), choices=lambda: ("embed", "blurred", "none"))
    output: str | None = option(
        None, "Write the report here (atomically) instead of standard output. An existing file is replaced "
              "only if it is a previous bipacheck report.", _path, path=True, short="-o", metavar="FILE")
    output_mode: int = option(
        REPORT_MODE, "Permission bits of the --output file, in octal (the umask does not apply). Default 600: "
                     "only its owner can read it, since reports list people's photos and may show their faces.",
        _octal_mode, metavar="MODE", show_default="600")

    # -- derived values (one place for each rule) -------------------------------------------------
    def format_for(self, command: str) -> str:
        return self.format or FORMATS[command][0]

    def worker_count(self) -> int:
        return self.workers or default_workers()

    def cache_path(self, command: str) -> str | None:
        """--cache, else (audit only) next to the ledger, never with --no-cache."""
        if self.no_cache:
            return None
        if self.cache:
            return self.cache
        return default_cache_path(self.ledger) if command == "audit" and self.ledger else None

    def scan_settings(self) -> ScanSettings:
        return ScanSettings(min_face=self.min_face, max_pixels=self.max_pixels, max_frames=self.max_frames,
                            read_tags=not self.no_tags, video_interval=self.video_interval)

    def detector_threshold(self) -> float:
        return self.threshold if self.threshold is not None else detectors.default_threshold(self.detector)

    def detector_config(self, threshold: float | None = None) -> DetectorConfig:
        """The detector to build (threshold: the score it keeps faces from; default --threshold or the
        detector's own)."""
        return DetectorConfig(self.detector, self.detector_threshold() if threshold is None else threshold)

    def listing(self) -> Listing:
        return Listing(self.include, self.exclude, self.manifest, self.endpoint_url, self.follow_symlinks,
                       self.history, self.since, self.range)

    def execution(self) -> Execution:
        return Execution(self.worker_count(), self.dask, self.full, progress=not self.quiet)


OPTIONS: dict[str, dataclasses.Field] = {f.name: f for f in dataclasses.fields(Options)}


def names_for(command: str) -> list[str]:
    return [name for name, f in OPTIONS.items() if command in f.metadata["commands"]]


def help_for(name: str, command: str) -> str:
    """The option's help text as `command` uses it."""
    text = OPTIONS[name].metadata["help"]
    return text[command] if isinstance(text, dict) else text


def parse_value(name: str, value: Any, *, base: Path | None = None, label: str | None = None) -> Any:
    """One option's value from a flag, a config entry (base: the config file's folder) or a keyword."""
    meta = OPTIONS[name].metadata
    parsed = meta["parse"](value, label or name)
    if meta["path"] and base is not None and parsed is not None and "://" not in parsed:  # URLs stay as given
        parsed = str((base / parsed).resolve())
    return parsed


def build(command: str, given: Mapping[str, Any] | None = None, *, config: str | os.PathLike | bool = True,
          start: Path | None = None) -> tuple[Options, Path | None]:
    """The options for `command`: `given` (flags or keywords; None means not given) over the config
    file over the defaults. config: True finds the nearest config file from `start` (default the
    current folder) up; a path reads that file; False reads none. Returns (options, config file used)."""
    if command not in COMMANDS:
        raise ConfigError(f"unknown command {command!r}")
    given = {k: v for k, v in (given or {}).items() if v is not None}
    allowed = set(names_for(command))
    unknown = set(given) - allowed
    if unknown:
        raise ConfigError(f"{command}: unknown option(s) {', '.join(sorted(unknown))}; known: "
                          f"{', '.join(sorted(allowed))}")
    if config is True:
        path, table = find_config(start)
    elif config is False or config is None:
        path, table = None, {}
    else:
        path, table = Path(config), read_config(Path(config))
    values: dict[str, Any] = {}
    for name in allowed:
        if name in given:
            values[name] = parse_value(name, given[name], label=flag_name(name))
        elif name in table:
            values[name] = parse_value(name, table[name], base=path.parent, label=f"{path}: {name}")
    opts = Options(**values)
    _check_format(opts, command)
    return opts, path


def flag_name(name: str) -> str:
    return f"--{name.replace('_', '-')}"


def _check_format(opts: Options, command: str) -> None:
    if opts.format is not None and opts.format not in formats_for(command):
        raise ConfigError(f"format {opts.format!r} is not one of {', '.join(formats_for(command))} for {command}")


def formats_for(command: str) -> tuple[str, ...]:
    return tuple(REPORT_FORMATS) if command == "audit" else FORMATS[command]


FIRST_ARGUMENT = {"audit": "sources", "scan": "paths", "check": "files"}
SUMMARY = {
    "audit": "Audit `sources` (folders, files, s3:// or gs:// prefixes; a str is one source) against the consent "
             "ledger and return the Report that `bipacheck audit` writes (`.exit_code`, `.write(path, format)`).",
    "scan": "Find faces in `paths` and return the ScanReport that `bipacheck scan` prints (`.as_dict()`, "
            "`.exit_code`, `.write(path, format)`).",
    "check": "Check `files` as the pre-commit hook does and return the Report it judges (`.exit_code` is the "
             "hook's exit code).",
}


def documented(command: str) -> Callable[[Callable], Callable]:
    """Decorator: document(func, command)."""
    return lambda func: document(func, command)


def document(func: Callable, command: str) -> Callable:
    """Give an API function the typed signature and keyword docs of `command`'s flags, for help()."""
    hints = {f.name: f.type for f in dataclasses.fields(Options)}
    first = inspect.Parameter(FIRST_ARGUMENT[command], inspect.Parameter.POSITIONAL_OR_KEYWORD,
                              annotation="str | os.PathLike | Iterable[str]",
                              **({"default": ()} if command == "check" else {}))
    params = [first] + [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=OPTIONS[name].default,
                          annotation=hints[name])
        for name in names_for(command)
    ] + [inspect.Parameter("config", inspect.Parameter.KEYWORD_ONLY, default=True,
                           annotation="str | os.PathLike | bool")]
    func.__signature__ = inspect.Signature(params)
    lines = [f"    {name} (default {OPTIONS[name].default!r}): {help_for(name, command)}"
             for name in names_for(command)]
    func.__doc__ = (
        f"{SUMMARY[command]}\n\nKeyword arguments are the flags of `bipacheck {command}` (same names, same "
        "meaning; strings are accepted where the flag takes them). Precedence: keyword > config file > "
        "default; config=True reads the nearest .bipacheck.toml or [tool.bipacheck], a path reads that file, "
        "False none. With output=..., the result is also written there.\n\n" + "\n".join(lines))
    return func


# -- the config file ---------------------------------------------------------------------------------

def find_config(start: Path | None = None) -> tuple[Path | None, dict]:
    """The nearest `.bipacheck.toml`, or pyproject.toml with a [tool.bipacheck] table, from `start` up."""
    start = (start or Path.cwd()).resolve()
    for folder in [start, *start.parents]:
        dotfile = folder / ".bipacheck.toml"
        if dotfile.is_file():
            return dotfile, read_config(dotfile)
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            section = _table(pyproject)
            if section is not None:
                return pyproject, _checked(pyproject, section)
    return None, {}


def read_config(path: Path) -> dict:
    """The settings in `path` (a .bipacheck.toml, or a pyproject.toml with a [tool.bipacheck] table)."""
    section = _table(path)
    if section is None:
        raise ConfigError(f"{path}: no [tool.bipacheck] table")
    return _checked(path, section)


def _table(path: Path) -> dict | None:
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    nested = data.get("tool", {}).get("bipacheck") if isinstance(data.get("tool"), dict) else None
    if path.name == "pyproject.toml":
        return nested
    return nested if nested is not None else data  # .bipacheck.toml may also use the pyproject layout


def _checked(path: Path, table: dict) -> dict:
    settings = {key.replace("-", "_"): value for key, value in table.items()}
    unknown = set(settings) - set(OPTIONS)
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s) {', '.join(sorted(unknown))}; known: "
                          f"{', '.join(sorted(OPTIONS))}")
    return settings
