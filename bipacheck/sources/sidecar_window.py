"""The sidecars of each object of a bucket listing streamed in key order, known before anything is read.

A photo's sidecar candidates (a.xmp, a.jpg.json, .picasa.ini, ...: metadata.sidecar_paths) lie in
its folder, so in a listing sorted by key its own ones come a few keys before or after it. Objects
wait in a short queue until the listing has passed their last candidate and are then handed on, in
listing order, with what the listing showed for each candidate that exists. Every listed key counts,
whether --include/--exclude/--manifest chose it or not.

Two cases cannot wait: the folder-wide `picasa.ini` sorts after every photo named a-o, so in a large
folder the queue fills first; and a candidate listed so long ago that it was forgotten (memory stays
bounded) cannot be told from an absent one. Those candidates are looked up with a narrow listing
request each (one per folder for `picasa.ini`: answers are remembered for the run).
"""

from __future__ import annotations

import os.path
import posixpath
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

from ..metadata import sidecar_paths
from ..metadata.sidecars import sidecar_kind

Item = TypeVar("Item")
Info = Any  # what the listing says about one key (opaque here)
# keys -> the info of those of them that exist (a narrow listing request or two)
LookUp = Callable[[list[str]], dict[str, Info]]

# how _resolve treats a candidate the listing has not reached: wait for it, look it up, know it is
# absent (the listing is complete), or give up (the listing failed)
_WAIT, _FORCE, _COMPLETE, _FAILED = "wait", "force", "complete", "failed"


def candidates(name: str) -> list[str]:
    """Every key a sidecar of the object `name` ("bucket/folder/a.jpg") could have, sorted."""
    return sorted(set(sidecar_paths(name)))  # they are named in the object's own folder


def look_up_groups(keys: list[str]) -> list[tuple[str, str, list[str]]]:
    """(folder, name prefix, keys) per listing request that finds `keys`: keys of one folder that share
    more than the folder (a.xmp, a.jpg.json...) go in one request; .picasa.ini and picasa.ini apart."""
    groups: list[tuple[str, str, list[str]]] = []
    for key in sorted(keys):
        folder, name = posixpath.split(key)
        if groups and groups[-1][0] == folder:
            shared = os.path.commonprefix([groups[-1][1], name])
            if shared:
                groups[-1] = (folder, shared, groups[-1][2] + [key])
                continue
        groups.append((folder, name, [key]))
    return groups


class SidecarWindow(Generic[Item]):
    """Feed it every listed key (`listed`) and the items to hand on (`add`), in listing order; it
    gives back (item, sidecars) in the same order, sidecars being {candidate key: info} of those
    that exist (None for items added without a name, or whose sidecars a failed listing left
    unknown)."""

    def __init__(self, look_up: LookUp, max_waiting: int = 256, max_remembered: int = 20_000,
                 max_looked_up: int = 4096):
        self.look_up = look_up
        self.max_waiting = max_waiting
        self.max_remembered = max_remembered
        self.max_looked_up = max_looked_up
        self._queue: deque[tuple[Item, list[str] | None]] = deque()
        self._listed: OrderedDict[str, Info] = OrderedDict()  # sidecar-like keys, listing order
        self._forgotten: str | None = None  # the last key dropped from _listed
        self._looked_up: OrderedDict[str, Info | None] = OrderedDict()
        self._cursor: str | None = None  # the last key listed

    def listed(self, key: str, info: Info) -> None:
        """The listing returned `key` (every key, in order, chosen or not)."""
        self._cursor = key
        if sidecar_kind(key):
            self._listed[key] = info
            if len(self._listed) > self.max_remembered:
                self._forgotten, _ = self._listed.popitem(last=False)

    def add(self, item: Item, key: str | None) -> Iterator[tuple[Item, dict[str, Info] | None]]:
        """Queue `item` (the object listed as `key`; None: an item with no sidecars, e.g. a skip);
        the items that are ready now."""
        self._queue.append((item, None if key is None else candidates(key)))
        return self._ready()

    def _ready(self) -> Iterator[tuple[Item, dict[str, Info] | None]]:
        while self._queue:
            item, wanted = self._queue[0]
            found = {} if wanted is None else self._resolve(wanted, _FORCE if len(self._queue) > self.max_waiting
                                                            else _WAIT)
            if found is None:
                return
            self._queue.popleft()
            yield item, (None if wanted is None else found)

    def finish(self, complete: bool) -> Iterator[tuple[Item, dict[str, Info] | None]]:
        """Hand on everything still waiting. complete: the listing reached its end, so a candidate
        not listed by then does not exist. Otherwise it failed: an item whose candidates are not
        all known comes back with None (nothing more is asked of the store)."""
        while self._queue:
            item, wanted = self._queue.popleft()
            yield item, None if wanted is None else self._resolve(wanted, _COMPLETE if complete else _FAILED)

    def _resolve(self, wanted: list[str], mode: str) -> dict[str, Info] | None:
        """{key: info} of the candidates that exist; None while one of them cannot be known (yet)."""
        found, unknown = {}, []
        for key in wanted:
            if key in self._listed:
                found[key] = self._listed[key]
            elif key in self._looked_up:
                if self._looked_up[key] is not None:
                    found[key] = self._looked_up[key]
            elif self._cursor is not None and key <= self._cursor:
                if self._forgotten is not None and key <= self._forgotten:
                    unknown.append(key)  # passed so long ago that absent and forgotten look alike
            elif mode == _WAIT:
                return None  # not reached yet: wait for the listing
            elif mode != _COMPLETE:  # _FORCE, or _FAILED (which returns None below)
                unknown.append(key)
        if unknown and mode == _FAILED:
            return None
        if unknown:
            answers = self.look_up(unknown)
            for key in unknown:
                self._looked_up[key] = answers.get(key)
                if answers.get(key) is not None:
                    found[key] = answers[key]
            while len(self._looked_up) > self.max_looked_up:
                self._looked_up.popitem(last=False)
        return found
