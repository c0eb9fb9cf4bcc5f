"""The config file: `[tool.bipacheck]` in pyproject.toml or the top level of `.bipacheck.toml`.

Its keys are exactly the option names of bipacheck.options (the same words as the flags, with `_`
or `-`), so a setting means the same thing in a file, on the command line and in Python. Paths in
a config file (ledger, baseline, ...) are relative to the file's own folder, so the hook behaves
the same whichever folder pre-commit runs it from.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from .errors import ConfigError


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
    from .options import OPTIONS

    settings = {key.replace("-", "_"): value for key, value in table.items()}
    unknown = set(settings) - set(OPTIONS)
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s) {', '.join(sorted(unknown))}; known: "
                          f"{', '.join(sorted(OPTIONS))}")
    return settings
