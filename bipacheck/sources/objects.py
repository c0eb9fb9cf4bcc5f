"""What every source hands the scanner: listed objects that can be read later, and skipped inputs."""

from __future__ import annotations

import io
import posixpath
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

from ..errors import UnreadableFile
from ..metadata import sidecar_paths
from ..names import printable  # noqa: F401 - the sources' one way to name what they list


class Location(Protocol):
    """Where an object's bytes live. Implementations must pickle (workers receive them)."""

    def read(self) -> bytes: ...

    def sibling(self, name: str) -> bytes | None: ...

    # Optional: `consume(fn)` calls fn with the bytes as a seekable binary stream, never read into
    # memory whole (a local file in place, a remote object or git blob spooled to a temporary file).


SPOOL_BLOCK = 8 * 1024 * 1024  # bytes per read when spooling a remote object or blob to disk


def spooled(fill: Callable, fn: Callable):
    """fn(stream) over a temporary file that fill(file) wrote in blocks (removed afterwards)."""
    with tempfile.TemporaryFile(prefix="bipacheck-") as tmp:
        fill(tmp)
        tmp.seek(0)
        return fn(tmp)


def spool_command(argv: list, cwd, env: dict | None, fn: Callable):
    """fn(stream) over a command's standard output (e.g. `git cat-file blob`), spooled to a
    temporary file in blocks. A failing command is an UnreadableFile."""
    def fill(tmp) -> None:
        try:
            proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    stdin=subprocess.DEVNULL)
        except OSError as e:
            raise UnreadableFile(f"{os_name(argv)}: {e.strerror or e}") from None
        with proc:
            shutil.copyfileobj(proc.stdout, tmp, SPOOL_BLOCK)
            err = proc.stderr.read()
        if proc.returncode != 0:
            raise UnreadableFile(f"{os_name(argv)} failed: {printable(err.decode('utf-8', 'replace').strip())}")
    return spooled(fill, fn)


def os_name(argv: list) -> str:
    return " ".join(a.decode("utf-8", "replace") if isinstance(a, bytes) else str(a) for a in argv[:3])


@dataclass(frozen=True)
class SourceObject:
    """One listed file or bucket object. `url`/`relpath` are for display; `read()` fetches the bytes."""

    url: str
    relpath: str
    size: int | None
    change_key: str
    # Excluded from ==/hash: two listings of the same unchanged object compare equal.
    location: Location = field(repr=False, compare=False)
    # (name, change key) of the sidecar files that exist next to it, as the source saw them while
    # listing (whatever --include/--exclude/--manifest let through); None: the source cannot tell
    # cheaply, and sidecar stamps are worked out from the listing order instead.
    sidecars: tuple[tuple[str, str], ...] | None = field(default=None, repr=False, compare=False)
    # When the object was last written (file mtime, bucket LastModified), as the listing saw it: the
    # audit's documented fallback for when a photo was first processed. None: not known.
    modified: datetime | None = field(default=None, repr=False, compare=False)

    def read(self) -> bytes:
        """The whole object. Raises bipacheck.errors.UnreadableFile with the reason."""
        return self.location.read()

    def consume(self, fn: Callable):
        """fn(stream): the object's bytes as a seekable binary stream, not held in memory whole
        (a location that cannot stream is read whole). Raises UnreadableFile as read() does."""
        consume = getattr(self.location, "consume", None)
        return fn(io.BytesIO(self.read())) if consume is None else consume(fn)

    def provenance(self) -> dict | None:
        """Where the object came from beyond its url, for the report (git history: the commit that
        added it, its paths, whether HEAD still holds it); None for plain files and bucket objects."""
        return None

    def sibling(self, name: str) -> bytes | None:
        """Bytes of the file `name` in the same folder/prefix (e.g. an XMP sidecar), None if absent.

        Raises UnreadableFile if it exists but cannot be read.
        """
        if not name or "/" in name or name in (".", ".."):
            raise ValueError(f"sibling name must be a plain file name, got {name!r}")
        return self.location.sibling(name)


def with_sidecars(obj: SourceObject, change_key_of: Callable[[str], str | None]) -> SourceObject:
    """`obj` with the change keys of its sidecar candidates that exist (change_key_of(name) -> key or None)."""
    names = sorted({posixpath.basename(p) for p in sidecar_paths(obj.relpath)})
    return replace(obj, sidecars=tuple((n, key) for n in names if (key := change_key_of(n)) is not None))


@dataclass(frozen=True)
class Skipped:
    """An input that was found but not listed as an object. `reason` is a stable code."""

    url: str
    reason: str
    message: str
