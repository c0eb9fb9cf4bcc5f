"""iter_sources: turn what the user typed (paths, file://, s3://, gs://) into listed objects."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from urllib.parse import unquote_to_bytes, urlsplit

from ..errors import ConfigError
from .filters import ManifestKey, PathFilter, load_manifest
from .local import iter_local
from .objects import Skipped, SourceObject, printable
from .remote import BUCKET_PROTOCOLS, iter_bucket, open_filesystem, storage_options

Lister = Callable[[], Iterator[SourceObject | Skipped]]


def _plan(spec: str, *, filt: PathFilter, manifest: list[ManifestKey] | None,
          endpoint_url: str | None, follow_symlinks: bool) -> Lister:
    """Check one spec up front (bad scheme, missing extra) and return its lister."""
    scheme, sep, _ = spec.partition("://")
    local = partial(iter_local, filt=filt, manifest=manifest, follow_symlinks=follow_symlinks)
    if not sep:
        return partial(local, os.fsencode(spec), printable(spec))
    scheme = scheme.lower()
    if scheme == "file":
        parts = urlsplit(spec)
        if parts.netloc not in ("", "localhost"):
            raise ConfigError(f"{printable(spec)}: file:// URLs must name a local path (no host)")
        # Percent-escapes decode to raw bytes, so non-UTF-8 local names stay reachable.
        return partial(local, unquote_to_bytes(parts.path), printable(spec))
    if scheme in BUCKET_PROTOCOLS:
        options = storage_options(endpoint_url)
        open_filesystem(scheme, options)  # fail now, before any output, if the extra is missing
        return partial(iter_bucket, spec, scheme, options, filt=filt, manifest=manifest)
    raise ConfigError(
        f"unsupported source {printable(spec)!r}: use a local path, file://, s3:// or gs://"
    )


def iter_sources(
    specs: Iterable[str | os.PathLike[str]],
    *,
    include: Iterable[str] = (),
    exclude: Iterable[str] = (),
    manifest: str | None = None,
    endpoint_url: str | None = None,
    follow_symlinks: bool = False,
    hidden_sidecars: bool = False,
) -> Iterator[SourceObject | Skipped]:
    """Every object under each spec, sorted by relpath within a spec; problems come as Skipped.

    Specs are local files or folders (recursive), file:// URLs, s3://bucket/prefix or
    gs://bucket/prefix. include/exclude are globs on relpath; a manifest lists the keys to
    audit, one per line relative to each spec. Nothing is filtered by file type: the scanner
    decides what is an image. Raises ConfigError at call time for an unusable spec or manifest.
    follow_symlinks: also follow local symbolic links that lead outside the spec's folder (skipped
    as `outside-root` otherwise; links that stay inside are always followed).
    hidden_sidecars: also pass on the sidecars include/exclude dropped, marked `hidden`, where a
    streamed listing cannot record them with their photo (what sidecar stamps need).
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
    items = (item for lister in listers for item in lister())
    return items if hidden_sidecars else (i for i in items if not getattr(i, "hidden", False))
