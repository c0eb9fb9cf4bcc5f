"""`bipacheck audit`: the main job."""

from __future__ import annotations

import sys

import click

from ..errors import BipacheckError
from ..pipelines.audit import run
from .common import build_options, command_options, emit, fail, with_exit_help


@click.command()
@click.argument("sources", nargs=-1, required=True)
@command_options("audit")
def audit(sources, **params):
    """Audit SOURCES (folders, files, s3://bucket/prefix, gs://bucket/prefix) against the consent ledger.

    Every face counts, bystanders included: a face without a matched ledger subject holding a
    valid written release for the processing's scope is a finding (BIPA 740 ILCS 14/15(b)).
    Releases are judged at each time the photo was processed (the ledger's processing events,
    else the file's upload time and the audit date), where it was processed decides whether BIPA
    reaches it, and defective releases, disclosures (15(d)), profit (15(c)), passed retention
    deadlines (14/15(a)), files that could not be scanned (never reported compliant) and
    low-confidence faces are reported too. The exposure estimate (14/20) is not legal advice.
    Videos are audited too (the [video] extra): each face track is one face, with its times.

    Settings come from flags, then [tool.bipacheck] in pyproject.toml or .bipacheck.toml, then
    defaults (the same keys as the flags); the operator's attestation is that file's
    [tool.bipacheck.org] table (without it, BIPA's reach is unknown: consent findings are review).
    Every face is also judged under each other jurisdiction pack in scope (`bipacheck packs`;
    --jurisdiction), with the facts of [tool.bipacheck.packs.<id>]. The ledger is opened read-only and its hash chain is
    verified first: a broken chain stops the audit (exit 2) unless --allow-broken-ledger.
    """
    try:
        opts = build_options("audit", params)
        report = run(list(sources), opts)
        emit(report, opts.output, opts.format_for("audit"), opts)
    except BipacheckError as exc:
        fail(str(exc))
    sys.exit(report.exit_code)


with_exit_help(audit)
