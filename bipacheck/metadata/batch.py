"""Strip face tags from many files into an output folder, never touching the sources."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterator

from ..errors import ConfigError
from ..imaging.formats import image_suffixes
from ..outputs import UnsafeOutput, write_beneath
from .read import read_face_tags
from .sidecars import sidecar_paths
from .strip import StripError, strip_face_tags_report

@dataclass
class StripOutcome:
    source: str
    output: str
    removed: Counter = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    error: str | None = None


def plan_outputs(sources: list[str], out_dir: str) -> list[tuple[str, str]]:
    """(source, output) pairs. Raises ConfigError before anything is written if an output
    would overwrite a source or two sources would land on the same output."""
    pairs: list[tuple[str, str]] = []
    out_real = os.path.realpath(out_dir)
    for source in sources:
        if os.path.isdir(source):
            base = os.path.basename(os.path.normpath(os.path.abspath(source)))
            for path in _walk_images(source, out_real):
                pairs.append((path, os.path.join(out_dir, base, os.path.relpath(path, source))))
        elif os.path.isfile(source):
            pairs.append((source, os.path.join(out_dir, os.path.basename(source))))
        else:
            raise ConfigError(f"{source}: no such file or folder")
    source_files = {os.path.realpath(s): s for s, _ in pairs}
    outputs: dict[str, str] = {}
    for source, output in pairs:
        real = os.path.realpath(output)
        if real in source_files:
            raise ConfigError(
                f"{output} would overwrite the source {source_files[real]}; choose another --out folder"
            )
        if real in outputs:
            raise ConfigError(f"{outputs[real]} and {source} would both be written to {output}")
        outputs[real] = source
    return pairs


def _walk_images(folder: str, skip_real: str) -> Iterator[str]:
    for root, dirs, files in os.walk(folder):
        # Do not descend into the output folder when it lies inside a source folder.
        dirs[:] = sorted(d for d in dirs if os.path.realpath(os.path.join(root, d)) != skip_real)
        for name in sorted(files):
            if os.path.splitext(name)[1].lower() in image_suffixes():
                yield os.path.join(root, name)


def strip_face_tags_to_dir(sources: list[str], out_dir: str) -> Iterator[StripOutcome]:
    """Write a stripped copy of every image in `sources` (files or folders, recursed) under
    out_dir, yielding one outcome per file. Planning errors raise ConfigError first."""
    pairs = plan_outputs(sources, out_dir)
    for source, output in pairs:
        outcome = StripOutcome(source, output)
        try:
            with open(source, "rb") as fh:
                data = fh.read()
            result = strip_face_tags_report(data)
            write_copy_of(source, out_dir, os.path.relpath(output, out_dir), result.data)
            outcome.removed, outcome.notes = result.removed, result.notes
        except (OSError, StripError, UnsafeOutput) as exc:
            outcome.error = str(exc)
        outcome.notes += _sidecar_warnings(source)
        yield outcome


def write_copy_of(source: str, out_dir: str, relpath: str, data: bytes) -> None:
    """Write `data` to out_dir/relpath atomically, with `source`'s timestamps and mode (photo libraries
    sort by them), never through a symbolic link below out_dir (outputs.write_beneath)."""
    st = os.stat(source)
    write_beneath(out_dir, relpath.split(os.sep), data, mode=st.st_mode, times=(st.st_atime_ns, st.st_mtime_ns))


def _sidecar_warnings(source: str) -> list[str]:
    warnings = []
    for path in sidecar_paths(source):
        if not os.path.isfile(path):
            continue
        try:
            with open(path, "rb") as fh:
                content = fh.read()
        except OSError:
            continue
        tags = read_face_tags(b"", sidecars={path: content}, photo_name=os.path.basename(source))
        if tags.regions:
            warnings.append(
                f"sidecar {path} holds {len(tags.regions)} face tag(s); it was not copied or changed"
            )
    return warnings
