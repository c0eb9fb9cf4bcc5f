"""`bipacheck strip-face-tags`: a thin layer over strip_face_tags_to_dir."""

from __future__ import annotations

import sys

import click

from ..errors import ConfigError
from ..metadata.batch import strip_face_tags_to_dir


@click.command("strip-face-tags")
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True), metavar="SRC...")
@click.option(
    "--out", "out_dir", required=True, type=click.Path(file_okay=False),
    help="Folder for the stripped copies (created if missing). Sources are never edited.",
)
def strip_face_tags_command(sources: tuple[str, ...], out_dir: str) -> None:
    """Write copies of SRC images without face regions or person tags in their XMP.

    SRC may be files or folders (searched recursively for images). Pixels and other metadata
    are kept byte for byte; an XMP packet that cannot be read safely is blanked whole. Refuses
    to run if a copy would overwrite a source. Sidecar files are neither copied nor changed.
    Exits 1 if any file could not be stripped.
    """
    failed = 0
    try:
        for outcome in strip_face_tags_to_dir(list(sources), out_dir):
            if outcome.error:
                failed += 1
                click.echo(f"{outcome.source}: error: {outcome.error}; nothing written", err=True)
            elif outcome.removed:
                detail = ", ".join(f"{tool} {n}" for tool, n in sorted(outcome.removed.items()))
                total = sum(outcome.removed.values())
                click.echo(f"{outcome.source} -> {outcome.output}: removed {total} face tag(s) ({detail})")
            else:
                click.echo(f"{outcome.source} -> {outcome.output}: no face tags; copied unchanged")
            for note in outcome.notes:
                click.echo(f"  note: {note}")
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    if failed:
        sys.exit(1)
