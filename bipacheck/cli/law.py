"""`bipacheck rules`, `packs` and `schema`: what the audit checks and what its report looks like."""

from __future__ import annotations

import json

import click

from ..errors import BipacheckError
from ..pipelines.audit import rule_catalogue
from ..policy.pack import available, rule_book, select
from ..policy.pack_eval import describe
from ..report.formats import report_schema
from .common import fail


@click.command()
def schema() -> None:
    """Print the JSON Schema that `audit --format json` reports follow (versioned)."""
    click.echo(json.dumps(report_schema(), indent=2))


PACKS_PATH = click.option("--packs-path", metavar="DIR", help="A folder of extra jurisdiction packs (*.toml); "
                          "BIPACHECK_PACKS_PATH adds more.")


@click.command()
@click.option("--pack", "pack_ids", multiple=True, metavar="ID",
              help="Only this jurisdiction pack's rules (repeatable; `bipacheck packs` lists them).")
@PACKS_PATH
def rules(pack_ids, packs_path) -> None:
    """List the rule ids with their pack, citations, how well the law behind each is established
    ([V] checked against statute or opinion text, [S] secondary sources only, [M] unverified,
    configurable) and what fixes them."""
    try:
        every = available(packs_path)
        packs = select(every, pack_ids)
    except BipacheckError as exc:
        fail(str(exc))
    for rule in rule_catalogue(rule_book(every)):
        if pack_ids and rule["pack"] not in packs:
            continue
        click.echo(f"{rule['id']}  ({rule['citation']}) [{rule['mark']}] {rule['severity']}, pack "
                   f"{rule['pack'] or '-'}\n  {rule['summary']}\n  fix: {rule['fix']}")
    for pack in packs.values() if pack_ids else ():
        for name, entry in pack.values.items():
            click.echo(f"value {pack.id}.{name} = {entry['value']!r} [{entry['mark']}]  {entry.get('about', '')}")


@click.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text for people, json for tools.")
@PACKS_PATH
def packs(fmt, packs_path) -> None:
    """List the jurisdiction packs: citation, effective date, when each applies and the data it needs,
    its enforcement, and the facts and [M] values set in [tool.bipacheck.packs.<id>]."""
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
