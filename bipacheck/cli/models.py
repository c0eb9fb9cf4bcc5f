"""`bipacheck models`: the detector weights."""

from __future__ import annotations

import sys

import click

from ..detect import detectors, weights
from ..errors import BipacheckError
from .common import Exit, fail


@click.group()
def models() -> None:
    """Detector weights: list, import (another accepted variant), verify.

    The default weights ship inside the package (with their licences and provenance); nothing is
    downloaded. A variant imported into $BIPACHECK_MODEL_DIR (or the user cache directory) is used
    before the bundled file. Every file is checked against its recorded SHA-256 before each use.
    """


@models.command("list")
def models_list() -> None:
    """Known models with licence, SHA-256, source, and whether they are installed."""
    click.echo(f"bundled with the package: {weights.BUNDLED}; imported variants: {weights.model_dir()}")
    for spec in weights.MODELS.values():
        found = weights.installed_file(spec.name)
        state = f"uses {found[0]}" if found else "MISSING (reinstall bipacheck)"
        click.echo(f"{spec.name}: {state} - {spec.description}")
        for variant in spec.files:
            click.echo(f"  {variant.filename}  {variant.size:,} bytes  {variant.licence}  sha256 {variant.sha256}")
            click.echo(f"    from: {variant.origin}{' (bundled)' if variant.bundled else ''}")
    for det in detectors.DETECTORS.values():
        click.echo(f"detector {det.name}: {det.help}; weights: {', '.join(det.weights)}")


@models.command("import")
@click.argument("name", type=click.Choice(tuple(weights.MODELS)))
@click.argument("file", type=click.Path(dir_okay=False))
def import_(name: str, file: str) -> None:
    """Install an accepted variant of NAME's weights from a local FILE; its SHA-256 must match."""
    try:
        path = weights.import_file(name, file)
    except BipacheckError as exc:
        fail(str(exc))
    click.echo(f"{name}: installed {path}")


@models.command()
@click.argument("names", nargs=-1, type=click.Choice(tuple(weights.MODELS)))
def verify(names) -> None:
    """Check each model's files against their recorded SHA-256 (all models by default): the file
    a detector would load, the bundled file and any imported variant. An optional variant that was
    never imported is noted, not a failure; exit 1 if a file is missing from the package or does
    not hash right."""
    ok_all = True
    for name in names or tuple(weights.MODELS):
        ok, lines = weights.verify(name)
        ok_all &= ok
        for line in lines:
            click.echo(line)
    sys.exit(Exit.OK if ok_all else Exit.FINDINGS)
