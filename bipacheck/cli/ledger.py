"""`bipacheck ledger ...`: a thin click layer over bipacheck.ledger.Ledger (same names)."""

from __future__ import annotations

import json
import sqlite3
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from ..errors import BipacheckError
from ..hashing import sha256_file
from ..outputs import write_atomic
from ..ledger import fields
from ..ledger.dates import format_datetime, now_utc, parse_datetime
from ..ledger.fields import KINDS
from ..ledger.anchor import head_file_text, parse_head, read_head_file
from ..ledger.ledger import Ledger
from ..ledger.models import Event
from ..ledger.status import consent_state
from ..policy.bipa import BIPA
from ..policy.release import Needs, judge
from .common import Exit, warn, with_exit_help


class _LedgerError(click.ClickException):
    exit_code = int(Exit.ERROR)  # 1 means "found something" (verify); an error is 2, as everywhere


class _LedgerGroup(click.Group):
    """Turns library errors into a one-paragraph message and exit status 2, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BipacheckError as exc:
            raise _LedgerError(str(exc)) from None
        except sqlite3.DatabaseError as exc:  # a file that only looks like a ledger, or a damaged one
            raise _LedgerError(f"the ledger cannot be read ({exc}): is it a bipacheck ledger?") from None


DB = click.argument("db", type=click.Path(dir_okay=False, path_type=Path))
ACTOR = click.option("--actor", metavar="NAME",
                     help="Who makes this change, recorded in the event (default: the OS user).")
JSON_OUT = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")


def _echo_json(value: Any) -> None:
    def plain(item: Any) -> Any:
        return format_datetime(item) if isinstance(item, datetime) else str(item)

    click.echo(json.dumps(value, indent=2, ensure_ascii=False, default=plain))


@click.group(cls=_LedgerGroup, context_settings={"help_option_names": ["-h", "--help"]})
def ledger() -> None:
    """Keep the consent ledger: subjects, written releases, photo links and processing events.

    The ledger is one SQLite file. Every change appends a hash-chained event naming who made
    it, so `verify` can prove nothing was edited or deleted behind bipacheck's back. Dates are
    ISO 8601 with a time zone; a bare date such as 2024-05-01 means 00:00 UTC that day.
    """


with_exit_help(ledger)


@ledger.command()
@DB
@ACTOR
def init(db: Path, actor: str | None) -> None:
    """Create a new, empty ledger file DB (reusing DB if it is already an empty ledger)."""
    with Ledger.create(db, actor=actor) as opened:
        click.echo(f"ledger ready: {opened.path} (schema v{opened.schema_version})")


@ledger.command("import")
@DB
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--kind", type=click.Choice(KINDS),
              help="What FILE holds; default: inferred from its header or JSON keys.")
@ACTOR
def import_(db: Path, file: Path, kind: str | None, actor: str | None) -> None:
    """Import subjects, consents, links or processing events from FILE (CSV or JSON Lines) into DB.

    A header with processed_at means processing events (when, where and how each photo was
    processed, and who received it: the times the audit judges releases at).

    All or nothing: one bad row rejects the file, every bad line is listed and the ledger is
    left unchanged. Re-importing the same file changes nothing; a changed row for a known id
    is recorded as an edit. See docs/LEDGER.md for the columns.
    """
    with Ledger(db, actor=actor) as opened:
        result = opened.import_file(file, kind=kind)
    for message in result.warnings:
        warn(f"{file}: {message}")
    click.echo(f"{result.source}: {result.kind}: {result.added} added, {result.edited} edited, "
               f"{result.unchanged} unchanged")


@ledger.command()
@DB
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv",
              show_default=True, help="csv, or json for JSON Lines (one object per line).")
@click.option("--kind", type=click.Choice([*KINDS, "events"]),
              help="Export one kind; without it, write subjects, consents and links files "
                   "into the --output directory.")
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="File (with --kind) or directory (without) to write; default: stdout "
                   "(--kind only).")
def export(db: Path, fmt: str, kind: str | None, output: Path | None) -> None:
    """Export DB's records in the same formats `import` reads (plus the event log)."""
    with Ledger(db) as opened:
        if kind is None:
            if output is None:
                raise click.UsageError("without --kind, give --output DIRECTORY")
            for path in opened.export_dir(output, fmt):
                click.echo(f"wrote {path}", err=True)
        elif output is None:
            opened.export(kind, sys.stdout, fmt)
        else:
            with open(output, "w", encoding="utf-8", newline="") as fh:
                count = opened.export(kind, fh, fmt)
            click.echo(f"wrote {count} {kind} to {output}", err=True)


def _renamed(old: str, new: str, dest: str, **kwargs: Any):
    """A flag's old spelling, hidden, accepted for one release with a warning (the new spelling is
    the file column's name, so flags and CSV columns match)."""
    def warn_old(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        if value not in (None, ()):
            warn(f"{old} is now {new} (the column's name in subject files); {old} will be removed in the "
                 "next release")
        return value
    return click.option(old, dest, hidden=True, callback=warn_old, help=f"Old spelling of {new}.", **kwargs)


def _subject_options(func: Any) -> Any:
    for option in reversed([
        click.option("--display-name", help="Display name (optional, for people)."),
        _renamed("--name", "--display-name", "old_name"),
        click.option("--residence", multiple=True, metavar="CODE",
                     help="Where the person lives, an ISO 3166-2 code such as US-IL; repeat for several."),
        _renamed("--jurisdiction", "--residence", "old_jurisdiction", multiple=True),
        click.option("--last-interaction", "last_interaction_at", metavar="DATE",
                     help="Date of last interaction (starts the 3-year BIPA destruction clock)."),
        click.option("--purpose-satisfied", "purpose_satisfied_at", metavar="DATE",
                     help="Date the collection purpose was satisfied, if it was."),
        click.option("--birth-date", metavar="DATE",
                     help="Date of birth (a minor's release must be signed by a representative)."),
        click.option("--deceased-at", metavar="DATE", help="Date of death, if known."),
        click.option("--employment-cba", metavar="TRUE|FALSE|ID",
                     help="Covered by a collective bargaining agreement: true, false or its id."),
    ]):
        func = option(func)
    return func


def _subject_fields(display_name: str | None, old_name: str | None, residence: tuple[str, ...],
                    old_jurisdiction: tuple[str, ...]) -> tuple[str | None, list[str]]:
    """(display name, residence) from the new flags or, for one more release, the old ones."""
    if old_name is not None and display_name is not None:
        raise click.UsageError("give --display-name only (--name is its old spelling)")
    return (display_name if display_name is not None else old_name), [*residence, *old_jurisdiction]


@ledger.command("add-subject")
@DB
@click.argument("subject")
@_subject_options
@ACTOR
def add_subject(db: Path, subject: str, display_name: str | None, old_name: str | None,
                residence: tuple[str, ...], old_jurisdiction: tuple[str, ...], last_interaction_at: str | None,
                purpose_satisfied_at: str | None, birth_date: str | None, deceased_at: str | None,
                employment_cba: str | None, actor: str | None) -> None:
    """Add SUBJECT (a platform user id, or an id you give a non-user) to DB."""
    display_name, regions = _subject_fields(display_name, old_name, residence, old_jurisdiction)
    with Ledger(db, actor=actor) as opened:
        opened.add_subject(subject, display_name, residence=regions, last_interaction_at=last_interaction_at,
                           purpose_satisfied_at=purpose_satisfied_at, birth_date=birth_date,
                           deceased_at=deceased_at, employment_cba=employment_cba)
    click.echo(f"subject {subject} recorded")


@ledger.command("edit-subject")
@DB
@click.argument("subject")
@_subject_options
@ACTOR
def edit_subject(db: Path, subject: str, display_name: str | None, old_name: str | None,
                 residence: tuple[str, ...], old_jurisdiction: tuple[str, ...], last_interaction_at: str | None,
                 purpose_satisfied_at: str | None, birth_date: str | None, deceased_at: str | None,
                 employment_cba: str | None, actor: str | None) -> None:
    """Change SUBJECT's details; options not given keep their current value."""
    display_name, regions = _subject_fields(display_name, old_name, residence, old_jurisdiction)
    changes = {"display_name": display_name, "last_interaction_at": last_interaction_at,
               "purpose_satisfied_at": purpose_satisfied_at,
               "jurisdictions": regions or None, "birth_date": birth_date,
               "deceased_at": deceased_at, "employment_cba": employment_cba}
    changes = {k: v for k, v in changes.items() if v is not None}
    if not changes:
        raise click.UsageError("nothing to change: give at least one option")
    with Ledger(db, actor=actor) as opened:
        opened.edit_subject(subject, **changes)
    click.echo(f"subject {subject} updated")


@ledger.command()
@DB
@click.argument("subject")
@click.option("--scope", required=True, help="What may be derived, e.g. face_geometry.")
@click.option("--purpose", help="Purpose the person agreed to, as written in the release.")
@click.option("--granted-at", metavar="DATE", help="When the release took effect (default: now).")
@click.option("--expires-at", metavar="DATE", help="When it ends, if it states a date.")
@click.option("--term", metavar="DURATION",
              help="Length of term as ISO 8601 duration, e.g. P3Y (counted from --granted-at).")
@click.option("--method", type=click.Choice(["written", "electronic"]), default="written",
              show_default=True,
              help="How it was signed; electronic signatures count (P.A. 103-0769).")
@click.option("--notice-version", help="Version of the written notice the person was shown.")
@click.option("--evidence-uri", help="Where the signed document is kept.")
@click.option("--evidence-sha256", metavar="HEX", help="SHA-256 of the signed document.")
@click.option("--evidence-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The signed document itself: its SHA-256 is computed and recorded.")
@click.option("--signer-role", type=click.Choice(fields.SIGNER_ROLES),
              help="Who signed: the subject or their legally authorized representative.")
@click.option("--notice-elements", metavar="A;B;...",
              help="What the written notice stated: " + ", ".join(fields.NOTICE_ELEMENTS) + ".")
@click.option("--purposes", metavar="A;B;...",
              help="What the release allows, from the vocabulary: " + ", ".join(fields.PURPOSES) + ".")
@click.option("--explicit/--not-explicit", default=None,
              help="Whether the consent was explicit (GDPR Art. 9(2)(a)); default: not recorded.")
@click.option("--id", "consent_id", help="Consent id (default: a new random id).")
@ACTOR
def grant(db: Path, subject: str, scope: str, purpose: str | None, granted_at: str | None,
          expires_at: str | None, term: str | None, method: str, notice_version: str | None,
          evidence_uri: str | None, evidence_sha256: str | None, evidence_file: Path | None,
          signer_role: str | None, notice_elements: str | None, purposes: str | None,
          explicit: bool | None, consent_id: str | None, actor: str | None) -> None:
    """Record a written release by SUBJECT for SCOPE (disclose:<recipient> for a disclosure).

    BIPA 15(b) needs notice of collection, a specific purpose and a length of term; the audit
    reports a release without them as defective."""
    if evidence_file is not None:
        computed = sha256_file(evidence_file)
        if evidence_sha256 and evidence_sha256.lower() != computed:
            raise click.UsageError("--evidence-sha256 does not match --evidence-file")
        evidence_sha256 = computed
    with Ledger(db, actor=actor) as opened:
        consent = opened.grant(subject, scope, granted_at, consent_id=consent_id,
                               purpose=purpose, expires_at=expires_at, term=term, method=method,
                               notice_version=notice_version, evidence_uri=evidence_uri,
                               evidence_sha256=evidence_sha256, signer_role=signer_role,
                               notice_elements=notice_elements, purposes=purposes, explicit=explicit)
    click.echo(f"consent {consent.consent_id} recorded for {subject}")


@ledger.command()
@DB
@click.argument("consent_id")
@click.option("--at", "revoked_at", metavar="DATE", help="When it was revoked (default: now).")
@click.option("--reason", help="Why, as told by the person (recorded in the event).")
@ACTOR
def revoke(db: Path, consent_id: str, revoked_at: str | None, reason: str | None,
           actor: str | None) -> None:
    """Revoke release CONSENT_ID. The release stays in the ledger as proof of the past."""
    with Ledger(db, actor=actor) as opened:
        consent = opened.revoke(consent_id, revoked_at, reason=reason)
    click.echo(f"consent {consent_id} revoked at {format_datetime(consent.revoked_at)}")


def _photo_options(func: Any) -> Any:
    for option in reversed([
        click.option("--photo-sha256", metavar="HEX", help="SHA-256 of the photo's bytes."),
        click.option("--photo-path", metavar="RELPATH",
                     help="Photo path relative to the audited root."),
        click.option("--photo-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                     help="The photo itself: its SHA-256 is computed and used."),
        click.option("--box", metavar="'X Y W H'",
                     help="Face box in upright pixels, as 'x y w h' or a JSON list."),
    ]):
        func = option(func)
    return func


def _photo_hash(photo_sha256: str | None, photo_file: Path | None) -> str | None:
    return sha256_file(photo_file) if photo_file is not None else photo_sha256


@ledger.command()
@DB
@click.argument("subject")
@_photo_options
@click.option("--role", type=click.Choice(["uploader", "tagged", "other"]), default="tagged",
              show_default=True, help="How SUBJECT relates to the photo.")
@click.option("--time", "time_s", type=click.FloatRange(min=0), metavar="SECONDS",
              help="In a video: when the --box is on screen, in seconds from its start (the box then names "
                   "the face track on screen at that time).")
@ACTOR
def link(db: Path, subject: str, photo_sha256: str | None, photo_path: str | None,
         photo_file: Path | None, box: str | None, role: str, time_s: float | None, actor: str | None) -> None:
    """Record that SUBJECT appears in a photo or video (by content hash and/or relative path)."""
    with Ledger(db, actor=actor) as opened:
        made = opened.link(subject, _photo_hash(photo_sha256, photo_file), photo_path, box, role, time_s=time_s)
    click.echo(f"link {made.link_id} recorded")


@ledger.command()
@DB
@click.argument("subject")
@_photo_options
@ACTOR
def unlink(db: Path, subject: str, photo_sha256: str | None, photo_path: str | None,
           photo_file: Path | None, box: str | None, actor: str | None) -> None:
    """Remove SUBJECT's links to a photo (every box, unless --box is given)."""
    with Ledger(db, actor=actor) as opened:
        count = opened.unlink(subject, _photo_hash(photo_sha256, photo_file), photo_path, box)
    click.echo(f"{count} link(s) removed")


@ledger.command()
@DB
@click.argument("subject")
@click.option("--as-of", metavar="DATE", help="Date to evaluate consents at (default: now).")
@click.option("--scope", default="face_geometry", show_default=True,
              help="Scope to evaluate consents for.")
@JSON_OUT
def show(db: Path, subject: str, as_of: str | None, scope: str, as_json: bool) -> None:
    """Show SUBJECT: details, destruction deadline, every release with its status, links."""
    with Ledger(db) as opened:
        found = opened.subject(subject)
        if found is None:
            raise _LedgerError(f"unknown subject {subject!r}")
        when = parse_datetime(as_of, "as_of") if as_of else now_utc()
        wanted = fields.scope(scope, "scope") or ""
        consents = [(c, consent_state(c, wanted, when)) for c in opened.consents(subject)]
        links = opened.links(subject)
        deadline = BIPA.retention_deadline(found)
        overall = opened.consent_status(subject, scope, when)
    if as_json:
        _echo_json({"subject": found.__dict__, "retention_deadline": deadline,
                    "status": overall.to_dict(),
                    "consents": [{**c.__dict__, "status": s} for c, s in consents],
                    "links": [l.__dict__ for l in links]})
        return
    click.echo(f"subject {found.subject_id}" + (f" ({found.display_name})" if found.display_name
                                                 else ""))
    click.echo(f"  residence: {', '.join(found.residence) or '-'}")
    click.echo(f"  born: {format_datetime(found.birth_date) or '-'}; deceased: "
               f"{format_datetime(found.deceased_at) or '-'}; CBA: {found.employment_cba or '-'}")
    click.echo(f"  last interaction: {format_datetime(found.last_interaction_at) or '-'}")
    click.echo(f"  purpose satisfied: {format_datetime(found.purpose_satisfied_at) or '-'}")
    click.echo(f"  destroy biometric data by: {format_datetime(deadline) or 'unknown'}")
    click.echo(f"  {scope}: {overall.status} ({overall.reason})")
    click.echo(f"consents ({len(consents)}):")
    for c, state in consents:
        click.echo(f"  {c.consent_id}  {state:13}  scope={c.scope} method={c.method} "
                   f"granted={format_datetime(c.granted_at)} "
                   f"ends={format_datetime(c.ends_at) or '-'} "
                   f"revoked={format_datetime(c.revoked_at) or '-'} "
                   f"notice={c.notice_version or '-'} "
                   f"elements={';'.join(c.notice_elements) if c.notice_elements is not None else '-'} "
                   f"signer={c.signer_role or '-'} "
                   f"purposes={';'.join(c.purposes) if c.purposes is not None else '-'} "
                   f"explicit={'-' if c.explicit is None else str(c.explicit).lower()}")
    click.echo(f"links ({len(links)}):")
    for l in links:
        at = "" if l.time_s is None else f" time={l.time_s:g}s"
        click.echo(f"  {l.photo_sha256 or '-'} {l.photo_path or '-'} box={l.box}{at} role={l.role}")


@ledger.command()
@DB
@click.argument("subject")
@click.option("--scope", required=True, help="Processing asked about, e.g. face_geometry.")
@click.option("--as-of", metavar="DATE", help="Audit date (default: now).")
@JSON_OUT
def status(db: Path, subject: str, scope: str, as_of: str | None, as_json: bool) -> None:
    """Did SUBJECT have a valid release for SCOPE as of the date?

    Prints valid, not-yet-valid, expired, revoked, out-of-scope or none, with the release cited;
    a valid release that lacks what BIPA 15(b) asks of it (notice, purpose, term) is named
    defective, as the audit reports it.
    """
    when = parse_datetime(as_of, "as_of") if as_of else now_utc()
    with Ledger(db) as opened:
        result = opened.consent_status(subject, scope, when)
        judged = judge(opened, subject, [fields.scope(scope, "scope") or ""], when, BIPA.minor_age, Needs(content=True))
    defects = judged.defects if judged.status == "defective" else []
    if as_json:
        _echo_json({**result.to_dict(), "defects": defects})
    elif defects:
        click.echo(f"{result.status}, but defective under {BIPA.citation}/15(b): {'; '.join(defects)} "
                   f"({result.reason}; the audit reports BIPA-15B-DEFECTIVE-RELEASE)")
    else:
        click.echo(f"{result.status}: {result.reason}")


def _event_line(event: Event) -> str:
    changed = event.changes()
    if event.before is None and event.after is not None:
        detail = ""
    else:
        detail = " " + ", ".join(f"{k}: {v[0]!r} -> {v[1]!r}" for k, v in changed.items())
    note = f" {json.dumps(event.note, ensure_ascii=False)}" if event.note else ""
    return (f"#{event.seq} {event.at} {event.actor} {event.action} {event.kind} "
            f"{event.key}{detail}{note}")


@ledger.command()
@DB
@click.option("--subject", help="Only events about this subject, its consents and its links.")
@click.option("--limit", type=click.IntRange(min=1), help="Only the last N events.")
@JSON_OUT
def history(db: Path, subject: str | None, limit: int | None, as_json: bool) -> None:
    """List the change events in DB, oldest first: who changed what, when."""
    with Ledger(db) as opened:
        found = opened.history(subject, limit)
    if as_json:
        _echo_json([e.__dict__ for e in found])
        return
    for event in found:
        click.echo(_event_line(event))


@ledger.command()
@DB
@JSON_OUT
@click.option("--expect-head", metavar="HEAD",
              help="A head quoted outside the ledger (`SEQ HASH` as `bipacheck ledger head` prints it, or the "
                   "hash alone): the ledger must still hold that event, else events were cut from its end.")
@click.option("--head-file", type=click.Path(dir_okay=False, path_type=Path),
              help="Read the expected head from this file (`bipacheck ledger head DB -o FILE` writes it; keep it "
                   "under version control).")
def verify(db: Path, as_json: bool, expect_head: str | None, head_file: Path | None) -> None:
    """Check DB's hash chain and every row against it; exit 1 naming the first broken event.

    The chain proves that the events it holds are intact and in order, not that none were removed
    from its end. Keep the head somewhere the ledger's editor cannot rewrite (`bipacheck ledger head
    DB -o consent.head`, committed with your code) and pass it here: a truncated log then fails.
    """
    if expect_head is not None and head_file:
        raise click.UsageError("give --expect-head or --head-file, not both")
    # an empty --expect-head (`--expect-head "$HEAD"` with HEAD unset) is refused, never taken as none
    expect = (parse_head(expect_head) if expect_head is not None else read_head_file(head_file) if head_file
              else None)
    with Ledger(db) as opened:
        result = opened.verify(expect)
    if as_json:
        _echo_json(result.__dict__)
    elif result.ok:
        click.echo(f"OK: {result.reason}; head {result.head_hash}")
    else:
        click.echo(f"BROKEN at event {result.first_broken_event}: {result.reason}", err=True)
    if not result.ok:
        sys.exit(Exit.FINDINGS)


@ledger.command()
@DB
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the head to this file (replacing it) instead of printing it.")
def head(db: Path, output: Path | None) -> None:
    """Print DB's head: the last event's number and hash (`SEQ HASH`).

    Keep it outside the ledger after every change, e.g. in a file under version control that
    `ledger verify --head-file` and audits (`ledger_head` in the config) check: the ledger must still
    hold that event, so events cut from its end are caught.
    """
    with Ledger(db) as opened:
        if not opened.verify().ok:
            raise _LedgerError("the hash chain is broken (`bipacheck ledger verify` names the edit): "
                               "refusing to anchor it")
        seq, hash_ = opened.head()
    text = head_file_text(seq, hash_)
    if output:
        write_atomic(str(output), text, 0o644)
        click.echo(f"head {seq} written to {output}", err=True)
    else:
        click.echo(text, nl=False)


@ledger.command()
@DB
@ACTOR
def migrate(db: Path, actor: str | None) -> None:
    """Upgrade DB to this bipacheck's schema (recorded in the event log; the chain stays intact).

    Audits open the ledger read-only, so they never migrate it themselves: they ask for this.
    """
    with Ledger(db, actor=actor) as opened:  # opening read-write applies pending migrations
        click.echo(f"{db}: schema version {opened.schema_version}; head {opened.head()[1]}")
