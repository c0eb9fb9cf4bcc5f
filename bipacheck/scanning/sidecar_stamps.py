"""Sidecar stamps: a cached photo goes stale when only a sidecar next to it changes.

Someone tagging a face in Lightroom rewrites `a.xmp`, not `a.jpg`; the photo's own change key
stays the same, so its cache entry also carries a stamp of the sidecars found next to it.

Local folders and buckets hand each object the change keys of its sidecars as they list it
(SourceObject.sidecars), so --include/--exclude/--manifest, which keep sidecars out of the
listing, cannot hide a sidecar-only edit, and the stamp costs no read at all. For sources that
cannot tell (git's index) the stamp is worked out from the listing: it is sorted by URL within
each source, so a photo's own sidecars (a.xmp, a.jpg.xmp, a.jpg.json...) are listed a few objects
before or after it: photos wait in a short queue until the listing has passed their last
candidate name, and are released in listing order. Folder-wide Picasa files (.picasa.ini,
picasa.ini) can sort far away in a large folder; when the queue is full they are read instead,
once per folder, and stamped by content from then on (by their listing change key otherwise).
The stamp is None ("unknown", always rescanned) when a candidate can no longer be told apart
from an absent file.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
from collections import OrderedDict, deque
from collections.abc import Iterable, Iterator

from ..errors import ImageError
from ..metadata import sidecar_paths
from ..metadata.sidecars import PICASA_NAMES, sidecar_kind

_ABSENT = ""
_PENDING = object()  # a queued entry whose stamp waits for the listing to move past its sidecars


class SidecarStamper:
    def __init__(self, max_waiting: int = 256, max_remembered: int = 50_000, max_folders: int = 4096):
        self.max_waiting = max_waiting
        self.max_remembered = max_remembered
        self.max_folders = max_folders
        self._queue: deque = deque()  # (entry, candidates or None, horizon)
        self._sidecars: OrderedDict[str, str] = OrderedDict()  # sidecar URL -> change key, listing order
        self._forgotten: str | None = None  # last URL dropped from _sidecars
        self._picasa: OrderedDict[str, str] = OrderedDict()  # Picasa URL -> content sha or _ABSENT
        self._cursor: str | None = None  # URL of the newest listed entry

    def stamped(self, entries: Iterable) -> Iterator[tuple[object, str | None]]:
        """(entry, stamp) for every entry, in the input order. Non-photos get the stamp ""."""
        for entry in entries:
            if self._cursor is not None and entry.url < self._cursor:
                # A new source: its own sorted listing starts; the previous one is complete.
                yield from self._release(everything=True)
                self._sidecars.clear()
                self._forgotten = None
            self._cursor = entry.url
            candidates, stamp = None, _PENDING
            if hasattr(entry, "read"):
                if sidecar_kind(entry.relpath):
                    self._remember(entry.url, entry.change_key)
                elif getattr(entry, "sidecars", None) is not None:
                    stamp = self._stamp_listed(entry)
                else:
                    candidates = _candidates(entry)
            self._queue.append((entry, candidates, candidates[-1][0] if candidates else None, stamp))
            yield from self._release(everything=False)
        yield from self._release(everything=True)

    def _release(self, everything: bool) -> Iterator[tuple[object, str | None]]:
        while self._queue:
            entry, candidates, horizon, stamp = self._queue[0]
            if stamp is not _PENDING:
                pass
            elif candidates is None:
                stamp = ""
            elif everything or horizon <= self._cursor:
                stamp = self._stamp(entry, candidates, all_listed=True)
            elif len(self._queue) > self.max_waiting:
                stamp = self._stamp(entry, candidates, all_listed=False)
            else:
                return
            self._queue.popleft()
            yield entry, stamp

    def _stamp(self, entry, candidates: list[tuple[str, str]], all_listed: bool) -> str | None:
        parts = []
        for url, name in candidates:
            picasa = name in PICASA_NAMES
            if picasa and url in self._picasa:  # read already: stamps of one folder stay alike
                value = self._picasa[url]
            elif url in self._sidecars:
                value = self._sidecars[url]
            elif all_listed or url <= self._cursor:
                if self._forgotten is not None and url <= self._forgotten:
                    return None  # listed long ago, or absent: cannot tell any more
                continue
            elif picasa:
                value = self._read_picasa(entry, url, name)
            else:
                return None
            if value is None:
                return None
            if value != _ABSENT:
                parts.append([name, value])
        return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:32] if parts else ""

    def _stamp_listed(self, entry) -> str | None:
        """The stamp from the sidecars the source saw next to `entry` (the value _stamp gives when
        it did not have to read a Picasa file)."""
        parts = [[name, key] for name, key in sorted(entry.sidecars)]
        return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:32] if parts else ""

    def _read_picasa(self, entry, url: str, name: str) -> str | None:
        """Content hash of a folder's Picasa file (_ABSENT if none), read once per run."""
        if url in self._picasa:
            return self._picasa[url]
        try:
            data = entry.sibling(name)
        except (ImageError, ValueError, OSError):
            return None
        value = _ABSENT if data is None else hashlib.sha256(data).hexdigest()
        self._picasa[url] = value
        if len(self._picasa) > self.max_folders:
            self._picasa.popitem(last=False)
        return value

    def _remember(self, url: str, change_key: str) -> None:
        self._sidecars[url] = change_key
        if len(self._sidecars) > self.max_remembered:
            self._forgotten, _ = self._sidecars.popitem(last=False)


def _folder_url(entry) -> str:
    name = posixpath.basename(entry.relpath)
    return entry.url[: len(entry.url) - len(name)] if entry.url.endswith(name) \
        else entry.url.rsplit("/", 1)[0] + "/"


def _candidates(entry) -> list[tuple[str, str]]:
    """(URL, name) of every sidecar the scanner would look for next to `entry`, sorted by URL."""
    folder_url = _folder_url(entry)
    names = {posixpath.basename(p) for p in sidecar_paths(entry.relpath)}
    return sorted((folder_url + n, n) for n in names)
