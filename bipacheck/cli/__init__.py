"""Command line: a thin click layer over the library (same names as bipacheck.api and the pipelines).

Each command lives in its own module and uses only cli/common.py; this module builds the group."""

from __future__ import annotations

import click

from ..version import __version__
from . import audit, cache, check, init, law, ledger, models, redact, scan, strip_face_tags
from .common import with_exit_help


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="bipacheck")
def cli() -> None:
    """Audit photo collections for biometric-privacy (BIPA, 740 ILCS 14) compliance.

    Finds faces in images, cross-references a consent ledger of written releases,
    and reports every photo where biometric identifiers would be derived without one.
    bipacheck never computes face templates, embeddings or landmarks: boxes and scores only.
    """


with_exit_help(cli)

for command in (init.init_command, scan.scan, audit.audit, check.check, check.baseline, law.rules, law.packs,
                law.schema, cache.cache_group, models.models, ledger.ledger, redact.redact_command,
                strip_face_tags.strip_face_tags_command):
    cli.add_command(command)
