"""Which listed paths to keep: include/exclude globs and manifests of keys."""

from __future__ import annotations

import fnmatch
import os
import posixpath
import re
from dataclasses import dataclass

from ..errors import ConfigError
from .objects import printable


def _variants(pattern: str) -> list[str]:
    """fnmatch's '*' already crosses '/', so '**/' only needs a zero-folder alternative.

    'a/**/b.jpg' -> ['a/*/b.jpg', 'a/b.jpg'] so that 'a/b.jpg' matches as in gitignore/globstar.
    """
    head, sep, tail = pattern.partition("**/")
    if not sep:
        return [pattern]
    rests = _variants(tail)
    return [head + "*/" + r for r in rests] + [head + r for r in rests]


def _compile(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    if not patterns:
        return None
    regexes = [fnmatch.translate(v) for p in patterns for v in _variants(p.strip("/"))]
    return re.compile("|".join(f"(?:{r})" for r in regexes))


def _ancestors_and_self(relpath: str) -> list[str]:
    parts = relpath.split("/")
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


@dataclass(frozen=True)
class PathFilter:
    """Glob filter on relpaths (case-sensitive fnmatch; '**' spans any number of folders).

    A pattern also matches everything inside a matching folder, so `--exclude thumbs` drops
    thumbs/a.jpg, and an excluded folder is not even walked.
    """

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "_include_re", _compile(tuple(self.include)))
        object.__setattr__(self, "_exclude_re", _compile(tuple(self.exclude)))

    def _matches(self, regex: re.Pattern[str] | None, relpath: str) -> bool:
        return regex is not None and any(regex.match(p) for p in _ancestors_and_self(relpath))

    def prunes(self, folder_relpath: str) -> bool:
        """True if nothing under this folder can be kept (it matches an exclude pattern)."""
        return self._matches(self._exclude_re, folder_relpath)

    def accepts(self, relpath: str) -> bool:
        if self._include_re is not None and not self._matches(self._include_re, relpath):
            return False
        return not self._matches(self._exclude_re, relpath)


@dataclass(frozen=True)
class ManifestKey:
    """One manifest line: `key` is normalised (POSIX, relative); `invalid` says why it cannot be used."""

    key: str
    invalid: str | None = None


def load_manifest(path: str) -> list[ManifestKey]:
    """Keys from a text file, one per line; blank lines and # comments ignored. Sorted, deduplicated."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise ConfigError(f"manifest not found: {path}") from None
    except OSError as e:
        raise ConfigError(f"cannot read manifest {path}: {e.strerror or e}") from None
    keys: dict[str, ManifestKey] = {}
    for line in raw.splitlines():
        # fsdecode keeps undecodable bytes so keys still name the real local file.
        text = os.fsdecode(line).strip()
        if not text or text.startswith("#"):
            continue
        norm = posixpath.normpath(text.lstrip("/"))
        if norm == "." or norm == ".." or norm.startswith("../"):
            keys[text] = ManifestKey(text, "the key points outside the audited folder")
        else:
            keys.setdefault(norm, ManifestKey(norm))
    return sorted(keys.values(), key=lambda k: printable(k.key))
