"""`bipacheck redact`: a thin click layer over the audit and redaction.run."""

from __future__ import annotations

import sys

import click

from ..errors import BipacheckError
from ..imaging.obscure import STYLES
from ..pipelines.audit import run as run_audit
from ..pipelines.redact import run
from .common import Exit, build_options, command_options, fail, visible_lines

# the audit's options that decide which faces are found and which releases are valid
AUDIT_OPTIONS = ("ledger", "processing", "as_of", "review_threshold", "tag_map", "allow_broken_ledger", "detector",
                 "threshold", "min_face", "max_pixels", "max_frames", "no_tags", "workers", "cache", "no_cache",
                 "quiet", "video_interval")


@click.command("redact")
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True), metavar="SOURCE...")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Folder for the copies (created if missing); never a source or inside one.")
@click.option("--style", type=click.Choice(STYLES), default="blur", show_default=True,
              help="How faces are obscured.")
@click.option("--all-faces", is_flag=True, help="Obscure every face, consented ones too.")
@click.option("--dry-run", is_flag=True, help="List what would be obscured; write nothing.")
@click.option("--link-copies", is_flag=True,
              help="Record in the ledger (event log included) that each consented person appears in the copy, "
                   "by the copy's SHA-256, so auditing the copies finds their releases.")
@command_options("audit", only=AUDIT_OPTIONS)
def redact_command(sources, out_dir, style, all_faces, dry_run, link_copies, **params):
    """Write copies of SOURCE photos in which the faces without a valid release are obscured.

    SOURCE: local files or folders. The photos are audited first (as `bipacheck audit` would, same
    options and config file); every face without a valid written release, and every possible face
    scoring above the review threshold, is blurred, pixelated or filled; consented faces are left
    as they are (without --ledger, every face is obscured). Copies keep their format and EXIF
    orientation, and only allow-listed metadata (capture time, camera settings, ICC profile, XMP
    title/creator/rights): never thumbnails or previews, text chunks, maker notes or face tags.
    Alpha is obscured too. In a video each face track is obscured in every frame it may be on screen
    in (from the last sample without the face to the next one without it), audio kept; a video
    scanned only in part is not copied. PNG, BMP and WebP (written lossless) copies keep every pixel outside the
    obscured regions; JPEG copies change only the 8-16 px blocks under them. Sources are never
    edited; copies are written below --out only, never through a symbolic link (sources with the
    same name go to separate folders). A manifest (bipacheck-redaction.json) in --out lists what
    was done.

    \b
    Exit codes: 0 every photo copied; 1 some photos could not be redacted (nothing written for
    them); 2 usage or configuration error; 3 some files could not be scanned and were not copied.
    """
    sources = list(sources)
    try:
        run.check_out_dir(sources, out_dir)
        opts = build_options("audit", params)
        report = run_audit(sources, opts)
        plans = run.plan(report, sources, out_dir, all_faces)
    except BipacheckError as exc:
        fail(str(exc))
    for item in plans:
        if not dry_run:
            run.write_copy(item, style, out_dir)
        what = (f"{len(item.obscure)} face(s) {'to obscure' if dry_run else 'obscured'} ({style}), "
                f"{len(item.keep)} kept")
        if item.error:
            click.echo(visible_lines(f"{item.source}: error: {item.error}; nothing written"), err=True)
        else:
            click.echo(visible_lines(f"{item.source} -> {item.output}: {what}"))
        for face in item.obscure:
            who = face.get("subject_id") or "unidentified"
            track = face.get("track")
            when = (f" on screen {track['start_s']:.2f}-{track['end_s']:.2f} s (obscured "
                    f"{track['may_start_s']:.2f}-{track['may_end_s']:.2f} s)" if track else "")
            click.echo(visible_lines(f"  obscure {face['box']}{when} ({who}, release {face['consent_status']})"))
    for skipped in run.not_copied(report):
        click.echo(visible_lines(f"{skipped['path']}: not copied ({skipped['reason']}): {skipped['message']}"),
                   err=True)
    if dry_run:
        sys.exit(Exit.OK)
    manifest = run.write_manifest(out_dir, report, plans, {"style": style, "all_faces": all_faces,
                                                          "sources": sources})
    click.echo(visible_lines(f"manifest written to {manifest}"), err=True)
    if link_copies and opts.ledger:
        click.echo(f"{run.link_copies(opts.ledger, plans)} link(s) recorded for the copies in {opts.ledger}",
                   err=True)
    if any(item.error for item in plans):
        sys.exit(Exit.FINDINGS)
    sys.exit(Exit.UNSCANNED if report.unscanned else Exit.OK)
