"""Bucket objects (s3://, gs://) through fsspec: one flat listing, bytes read straight into memory.

S3 listings are streamed page by page in key order (memory stays flat however large the bucket;
a manifest is merged into the stream); other stores list the prefix once with fsspec's find().
Each object leaves the listing knowing which sidecars lie next to it and in which version, so
reading costs one GET per object (the version the listing showed, or a refusal if it changed
since), and nothing is asked of the store for sidecars that do not exist (docs/buckets.md).
"""

from __future__ import annotations

import importlib.util
import posixpath
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import partial
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, UnreadableFile
from ..metadata.sidecars import sidecar_kind
from .filters import ManifestKey, PathFilter
from .objects import SPOOL_BLOCK, Skipped, SourceObject, printable, spooled
from .sidecar_window import SidecarWindow, candidates, look_up_groups

if TYPE_CHECKING:
    import fsspec

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
        import fsspec  # imported when a bucket is audited: 45 ms off every other start (the hook's)

        return fsspec.filesystem(protocol, **options)
    except ImportError as e:
        raise ConfigError(f"cannot load {package} for {protocol}:// sources: {e}") from None


def _sync(loop, coroutine_function, *args):
    """Run a coroutine on fsspec's event loop (fsspec is imported only for bucket audits)."""
    import fsspec.asyn

    return fsspec.asyn.sync(loop, coroutine_function, *args)


class ChangedSinceListing(Exception):
    """The store no longer holds the version of the object that the listing showed."""


def _error_message(exc: Exception) -> str:
    if isinstance(exc, ChangedSinceListing):
        return f"{exc}; audit again"
    if isinstance(exc, FileNotFoundError):
        return "vanished since listing"
    if isinstance(exc, PermissionError):
        return "permission denied"
    return f"{type(exc).__name__}: {exc}"


def version_of(info: dict[str, Any]) -> str | None:
    """Which version of an object the listing showed: its ETag (S3) or generation (GCS)."""
    value = info.get("ETag") or info.get("generation")
    return None if value is None else str(value)


async def _s3_get(fs, bucket: str, key: str, etag: str) -> bytes:
    try:
        response = await fs._call_s3("get_object", Bucket=bucket, Key=key, IfMatch=etag)
    except OSError as exc:
        cause = getattr(exc.__cause__, "response", None) or {}
        if cause.get("Error", {}).get("Code") == "PreconditionFailed":
            raise ChangedSinceListing("changed since listing (another version than the one listed)") from None
        raise
    try:
        return await response["Body"].read()
    finally:
        response["Body"].close()


def get(fs: fsspec.AbstractFileSystem, protocol: str, path: str, version: str | None = None) -> bytes:
    """The object's bytes in one request (no size probe first); with a version, that version only:
    ChangedSinceListing (S3 ETag) or FileNotFoundError (GCS generation) if the store has moved on."""
    if version is not None and protocol == "s3":
        bucket, key, _ = fs.split_path(path)
        return _sync(fs.loop, _s3_get, fs, bucket, key, version)
    if version is not None and protocol in ("gs", "gcs"):
        try:
            return fs.cat_file(path, generation=version)
        except FileNotFoundError:  # that generation is gone: deleted, or written again
            raise ChangedSinceListing("vanished or rewritten since listing") from None
    return fs.cat_file(path, max_concurrency=1) if protocol == "s3" else fs.cat_file(path)


def spool(fs: fsspec.AbstractFileSystem, protocol: str, path: str, version: str | None, out) -> None:
    """Copy the object to `out` in blocks; with a version, refuse another one (ChangedSinceListing)."""
    with fs.open(path, "rb", block_size=SPOOL_BLOCK, cache_type="none") as src:
        details = getattr(src, "details", None) or {}
        if version is not None and str(details.get("ETag") or details.get("generation") or version) != version:
            raise ChangedSinceListing("changed since listing (another version than the one listed)")
        while block := src.read(SPOOL_BLOCK):
            out.write(block)


class _RecentSidecars:
    """Sidecars this process read lately, by path and version: photos of a folder share its
    .picasa.ini (one GET per folder, not per photo), and a sidecar scanned as a listed object and
    then read with its photo is fetched once when both run in the same process."""

    def __init__(self, max_bytes: int = 64_000_000, max_items: int = 256):
        self.max_bytes, self.max_items = max_bytes, max_items
        self._items: OrderedDict[tuple, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: tuple) -> bytes | None:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
            return self._items.get(key)

    def put(self, key: tuple, data: bytes) -> None:
        if len(data) > self.max_bytes // 2:
            return
        with self._lock:
            if key in self._items:
                return
            self._items[key] = data
            self._bytes += len(data)
            while self._bytes > self.max_bytes or len(self._items) > self.max_items:
                _, dropped = self._items.popitem(last=False)
                self._bytes -= len(dropped)


_recent_sidecars = _RecentSidecars()


@dataclass(frozen=True)
class BucketObject:
    """An object by protocol, storage options and path: pickles without sessions or sockets;
    workers get the filesystem back from fsspec's instance cache. `version` and `sidecars` are
    what the listing showed: reads ask for that version, and a sidecar name the listing did not
    show next to the object is absent without a request."""

    protocol: str
    path: str  # "bucket/key", as fsspec names it
    options: dict[str, Any] = field(default_factory=dict)
    version: str | None = None  # ETag or generation; None: whatever the store holds now
    sidecars: tuple[tuple[str, str | None], ...] = ()  # (name, version) of the sidecars listed next to it

    def _fs(self) -> fsspec.AbstractFileSystem:
        return open_filesystem(self.protocol, self.options)

    def read(self) -> bytes:
        try:
            return self._get(self.path, self.version, remember=bool(sidecar_kind(self.path)))
        # Network and service errors of any kind make this one object unreadable, not the audit.
        except Exception as e:  # noqa: BLE001
            raise UnreadableFile(_error_message(e)) from None

    def consume(self, fn):
        """fn(stream) over the object spooled to a temporary file by ranged reads of SPOOL_BLOCK bytes
        (a large video is never held in memory whole); the version read must be the one listed."""
        def fill(tmp) -> None:
            try:
                spool(self._fs(), self.protocol, self.path, self.version, tmp)
            # Network and service errors of any kind make this one object unreadable, not the audit.
            except Exception as e:  # noqa: BLE001
                raise UnreadableFile(_error_message(e)) from None

        return spooled(fill, fn)

    def sibling(self, name: str) -> bytes | None:
        versions = dict(self.sidecars)
        if name not in versions:
            return None  # the listing showed no such object next to this one
        try:
            return self._get(posixpath.join(posixpath.dirname(self.path), name), versions[name], remember=True)
        except Exception as e:  # noqa: BLE001 - a warning on the photo; its next listing differs, so it is rescanned
            raise UnreadableFile(f"sidecar {name}: {_error_message(e)}") from None

    def _get(self, path: str, version: str | None, remember: bool) -> bytes:
        key = (self.protocol, repr(sorted(self.options.items())), path, version) if remember and version else None
        data = None if key is None else _recent_sidecars.get(key)
        if data is None:
            data = get(self._fs(), self.protocol, path, version)
            if key is not None:
                _recent_sidecars.put(key, data)
        return data


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


def _sidecar_facts(info: dict[str, Any]) -> tuple[str, str | None]:
    """What an object's photo needs to know of it as a sidecar: (change key, version)."""
    return change_key(info), version_of(info)


def _object(protocol: str, name: str, relpath: str, info: dict[str, Any], options: dict[str, Any],
            sidecars: dict[str, tuple[str, str | None]]) -> SourceObject:
    """The listed object `name` with the sidecars listed next to it ({key: _sidecar_facts})."""
    listed = sorted((posixpath.basename(key), facts) for key, facts in sidecars.items())
    location = BucketObject(protocol, name, options, version_of(info),
                            tuple((sidecar, version) for sidecar, (_, version) in listed))
    return SourceObject(printable(f"{protocol}://{name}"), printable(relpath), info.get("size"), change_key(info),
                        location, sidecars=tuple((sidecar, key) for sidecar, (key, _) in listed),
                        modified=modified_at(info))


def _look_up(fs, keys: list[str]) -> dict[str, tuple[str, str | None]]:
    """_sidecar_facts of those of `keys` that exist, with one narrow listing request per group of
    them (keys next to one photo share one)."""
    found: dict[str, tuple[str, str | None]] = {}
    try:
        for folder, prefix, group in look_up_groups(keys):
            listed = fs.find(folder, prefix=prefix, detail=True)
            found.update((key, _sidecar_facts(listed[key])) for key in group
                         if key in listed and listed[key].get("type", "file") == "file")
    finally:
        fs.invalidate_cache()  # a listing of part of a folder must never answer for all of it later
    return found


def _single(fs, protocol: str, name: str, info: dict[str, Any], options: dict[str, Any],
            filt: PathFilter) -> Iterator[SourceObject]:
    """A spec that names one object: its sidecars are looked up next to it."""
    relpath = posixpath.basename(name)
    if filt.accepts(printable(relpath)):
        yield _object(protocol, name, relpath, info, options, _look_up(fs, candidates(name)))


_PAGE = 1000  # objects per hop from fsspec's event loop (S3 lists 1,000 keys per request)
_SIDECARS_UNKNOWN = ("unreadable", "not read: the listing failed before the files next to it (sidecars) were listed")


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
    at a time, each with its sidecars (sidecar_window.py: every listed key counts, chosen by the
    filters and the manifest or not). A manifest is merged into the listing as it streams (both
    are sorted), so only the manifest is held."""
    bucket, _, key = root.partition("/")
    listing = fs._iterdir(bucket, delimiter="", prefix=f"{key}/" if key else "")
    wanted = None if manifest is None else iter(sorted(manifest, key=lambda k: k.key))
    pending = None if wanted is None else next(wanted, None)
    window: SidecarWindow = SidecarWindow(partial(_look_up, fs))
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

    def handed_on(released) -> Iterator[SourceObject | Skipped]:
        for item, sidecars in released:
            if isinstance(item, Skipped):
                yield item
            elif sidecars is None:
                yield Skipped(printable(f"{protocol}://{item[0]}"), *_SIDECARS_UNKNOWN)
            else:
                yield _object(protocol, *item, options, sidecars)

    failure = None
    try:
        while page := _sync(fs.loop, _take, listing, _PAGE):
            for info in page:
                name = info["name"]
                if info.get("type", "file") != "file" or name.endswith("/"):
                    continue
                listed += 1
                window.listed(name, _sidecar_facts(info))  # what is remembered of it: two short strings
                relpath = name[len(root) + 1:]
                chosen = filt.accepts(printable(relpath))
                if wanted is not None:
                    for skipped in unlisted(relpath):
                        yield from handed_on(window.add(skipped, None))
                    chosen = chosen and pending is not None and pending.key == relpath and not pending.invalid
                    if chosen:
                        pending = next(wanted, None)
                if chosen:
                    yield from handed_on(window.add((name, relpath, info), name))
        if wanted is not None:
            for skipped in unlisted(None):
                yield from handed_on(window.add(skipped, None))
        elif not listed:  # no prefix of that name: one object, an empty prefix, or nothing at all
            info = fs.info(root) if key else {}  # FileNotFoundError: nothing at all
            if info.get("type") == "file":
                yield from _single(fs, protocol, root, info, options, filt)
            elif not fs.exists(root):
                raise FileNotFoundError(root)
    except Exception as e:  # noqa: BLE001 - a listing failure skips (and protects) this spec, not the audit
        failure = e
    finally:
        try:
            _sync(fs.loop, listing.aclose)
        except Exception:  # noqa: BLE001 - the listing is over either way
            pass
    yield from handed_on(window.finish(complete=failure is None))
    if failure is not None:
        yield Skipped(printable(spec), *_listing_failure(failure))


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

    by_name = {name: info for name, info in found.items()
               if info.get("type", "file") == "file" and not name.endswith("/")}  # not folder placeholders
    if root in by_name:  # the spec names one object
        yield from _single(fs, protocol, root, by_name[root], options, filt)
        return
    by_relpath = {name[len(root) + 1:]: name for name in by_name}

    def make(relpath: str) -> SourceObject:
        name = by_relpath[relpath]  # the whole prefix is listed: sidecars are found, filters or not
        sidecars = {key: _sidecar_facts(by_name[key]) for key in candidates(name) if key in by_name}
        return _object(protocol, name, relpath, by_name[name], options, sidecars)

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
