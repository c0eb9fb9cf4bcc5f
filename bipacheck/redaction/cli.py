"""`bipacheck redact`: a thin click layer over the audit and redaction.run."""

from __future__ import annotations

import sys

import click

from ..cli import EXIT_OK, EXIT_SKIPPED, EXIT_VIOLATIONS, IsoDateTime, detection_options, fail, has_unscanned
from ..errors import BipacheckError
from ..policy.profiles import DEFAULT_PROFILE, PROFILES
from .styles import STYLES


@click.command("redact")
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True), metavar="SOURCE...")
@click.option("--ledger", "ledger_path", type=click.Path(dir_okay=False, exists=True), default=None,
              help="Consent ledger: faces of subjects with a valid release are left untouched. Without one, "
                   "every face is obscured.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Folder for the copies (created if missing); never a source or inside one.")
@click.option("--style", type=click.Choice(STYLES), default="blur", show_default=True,
              help="How faces are obscured.")
@click.option("--all-faces", is_flag=True, help="Obscure every face, consented ones too.")
@click.option("--dry-run", is_flag=True, help="List what would be obscured; write nothing.")
@click.option("--link-copies", is_flag=True,
              help="Record in the ledger (event log included) that each consented person appears in the copy, "
                   "by the copy's SHA-256, so auditing the copies finds their releases.")
@click.option("--processing", type=click.Choice(list(PROFILES)), default=DEFAULT_PROFILE, show_default=True,
              help="Processing profile whose consent scope decides which releases are valid.")
@click.option("--as-of", type=IsoDateTime(), default=None, help="Judge releases as of this date (default: now).")
@click.option("--review-threshold", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=None,
              help="Possible faces scoring above this are obscured too (default: 0.75 x threshold).")
@detection_options
def redact_command(sources, ledger_path, out_dir, style, all_faces, dry_run, link_copies, processing, as_of,
                   review_threshold, detector, threshold, min_face, max_pixels, max_frames):
    """Write copies of SOURCE photos in which the faces without a valid release are obscured.

    SOURCE: local files or folders. The photos are audited first (as `bipacheck audit` would);
    every face without a valid written release, and every possible face scoring above the review
    threshold, is blurred, pixelated or filled; consented faces are left as they are. Copies keep
    their format, EXIF orientation and metadata, minus face tags and embedded previews (the EXIF
    thumbnail would show the faces). PNG, BMP and WebP (written lossless) copies keep every pixel
    outside the obscured regions; JPEG copies change only the 8-16 px blocks under them.
    Sources are never edited. A manifest (bipacheck-redaction.json) in --out lists what was done.

    \b
    Exit codes: 0 every photo copied; 1 some photos could not be redacted (nothing written for
    them); 2 usage or configuration error; 3 some files could not be scanned and were not copied.
    """
    from ..auditing import audit
    from ..scanner import ScanSettings
    from . import run

    sources = list(sources)
    try:
        run.check_out_dir(sources, out_dir)
        settings = ScanSettings(min_face=min_face, max_pixels=max_pixels, max_frames=max_frames)
        report = audit(sources, ledger=ledger_path, processing=processing, as_of=as_of, detector=detector,
                       threshold=threshold, review_threshold=review_threshold, settings=settings)
        plans = run.plan(report, sources, out_dir, all_faces)
    except BipacheckError as exc:
        fail(str(exc))
    for item in plans:
        if not dry_run:
            run.write_copy(item, style)
        what = (f"{len(item.obscure)} face(s) {'to obscure' if dry_run else 'obscured'} ({style}), "
                f"{len(item.keep)} kept")
        if item.error:
            click.echo(f"{item.source}: error: {item.error}; nothing written", err=True)
        else:
            click.echo(f"{item.source} -> {item.output}: {what}")
        for face in item.obscure:
            who = face.get("subject_id") or "unidentified"
            click.echo(f"  obscure {face['box']} ({who}, release {face['consent_status']})")
    for skipped in report.skipped:
        click.echo(f"{skipped['path']}: not copied ({skipped['reason']}): {skipped['message']}", err=True)
    if dry_run:
        sys.exit(EXIT_OK)
    manifest = run.write_manifest(out_dir, report, plans, {"style": style, "all_faces": all_faces,
                                                          "sources": sources})
    click.echo(f"manifest written to {manifest}", err=True)
    if link_copies and ledger_path:
        click.echo(f"{run.link_copies(ledger_path, plans)} link(s) recorded for the copies in {ledger_path}",
                   err=True)
    if any(item.error for item in plans):
        sys.exit(EXIT_VIOLATIONS)
    sys.exit(EXIT_SKIPPED if has_unscanned(report.skipped) else EXIT_OK)
