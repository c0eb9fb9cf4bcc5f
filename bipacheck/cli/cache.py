"""`bipacheck cache info|prune`: the incremental scan cache."""

from __future__ import annotations

import json

import click

from ..errors import BipacheckError
from ..scanning.cache import cache_info, cache_prune
from .common import fail


@click.group("cache")
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
    try:
        result = cache_prune(path, keep=keep)
    except BipacheckError as exc:
        fail(str(exc))
    click.echo(f"{path}: dropped {result['rows_dropped']} row(s) of {len(result['dropped'])} setting(s); "
               f"kept {len(result['kept'])}")
