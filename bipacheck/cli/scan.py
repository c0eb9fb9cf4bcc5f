"""`bipacheck scan`: faces per file, nothing else."""

from __future__ import annotations

import sys

import click

from ..errors import BipacheckError
from ..pipelines.scan import run_scan
from .common import build_options, command_options, emit, fail, with_exit_help


@click.command()
@click.argument("paths", nargs=-1, required=True)
@command_options("scan")
def scan(paths, **params):
    """Find faces in PATHS (files, folders scanned recursively, s3:// or gs:// prefixes).

    Every file is listed, either with its faces (box [x, y, w, h] in upright original pixels and
    score) or as skipped with the reason. The file type is read from the content, not the name.
    A listing with no files at all is an error (exit 2), never an empty success.
    """
    try:
        opts = build_options("scan", params)
        result = run_scan(list(paths), opts)
        emit(result, opts.output, opts.format_for("scan"), opts)
    except BipacheckError as exc:
        fail(str(exc))
    if opts.format_for("scan") == "table":
        click.echo(result.summary_line(), err=True)
    sys.exit(result.exit_code)


with_exit_help(scan)
