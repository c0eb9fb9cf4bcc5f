"""Report names: each object's path relative to the audited root, and the root, recorded once.

A report names a photo by where it lies below the folder (or bucket prefix) that was audited, so
the absolute layout of the auditor's machine appears once, in the report's `run.root`, and never
in every finding. All names are printable (bipacheck.names); `locate` joins a root and a name
back into the URL `read_url` reads.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterable, Sequence

from ..names import printable, unprintable


def report_root(specs: Sequence[str], urls: Iterable[str]) -> str | None:
    """The deepest folder or bucket prefix holding every source (printable form): a folder or prefix
    source is its own root, a single-file source (one whose URL was listed as is) its folder. None
    when the sources share no root (local paths and buckets, or two buckets): names are then URLs."""
    listed = set(urls)
    roots = []
    for spec in specs:
        shown = printable(os.fsdecode(spec))
        trimmed = shown.rstrip("/") or shown
        roots.append(posixpath.dirname(trimmed) if trimmed in listed or shown in listed else trimmed)
    if not roots:
        return None
    parts = [root.split("/") for root in roots]
    common: list[str] = []
    for segments in zip(*parts):
        if len(set(segments)) != 1:
            break
        common.append(segments[0])
    root = "/".join(common)
    if any("://" in r for r in roots):
        return root if "://" in root and len(common) >= 3 else None  # at least scheme://bucket
    if root == "" and all(r.startswith("/") for r in roots):
        return "/"
    return root


def name_in(root: str | None, url: str) -> str:
    """`url` relative to `root` (itself when there is no common root, or it lies outside it)."""
    if root is None:
        return url
    if root == "":
        return url.removeprefix("./")
    prefix = root if root.endswith("/") else root + "/"
    return url[len(prefix):] if url.startswith(prefix) else url


def absolute_root(root: str | None) -> str | None:
    """The root as the report records it: a local folder made absolute (printable), a URL as is."""
    if root is None or "://" in root:
        return root
    return printable(os.fsdecode(os.path.abspath(os.fsencode(unprintable(root or ".")))))


def locate(root: str | None, name: str) -> str:
    """The URL of the object a report names `name` below `root` (run.root)."""
    if not root:
        return name
    return f"{root.rstrip('/')}/{name}" if root != "/" else f"/{name}"
