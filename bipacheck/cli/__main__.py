"""`python -m bipacheck.cli` runs the command line."""

from . import cli

cli()
