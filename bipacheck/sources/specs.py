"""The source schemes, by name: what the user typed (a path, file://, s3://, gs://) -> a lister of
objects, and a reader for one URL (the HTML report reads photos again for thumbnails). Adding a
scheme is its module (a lister and a reader) plus one entry in SCHEMES."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from urllib.parse import unquote_to_bytes, urlsplit

from ..errors import ConfigError
from .filters import ManifestKey, PathFilter, load_manifest
from .git_history import list_history
from .local import iter_local
from .objects import Skipped, SourceObject, printable
from .remote import BUCKET_PROTOCOLS, get, iter_bucket, open_filesystem, storage_options

Lister = Callable[[], Iterator[SourceObject | Skipped]]


@dataclass(frozen=True)
class Listing:
    """Which objects of each source to audit, the same for every scheme."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    manifest: str | None = None
    endpoint_url: str | None = None  # S3-compatible endpoint for s3://
    follow_symlinks: bool = False  # local links that lead outside the source's folder
    history: bool = False  # each source is a git repository: list every image blob of its history
    since: datetime | None = None  # with history: only blobs of commits since then
    rev_range: str | None = None  # with history: only blobs of the commits `git rev-list RANGE` names


def _local_path(spec: str) -> bytes:
    return os.fsencode(spec)


def _file_url_path(spec: str) -> bytes:
    parts = urlsplit(spec)
    if parts.netloc not in ("", "localhost"):
        raise ConfigError(f"{printable(spec)}: file:// URLs must name a local path (no host)")
    return unquote_to_bytes(parts.path)  # percent-escapes decode to raw bytes: non-UTF-8 names stay reachable


def _plan_local(path_of: Callable[[str], bytes]):
    def plan(spec: str, scheme: str, filt: PathFilter, manifest, endpoint_url, follow_symlinks) -> Lister:
        return partial(iter_local, path_of(spec), printable(spec), filt=filt, manifest=manifest,
                       follow_symlinks=follow_symlinks)
    return plan


def _plan_bucket(spec: str, scheme: str, filt: PathFilter, manifest, endpoint_url, follow_symlinks) -> Lister:
    options = storage_options(endpoint_url)
    open_filesystem(scheme, options)  # fail now, before any output, if the extra is missing
    return partial(iter_bucket, spec, scheme, options, filt=filt, manifest=manifest)


def _read_local(path_of: Callable[[str], bytes]):
    def read(spec: str, scheme: str, endpoint_url: str | None) -> bytes:
        with open(path_of(spec), "rb") as fh:
            return fh.read()
    return read


def _read_bucket(spec: str, scheme: str, endpoint_url: str | None) -> bytes:
    return get(open_filesystem(scheme, storage_options(endpoint_url)), scheme, spec.split("://", 1)[1])


@dataclass(frozen=True)
class Scheme:
    name: str  # "" for a plain local path
    plan: Callable[..., Lister]  # (spec, scheme, filt, manifest, endpoint_url, follow_symlinks) -> lister
    read: Callable[[str, str, str | None], bytes]  # (url, scheme, endpoint_url) -> bytes of one object


SCHEMES: dict[str, Scheme] = {s.name: s for s in [
    Scheme("", _plan_local(_local_path), _read_local(_local_path)),
    Scheme("file", _plan_local(_file_url_path), _read_local(_file_url_path)),
    *(Scheme(name, _plan_bucket, _read_bucket) for name in BUCKET_PROTOCOLS),
]}


def _scheme(spec: str) -> tuple[str, Scheme]:
    name, sep, _ = spec.partition("://")
    name = name.lower() if sep else ""
    if name not in SCHEMES:
        known = ", ".join(f"{n}://" for n in SCHEMES if n)
        raise ConfigError(f"unsupported source {printable(spec)!r}: use a local path or {known}")
    return name, SCHEMES[name]


def _plan(spec: str, *, filt: PathFilter, manifest: list[ManifestKey] | None,
          endpoint_url: str | None, follow_symlinks: bool) -> Lister:
    """Check one spec up front (bad scheme, missing extra) and return its lister."""
    name, scheme = _scheme(spec)
    return scheme.plan(spec, name, filt, manifest, endpoint_url, follow_symlinks)


def read_url(url: str, endpoint_url: str | None = None) -> bytes:
    """The bytes of one object named as a report names it (a local path or a bucket URL)."""
    name, scheme = _scheme(url)
    return scheme.read(url, name, endpoint_url)


def iter_sources(
    specs: Iterable[str | os.PathLike[str]],
    *,
    include: Iterable[str] = (),
    exclude: Iterable[str] = (),
    manifest: str | None = None,
    endpoint_url: str | None = None,
    follow_symlinks: bool = False,
) -> Iterator[SourceObject | Skipped]:
    """Every object under each spec, sorted by relpath within a spec; problems come as Skipped.

    Specs are local files or folders (recursive), file:// URLs, s3://bucket/prefix or
    gs://bucket/prefix. include/exclude are globs on relpath; a manifest lists the keys to
    audit, one per line relative to each spec. Nothing is filtered by file type: the scanner
    decides what is an image. Raises ConfigError at call time for an unusable spec or manifest.
    follow_symlinks: also follow local symbolic links that lead outside the spec's folder (skipped
    as `outside-root` otherwise; links that stay inside are always followed).
    """
    if isinstance(specs, (str, bytes, os.PathLike)):
        specs = [specs]
    filt = PathFilter(tuple(include), tuple(exclude))
    keys = load_manifest(manifest) if manifest is not None else None
    listers = [
        _plan(os.fsdecode(spec), filt=filt, manifest=keys, endpoint_url=endpoint_url,
              follow_symlinks=follow_symlinks)
        for spec in specs
    ]
    return (item for lister in listers for item in lister())


def list_sources(specs: Iterable[str | os.PathLike[str]], listing: Listing = Listing()) -> Iterator[SourceObject | Skipped]:
    """iter_sources with a Listing's settings; with listing.history, the blobs of each repository's
    history instead of its files (include/exclude apply to their paths)."""
    if listing.history:
        return _history(list(specs), listing)
    if listing.since is not None or listing.rev_range is not None:
        raise ConfigError("--since and --range limit --history: pass --history too")
    return iter_sources(specs, include=listing.include, exclude=listing.exclude, manifest=listing.manifest,
                        endpoint_url=listing.endpoint_url, follow_symlinks=listing.follow_symlinks)


def _history(specs: list, listing: Listing) -> Iterator[SourceObject | Skipped]:
    if listing.manifest is not None:
        raise ConfigError("--manifest lists files of a folder; it cannot select blobs of a history")
    filt = PathFilter(tuple(listing.include), tuple(listing.exclude))
    # every repository is checked (not a repository, a bad range or date) before anything is yielded
    listers = [list_history(os.fspath(spec), since=listing.since, rev_range=listing.rev_range) for spec in specs]
    for lister in listers:
        for item in lister:
            if not isinstance(item, SourceObject) or filt.accepts(item.relpath):
                yield item
