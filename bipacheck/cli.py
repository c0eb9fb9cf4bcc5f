"""Command line: a thin click layer over the library API (same names as bipacheck.api)."""

from __future__ import annotations

import click

from . import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="bipacheck")
def cli() -> None:
    """Audit photo collections for biometric-privacy (BIPA, 740 ILCS 14) compliance.

    Finds faces in images, cross-references a consent ledger of written releases,
    and reports every photo where biometric identifiers would be derived without one.
    bipacheck never computes face templates, embeddings or landmarks: boxes and scores only.
    """


def _register_subcommands() -> None:
    # Each feature keeps its commands beside its library code; this file only wires them up.
    from .ledger.cli import ledger

    cli.add_command(ledger)


_register_subcommands()
