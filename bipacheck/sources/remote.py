"""Bucket objects (s3://, gs://) through fsspec: one flat listing, bytes read straight into memory.

S3 listings are streamed page by page in key order (memory stays flat however large the bucket;
a manifest is merged into the stream); other stores list the prefix once with fsspec's find().
"""

from __future__ import annotations

import importlib.util
import posixpath
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

import fsspec
import fsspec.asyn

from ..errors import ConfigError, UnreadableFile
from .filters import ManifestKey, PathFilter
from ..metadata.sidecars import sidecar_kind
from .objects import Skipped, SourceObject, printable, with_sidecars

# protocol -> (fsspec implementation package, bipacheck extra that installs it)
BUCKET_PROTOCOLS = {"s3": ("s3fs", "s3"), "gs": ("gcsfs", "gcs"), "gcs": ("gcsfs", "gcs")}


def storage_options(endpoint_url: str | None) -> dict[str, Any]:
    # Credentials come from each library's usual environment/profile chain; only the endpoint
    # of an S3-compatible store (MinIO, Ceph...) or a GCS emulator is ours to pass.
    return {"endpoint_url": endpoint_url} if endpoint_url else {}


def open_filesystem(protocol: str, options: dict[str, Any]) -> fsspec.AbstractFileSystem:
    """The (instance-cached) fsspec filesystem; ConfigError naming the extra if it is missing."""
    package, extra = BUCKET_PROTOCOLS[protocol]
    if importlib.util.find_spec(package) is None:
        raise ConfigError(
            f"{protocol}:// sources need the {package} package (the [{extra}] extra): pip install {package}"
        )
    try:
        return fsspec.filesystem(protocol, **options)
    except ImportError as e:
        raise ConfigError(f"cannot load {package} for {protocol}:// sources: {e}") from None


def _error_message(exc: Exception) -> str:
    if isinstance(exc, FileNotFoundError):
        return "vanished since listing"
    if isinstance(exc, PermissionError):
        return "permission denied"
    return f"{type(exc).__name__}: {exc}"


@dataclass(frozen=True)
class BucketObject:
    """An object by protocol, storage options and path: pickles without sessions or sockets;
    workers get the filesystem back from fsspec's instance cache."""

    protocol: str
    path: str  # "bucket/key", as fsspec names it
    options: dict[str, Any] = field(default_factory=dict)

    def _fs(self) -> fsspec.AbstractFileSystem:
        return open_filesystem(self.protocol, self.options)

    def read(self) -> bytes:
        try:
            return self._fs().cat_file(self.path)
        # Network and service errors of any kind make this one object unreadable, not the audit.
        except Exception as e:  # noqa: BLE001
            raise UnreadableFile(_error_message(e)) from None

    def sibling(self, name: str) -> bytes | None:
        try:
            return self._fs().cat_file(posixpath.join(posixpath.dirname(self.path), name))
        except FileNotFoundError:
            return None
        except Exception as e:  # noqa: BLE001
            raise UnreadableFile(f"sidecar {name}: {_error_message(e)}") from None


def change_key(info: dict[str, Any]) -> str:
    """A cheap change detector from listing metadata alone (no extra request per object)."""
    size = info.get("size")
    if info.get("ETag"):  # s3
        return f"{str(info['ETag']).strip(chr(34))}:{size}"
    if info.get("generation"):  # gcs
        return f"{info['generation']}:{size}"
    if info.get("VersionId"):
        return f"{info['VersionId']}:{size}"
    mtime = info.get("LastModified") or info.get("updated") or info.get("mtime")
    return f"{size}:{mtime}"


def _listing_failure(exc: Exception) -> tuple[str, str]:
    if isinstance(exc, FileNotFoundError):
        return "not-found", "no such bucket or prefix"
    if isinstance(exc, PermissionError):
        return "permission-denied", f"permission denied: {exc}"
    return "unreadable", f"listing failed: {type(exc).__name__}: {exc}"


def modified_at(info: dict[str, Any]) -> datetime | None:
    """The object's last-modified time from listing metadata (S3 LastModified, GCS updated)."""
    value = info.get("LastModified") or info.get("updated") or info.get("mtime")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, timezone.utc)
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc) if value.tzinfo else None
    return None


def _object(protocol: str, name: str, relpath: str, info: dict[str, Any], options: dict[str, Any]) -> SourceObject:
    return SourceObject(printable(f"{protocol}://{name}"), printable(relpath), info.get("size"),
                        change_key(info), BucketObject(protocol, name, options), modified=modified_at(info))


_PAGE = 1000  # objects per hop from fsspec's event loop (S3 lists 1,000 keys per request)


async def _take(listing, count: int) -> list[dict[str, Any]]:
    page = []
    async for info in listing:  # breaking out leaves the generator open for the next page
        page.append(info)
        if len(page) >= count:
            break
    return page


def _streamed(fs, spec: str, root: str, protocol: str, options: dict[str, Any], filt: PathFilter,
              manifest: list[ManifestKey] | None) -> Iterator[SourceObject | Skipped]:
    """Objects under root in S3's key order (UTF-8 byte order, the order of their URLs), a page
    at a time. A manifest is merged into the listing as it streams (both are sorted), so only the
    manifest is held. Objects left out (by the filters or the manifest) that are sidecars are
    passed on as hidden entries for the sidecar stamper."""
    bucket, _, key = root.partition("/")
    listing = fs._iterdir(bucket, delimiter="", prefix=f"{key}/" if key else "")
    wanted = None if manifest is None else iter(sorted(manifest, key=lambda k: k.key))
    pending = None if wanted is None else next(wanted, None)
    listed = 0

    def unlisted(below: str | None) -> Iterator[Skipped]:
        """Manifest keys that sort before `below` (None: all that remain) and were not listed."""
        nonlocal pending
        while pending is not None and (below is None or pending.key < below):
            url = printable(f"{protocol}://{root}/{pending.key}")
            if pending.invalid:
                yield Skipped(url, "invalid-key", pending.invalid)
            elif filt.accepts(printable(pending.key)):
                yield Skipped(url, "not-found", "listed in the manifest but not found")
            pending = next(wanted, None)

    try:
        while page := fsspec.asyn.sync(fs.loop, _take, listing, _PAGE):
            for info in page:
                name = info["name"]
                if info.get("type", "file") != "file" or name.endswith("/"):
                    continue
                listed += 1
                relpath = name[len(root) + 1:]
                chosen = filt.accepts(printable(relpath))
                if wanted is not None:
                    yield from unlisted(relpath)
                    chosen = chosen and pending is not None and pending.key == relpath and not pending.invalid
                    if chosen:
                        pending = next(wanted, None)
                if chosen:
                    yield _object(protocol, name, relpath, info, options)
                elif sidecar_kind(relpath):  # everything else left out is dropped unbuilt
                    yield replace(_object(protocol, name, relpath, info, options), hidden=True)
        if wanted is not None:
            yield from unlisted(None)
        elif not listed:  # no prefix of that name: one object, an empty prefix, or nothing at all
            if key and fs.isfile(root):
                relpath = posixpath.basename(root)
                if filt.accepts(printable(relpath)):
                    yield _object(protocol, root, relpath, fs.info(root), options)
            elif not fs.exists(root):
                raise FileNotFoundError(root)
    except Exception as e:  # noqa: BLE001 - a listing failure skips (and protects) this spec, not the audit
        yield Skipped(printable(spec), *_listing_failure(e))
    finally:
        try:
            fsspec.asyn.sync(fs.loop, listing.aclose)
        except Exception:  # noqa: BLE001 - the listing is over either way
            pass


def iter_bucket(spec: str, protocol: str, options: dict[str, Any], *, filt: PathFilter,
                manifest: list[ManifestKey] | None) -> Iterator[SourceObject | Skipped]:
    """Objects under s3://bucket/prefix (or one object), listed in a single flat pass."""
    fs = open_filesystem(protocol, options)
    root = fs._strip_protocol(spec).rstrip("/")
    # The filesystem instance is shared and caches listings: a second audit must see changes.
    fs.invalidate_cache()
    if hasattr(fs, "_iterdir") and protocol == "s3":
        yield from _streamed(fs, spec, root, protocol, options, filt, manifest)
        return
    try:
        found = fs.find(root, detail=True)
        if not found and not fs.exists(root):
            raise FileNotFoundError(root)
    except Exception as e:  # noqa: BLE001 - any listing failure skips this spec, not the audit
        yield Skipped(printable(spec), *_listing_failure(e))
        return

    by_relpath: dict[str, tuple[str, dict[str, Any]]] = {}
    for name, info in found.items():
        if info.get("type", "file") != "file" or name.endswith("/"):
            continue  # folder placeholders, not objects
        relpath = name[len(root) + 1:] if name.startswith(root + "/") else posixpath.basename(name)
        by_relpath[relpath] = (name, info)

    def make(relpath: str) -> SourceObject:
        name, info = by_relpath[relpath]
        obj = _object(protocol, name, relpath, info, options)
        folder = posixpath.dirname(relpath)

        def sibling_key(sidecar: str) -> str | None:  # the whole prefix is listed, filters or not
            found = by_relpath.get(posixpath.join(folder, sidecar))
            return None if found is None else change_key(found[1])

        return with_sidecars(obj, sibling_key)

    if manifest is None:
        for relpath in sorted(by_relpath, key=printable):
            if filt.accepts(printable(relpath)):
                yield make(relpath)
        return
    for mk in manifest:
        url = printable(f"{protocol}://{root}/{mk.key}")
        if mk.invalid:
            yield Skipped(url, "invalid-key", mk.invalid)
        elif not filt.accepts(printable(mk.key)):
            continue
        elif mk.key in by_relpath:
            yield make(mk.key)
        else:
            yield Skipped(url, "not-found", "listed in the manifest but not found")
