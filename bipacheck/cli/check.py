"""`bipacheck check` (the pre-commit hook's entry point) and `bipacheck baseline`."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import click

from ..errors import BipacheckError
from ..pipelines import baseline as baseline_mod
from ..pipelines.check import human_summary, run_check
from ..policy.operator import operator_rule_ids
from ..policy.pack import available
from .common import Exit, build_options, command_options, emit, fail, with_exit_help


@click.command()
@click.argument("files", nargs=-1)
@command_options("check")
def check(files, **params):
    """Check FILES before they are committed (the pre-commit hook's entry point).

    Audits exactly FILES against the configured ledger: any file whose content is an image or a
    video (MP4, MOV/M4V, WebM, MKV, AVI), whatever its name. A file that cannot be scanned blocks the
    commit like a finding does (an image or video nobody could check is never passed); files that
    are not images or videos by name or content (source code, text) are passed over quietly.
    Findings accepted in the baseline do not block.
    Missing detector weights are fetched and verified on first use.
    """
    try:
        opts = build_options("check", params)
        if not files and not opts.staged:
            click.echo("bipacheck: no files to check", err=True)
            sys.exit(Exit.OK)
        report = run_check(list(files), opts)
        fmt = opts.format_for("check")
        if fmt == "text":
            click.echo(human_summary(report), nl=False, err=report.exit_code != Exit.OK)
            if opts.output:
                report.write(opts.output, "json", opts=opts)
        else:
            emit(report, opts.output, fmt, opts)
    except BipacheckError as exc:
        fail(str(exc))
    sys.exit(report.exit_code)


with_exit_help(check)


@click.group()
def baseline() -> None:
    """Findings accepted on purpose (.bipacheck-baseline.json), keyed by fingerprint.

    A fingerprint is the photo's content SHA-256 + rule id + rounded face box: no path and no
    timestamp, so a renamed photo stays accepted, an edited one does not, and merges rarely conflict.
    Findings about the operator (its attestation, no photo) are accepted only by name: `baseline operator`.
    Settings (ledger, detector, ...) come from the config file as for `check`, or from `check`'s flags.
    """


def baseline_options(func):
    """`check`'s flags that change which findings a baseline accepts."""
    func = click.option("--justification", default=None, help="Why these findings are accepted (stored with each "
                                                               "entry).")(func)
    return command_options("check")(func)


@baseline.command("create")
@click.argument("files", nargs=-1, required=True)
@baseline_options
def baseline_create(files, justification, **params):
    """Audit FILES (files or folders) and write a baseline accepting every finding about them.
    Findings about the operator are never accepted this way: see `baseline operator`."""
    _write_baseline(files, params, justification, update=False)


@baseline.command("update")
@click.argument("files", nargs=-1, required=True)
@baseline_options
def baseline_update(files, justification, **params):
    """Audit FILES and add their findings to the baseline; entries for these photos that no longer
    match are pruned, entries for other photos are kept."""
    _write_baseline(files, params, justification, update=True)


@baseline.command("operator")
@click.argument("rule_ids", nargs=-1, required=True, metavar="RULE_ID...")
@click.option("--justification", required=True, help="Why the operator's duty is accepted as it stands (stored "
                                                    "with the entry; required).")
@command_options("check", only=("baseline", "packs_path"))
def baseline_operator(rule_ids, justification, **params):
    """Accept findings about the operator (its attestation, not a photo: BIPA-15A-POLICY, BIPA-15C-PROFIT,
    BIPA-15D-DISCLOSURE, BIPA-15E-CARE, a pack's attested duties) by rule id, each with its own
    justification. Accepting a photo never accepts them: they are company-wide."""
    try:
        opts = build_options("check", params)
        path = opts.baseline or baseline_mod.DEFAULT_BASELINE
        previous = baseline_mod.Baseline.read_or_empty(path)
        result = baseline_mod.accept_operator(previous, rule_ids, justification,
                                              operator_rule_ids(available(opts.packs_path)))
        result.save(path)
    except BipacheckError as exc:
        fail(str(exc))
    click.echo(f"{path}: {len(result.entries)} accepted finding(s), operator finding(s) {', '.join(rule_ids)} by name")


def _write_baseline(files, params: dict, justification: str | None, update: bool) -> None:
    try:
        opts = build_options("check", params)
        path = opts.baseline or baseline_mod.DEFAULT_BASELINE
        # audit against no baseline: every current finding is what gets accepted
        report = run_check(list(files), dataclasses.replace(opts, baseline=None))
        if update and Path(path).exists():
            result = baseline_mod.update(report, baseline_mod.Baseline.load(path), justification)
        else:
            result = baseline_mod.create(report, justification)
        result.save(path)
    except BipacheckError as exc:
        fail(str(exc))
    click.echo(f"{path}: {len(result.entries)} accepted finding(s)")
