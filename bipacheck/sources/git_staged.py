"""Staged files of a git repository (for pre-commit): what the commit will contain, not the working tree."""

from __future__ import annotations

import os
import posixpath
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

from ..errors import ConfigError, UnreadableFile
from .objects import Skipped, SourceObject, printable, spool_command

_GITLINK_MODE = b"160000"  # a submodule commit, not a file of this repository


def _git(cwd: bytes | str, *args: bytes | str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    # The environment is inherited on purpose: a pre-commit hook's GIT_INDEX_FILE may point
    # at a temporary index (`git commit <paths>`), and that index is what gets committed.
    try:
        return subprocess.run(["git", *args], cwd=cwd, input=stdin, capture_output=True)
    except FileNotFoundError:
        raise ConfigError("git is not installed or not on PATH") from None


def _checked(cwd: bytes | str, *args: bytes | str, stdin: bytes | None = None) -> bytes:
    proc = _git(cwd, *args, stdin=stdin)
    if proc.returncode != 0:
        message = os.fsdecode(proc.stderr).strip() or f"exit status {proc.returncode}"
        raise ConfigError(f"git {os.fsdecode(args[0])} failed: {printable(message)}")
    return proc.stdout


@dataclass(frozen=True)
class StagedBlob:
    """A blob of the object database by sha, plus its index path for finding sidecars."""

    toplevel: bytes
    sha: str
    path: bytes

    def read(self) -> bytes:
        try:
            proc = _git(self.toplevel, "cat-file", "blob", self.sha)
        except ConfigError as e:
            raise UnreadableFile(str(e)) from None
        if proc.returncode != 0:
            raise UnreadableFile(f"git cat-file failed: {printable(os.fsdecode(proc.stderr).strip())}")
        return proc.stdout

    def consume(self, fn):
        """fn(stream) over the blob spooled to a temporary file in blocks (a large video)."""
        return spool_command(["git", "cat-file", "blob", self.sha], self.toplevel, None, fn)

    def sibling(self, name: str) -> bytes | None:
        # The staged sidecar goes with the staged photo; ":0:<path>" is the stage-0 index entry
        # and, unlike ":<path>", cannot be misread when a path itself starts with "1:".
        path = posixpath.join(posixpath.dirname(self.path), os.fsencode(name))
        proc = _git(self.toplevel, "cat-file", "blob", b":0:" + path)
        return proc.stdout if proc.returncode == 0 else None


def _is_null(sha: bytes) -> bool:
    return not sha.strip(b"0")


def _changed_against_head(toplevel: bytes) -> list[tuple[bytes, bytes, bytes]]:
    """(path, mode, sha-or-None-if-unmerged) of index entries added or modified versus HEAD."""
    out = _checked(toplevel, "diff-index", "--cached", "-z", "--no-renames", "--no-abbrev", "HEAD")
    tokens = out.split(b"\0")
    entries = []
    # Raw -z format: ":<old mode> <new mode> <old sha> <new sha> <status>\0<path>\0"
    for meta, path in zip(tokens[0::2], tokens[1::2]):
        _, new_mode, _, new_sha, status = meta.lstrip(b":").split(b" ")
        if status.startswith(b"D"):
            continue
        entries.append((path, new_mode, None if status.startswith(b"U") else new_sha))
    return entries


def _all_index_entries(toplevel: bytes) -> list[tuple[bytes, bytes, bytes | None]]:
    """Every index entry, for a repository without commits yet (everything staged is new)."""
    out = _checked(toplevel, "ls-files", "--stage", "-z", "--full-name")
    entries: dict[bytes, tuple[bytes, bytes, bytes | None]] = {}
    for record in filter(None, out.split(b"\0")):
        meta, _, path = record.partition(b"\t")
        mode, sha, stage = meta.split(b" ")
        if stage != b"0":  # conflicted: stages 1-3 of the same path
            entries[path] = (path, mode, None)
        else:
            entries[path] = (path, mode, sha)
    return list(entries.values())


def _selected(path: bytes, wanted: list[bytes] | None) -> bool:
    return wanted is None or any(
        w == b"." or path == w or path.startswith(w.rstrip(b"/") + b"/") for w in wanted
    )


def _normalise_paths(paths: list[str], toplevel: bytes, prefix: bytes) -> list[bytes]:
    """Paths as git index paths: relative to the repo root, POSIX separators."""
    out = []
    for p in paths:
        raw = os.fsencode(p)
        if os.path.isabs(raw):
            raw = os.path.relpath(raw, toplevel)
        else:
            raw = prefix + raw
        out.append(posixpath.normpath(raw.replace(os.sep.encode(), b"/")))
    return out


def staged_objects(repo_dir: str | os.PathLike[str], paths: list[str] | None = None,
                   ) -> Iterator[SourceObject | Skipped]:
    """Staged blobs of files added or modified in the index versus HEAD (all entries before the
    first commit), optionally only those under `paths` (relative to repo_dir). Sorted by path.

    read() returns the staged bytes, never the working tree copy. Raises ConfigError at call time
    if repo_dir is not inside a git work tree.
    """
    repo = os.fsencode(os.fspath(repo_dir))
    probe = _git(repo, "rev-parse", "--show-toplevel", "--show-prefix")
    if probe.returncode != 0:
        raise ConfigError(f"{printable(os.fsdecode(repo))} is not inside a git work tree")
    toplevel, prefix = probe.stdout.split(b"\n")[:2]
    has_head = _git(toplevel, "rev-parse", "--verify", "--quiet", "HEAD^{commit}").returncode == 0
    entries = _changed_against_head(toplevel) if has_head else _all_index_entries(toplevel)
    wanted = None if paths is None else _normalise_paths(list(paths), toplevel, prefix)
    entries = [e for e in entries if e[1] != _GITLINK_MODE and _selected(e[0], wanted)]

    shas = sorted({sha for _, _, sha in entries if sha and not _is_null(sha)})
    sizes: dict[bytes, int] = {}
    if shas:
        out = _checked(toplevel, "cat-file", "--batch-check=%(objectname) %(objectsize)",
                       stdin=b"\n".join(shas) + b"\n")
        for line in out.splitlines():
            sha, _, size = line.partition(b" ")
            if size.isdigit():
                sizes[sha] = int(size)

    results: list[SourceObject | Skipped] = []
    for path, _, sha in entries:
        relpath = printable(os.fsdecode(path))
        if sha is None:
            results.append(Skipped(relpath, "unmerged", "unresolved merge conflict in the index"))
        else:
            text_sha = sha.decode("ascii")
            results.append(SourceObject(relpath, relpath, sizes.get(sha), text_sha,
                                        StagedBlob(toplevel, text_sha, path)))
    results.sort(key=lambda r: r.url)
    return iter(results)
