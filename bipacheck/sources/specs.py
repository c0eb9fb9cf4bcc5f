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

from ..errors import ConfigError, NothingListed
from ..metadata.sidecars import sidecar_kind
from ..names import unprintable
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
    """The bytes of one object named as a report names it (a local path or a bucket URL, printable:
    escaped names are read by their exact bytes)."""
    name, scheme = _scheme(url)
    return scheme.read(unprintable(url), name, endpoint_url)


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
    listers = _listers(specs, include=include, exclude=exclude, manifest=manifest, endpoint_url=endpoint_url,
                       follow_symlinks=follow_symlinks)
    return (item for _, lister in listers for item in lister())


def _listers(specs, *, include=(), exclude=(), manifest=None, endpoint_url=None,
             follow_symlinks=False) -> list[tuple[str, Lister]]:
    """(spec, lister) for each spec, every spec checked up front."""
    if isinstance(specs, (str, bytes, os.PathLike)):
        specs = [specs]
    filt = PathFilter(tuple(include), tuple(exclude))
    keys = load_manifest(manifest) if manifest is not None else None
    return [(os.fsdecode(spec), _plan(os.fsdecode(spec), filt=filt, manifest=keys, endpoint_url=endpoint_url,
                                      follow_symlinks=follow_symlinks))
            for spec in specs]


def list_sources(specs: Iterable[str | os.PathLike[str]], listing: Listing = Listing(), *,
                 verb: str | None = None, photos_only: bool = True) -> Iterator[SourceObject | Skipped]:
    """iter_sources with a Listing's settings; with listing.history, the blobs of each repository's
    history instead of its files (include/exclude apply to their paths).

    verb ("audit", "scan", "check"): every source must list something to audit, else NothingListed
    (exit 2) names it and says why: a missing path, a missing or empty prefix, an unreachable store,
    or (photos_only) only sidecar files. Raised as soon as that source's listing ends (a missing local
    path before anything is read). `check` is given the files of a commit one by one, where a lone
    sidecar is something to check: photos_only=False."""
    if listing.history:
        listers = _history_listers(list(specs), listing)
    elif listing.since is not None or listing.rev_range is not None:
        raise ConfigError("--since and --range limit --history: pass --history too")
    else:
        listers = _listers(specs, include=listing.include, exclude=listing.exclude, manifest=listing.manifest,
                           endpoint_url=listing.endpoint_url, follow_symlinks=listing.follow_symlinks)
    if verb is not None:
        for spec, _ in listers:
            _must_exist(spec, verb)
        listers = [(spec, partial(_lists_something, spec, lister, verb, photos_only)) for spec, lister in listers]
    return (item for _, lister in listers for item in lister())


def _history_listers(specs: list, listing: Listing) -> list[tuple[str, Lister]]:
    if listing.manifest is not None:
        raise ConfigError("--manifest lists files of a folder; it cannot select blobs of a history")
    filt = PathFilter(tuple(listing.include), tuple(listing.exclude))
    # every repository is checked (not a repository, a bad range or date) before anything is listed
    listed = [(os.fspath(spec), list_history(os.fspath(spec), since=listing.since, rev_range=listing.rev_range))
              for spec in specs]

    def lister(items):
        return lambda: (i for i in items if not isinstance(i, SourceObject) or filt.accepts(i.relpath))

    return [(spec, lister(items)) for spec, items in listed]


def _must_exist(spec: str, verb: str) -> None:
    """A local path that does not exist fails before the audit starts (buckets say so as they list)."""
    name, _ = _scheme(spec)
    if name in ("", "file") and not os.path.exists(_spec_path(spec, name)):
        raise NothingListed(verb, [printable(spec)], "does not exist (no such file or folder)")


def _spec_path(spec: str, scheme: str) -> bytes:
    return _file_url_path(spec) if scheme == "file" else _local_path(spec)


def _lists_something(spec: str, lister: Lister, verb: str, photos_only: bool) -> Iterator[SourceObject | Skipped]:
    """The source's items, passed on; at the end NothingListed if none of them is something to audit
    (a photo candidate, or a file found that could not be read), naming why."""
    url, candidates, sidecars, failure = printable(spec), 0, 0, None
    for item in lister():
        if isinstance(item, Skipped) and item.url == url:
            failure = failure or item  # the source itself: missing, unreachable, not a folder
        elif isinstance(item, SourceObject) and sidecar_kind(item.relpath):
            sidecars += 1
        else:
            candidates += 1
        yield item
    if candidates or (sidecars and not photos_only and failure is None):
        return
    if failure is not None:
        why = f"could not be listed ({failure.reason}: {failure.message})"
    elif sidecars:
        why = f"holds only sidecar metadata files ({sidecars}: XMP, Takeout, Picasa), no photo"
    else:
        why = None
    raise NothingListed(verb, [url], why)
