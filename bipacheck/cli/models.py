"""`bipacheck models`: the detector weights."""

from __future__ import annotations

import sys

import click

from ..detect import detectors, weights
from ..errors import BipacheckError
from .common import Exit, fail


@click.group()


def models() -> None:
    """Detector weights: list, pull (download and verify), import (offline), verify.

    Weights live in $BIPACHECK_MODEL_DIR or the user cache directory and are checked against
    the SHA-256 recorded in bipacheck's registry before every use.
    """


@models.command("list")


def models_list() -> None:
    """Known models with licence, SHA-256, source, and whether they are installed."""
    click.echo(f"model directory: {weights.model_dir()}")
    for spec in weights.MODELS.values():
        found = weights.installed_file(spec.name)
        state = f"installed ({found[0].name})" if found else "not installed"
        click.echo(f"{spec.name}: {state} - {spec.description}")
        for variant in spec.files:
            click.echo(f"  {variant.filename}  {variant.size:,} bytes  {variant.licence}  sha256 {variant.sha256}")
            click.echo(f"    from: {variant.origin}")
    for det in detectors.DETECTORS.values():
        click.echo(f"detector {det.name}: {det.help}; weights: {', '.join(det.weights) or 'ship with the package'}")


@models.command()
@click.argument("name", type=click.Choice(tuple(weights.MODELS)))


def pull(name: str) -> None:
    """Download NAME's weights from their official source and verify the SHA-256."""
    try:
        path = weights.pull(name)
    except BipacheckError as exc:
        fail(str(exc))
    click.echo(f"{name}: installed {path}")


@models.command("import")
@click.argument("name", type=click.Choice(tuple(weights.MODELS)))
@click.argument("file", type=click.Path(dir_okay=False))


def import_(name: str, file: str) -> None:
    """Install weights for NAME from a local FILE (air-gapped sites); the SHA-256 must match."""
    try:
        path = weights.import_file(name, file)
    except BipacheckError as exc:
        fail(str(exc))
    click.echo(f"{name}: installed {path}")


@models.command()
@click.argument("names", nargs=-1, type=click.Choice(tuple(weights.MODELS)))


def verify(names) -> None:
    """Check installed weights against their recorded SHA-256 (all models by default). Exit 1 if any fails."""
    ok_all = True
    for name in names or tuple(weights.MODELS):
        ok, message = weights.verify(name)
        ok_all &= ok
        click.echo(f"{name}: {message}")
    sys.exit(Exit.OK if ok_all else Exit.FINDINGS)
