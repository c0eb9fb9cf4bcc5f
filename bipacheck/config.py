"""Settings from `[tool.bipacheck]` in pyproject.toml or from `.bipacheck.toml`; flags override.

Paths in a config file (ledger, baseline) are relative to the file's own folder, so the hook
behaves the same whichever folder pre-commit runs it from.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from .errors import ConfigError

KEYS = {"ledger", "processing", "detector", "threshold", "review_threshold", "min_face", "fail_on", "baseline",
        "max_pixels", "org"}  # org: the operator's attestation table, see bipacheck/policy/attestation.py
PATH_KEYS = {"ledger", "baseline"}


def find_config(start: Path | None = None) -> tuple[Path | None, dict]:
    """The nearest `.bipacheck.toml`, or pyproject.toml with a [tool.bipacheck] table, from `start` up."""
    start = (start or Path.cwd()).resolve()
    for folder in [start, *start.parents]:
        dotfile = folder / ".bipacheck.toml"
        if dotfile.is_file():
            return dotfile, _read(dotfile, table=None)
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            section = _read(pyproject, table="bipacheck")
            if section is not None:
                return pyproject, section
    return None, {}


def _read(path: Path, table: str | None) -> dict | None:
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    if table is not None:
        data = data.get("tool", {}).get(table)
        if data is None:
            return None
    if "tool" in data and table is None and "bipacheck" in data.get("tool", {}):
        data = data["tool"]["bipacheck"]  # .bipacheck.toml may also use the pyproject layout
    settings = {key.replace("-", "_"): value for key, value in data.items()}
    unknown = set(settings) - KEYS
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(KEYS))}")
    for key in PATH_KEYS & set(settings):
        settings[key] = str((path.parent / settings[key]).resolve())
    return settings


def merged(flags: dict, start: Path | None = None) -> dict:
    """Config-file settings overridden by the flags that were given (None means not given)."""
    _, settings = find_config(start)
    settings.update({k: v for k, v in flags.items() if v is not None})
    return settings
