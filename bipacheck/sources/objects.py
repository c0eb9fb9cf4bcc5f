"""What every source hands the scanner: listed objects that can be read later, and skipped inputs."""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

from ..metadata import sidecar_paths
from ..names import printable  # noqa: F401 - the sources' one way to name what they list


class Location(Protocol):
    """Where an object's bytes live. Implementations must pickle (workers receive them)."""

    def read(self) -> bytes: ...

    def sibling(self, name: str) -> bytes | None: ...


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
