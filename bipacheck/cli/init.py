"""`bipacheck init`: a thin click layer over pipelines.init (flags and questions from policy.facts)."""

from __future__ import annotations

import sys

import click

from ..errors import BipacheckError
from ..ledger.dates import parse_datetime
from ..ledger.fields import region
from ..pipelines.init import CONFIG, DEFAULT_LEDGER, EXAMPLES, init
from ..policy.facts import FACTS
from .common import fail

NONE = ("none", "nobody", "-")


def _fact_options(func):
    """One flag per fact: repeatable for lists, yes/no pairs for booleans."""
    for fact in reversed(FACTS):
        help_text = f"{fact.question} {fact.why}"
        if fact.kind == "yes-no":
            option = click.option(f"{fact.flag}/--no-{fact.flag[2:]}", fact.key, default=None, help=help_text)
        elif fact.kind in ("regions", "names"):
            option = click.option(fact.flag, fact.key, multiple=True, metavar=fact.metavar,
                                  help=help_text + " Repeatable.")
        else:
            option = click.option(fact.flag, fact.key, metavar=fact.metavar, help=help_text)
        func = option(func)
    return func


@click.command("init")
@click.argument("folder", default=".", type=click.Path(file_okay=False))
@_fact_options
@click.option("--no-recipients", is_flag=True, help="Nobody receives biometric data (states recipients = []).")
@click.option("--ledger", "ledger_name", metavar="FILE",
              help=f"The consent ledger to create, relative to FOLDER (default {DEFAULT_LEDGER}; an existing "
                   "ledger is kept).")
@click.option("--examples", is_flag=True,
              help=f"Also write {EXAMPLES}/: one example CSV per kind of ledger record, with every column, "
                   "valid as written.")
@click.option("--ask/--no-ask", default=None,
              help="Ask for each fact no flag gave (default: when standard input is a terminal).")
@click.option("--force", is_flag=True,
              help=f"Replace an existing {CONFIG} (the facts it states are kept unless given again) and example "
                   "files. A ledger is never replaced.")
def init_command(folder, no_recipients, ledger_name, examples, ask, force, **given):
    """Write FOLDER/.bipacheck.toml (the operator's attestation and `ledger = ...`) and an empty consent
    ledger, so that a plain `bipacheck audit PHOTOS` run in FOLDER needs no other flag.

    In a terminal it asks the facts that decide whether BIPA reaches the photos and the operator's own
    findings, each with why it matters and the section it decides; otherwise it takes the flags.
    Unanswered facts are written as commented placeholders: every audit reports them as review,
    naming the flag that states them.
    """
    answers = {key: _from_flag(value) for key, value in given.items()}
    if no_recipients:
        if answers.get("recipients"):
            raise click.UsageError("--no-recipients contradicts --recipient")
        answers["recipients"] = []
    if ask if ask is not None else sys.stdin.isatty():
        for fact in FACTS:
            if fact.asked and answers.get(fact.key) is None:
                answers[fact.key] = _ask(fact)
    try:
        result = init(folder, answers, ledger=ledger_name, examples=examples, force=force)
    except BipacheckError as exc:
        fail(str(exc))
    click.echo(f"wrote {result.config}" + (f" (states {', '.join(result.stated)})" if result.stated else ""))
    click.echo(f"{'created' if result.ledger_created else 'kept'} the consent ledger {result.ledger}")
    for path in result.examples:
        click.echo(f"wrote {path}")
    if result.unanswered:
        click.echo("unanswered, so every audit reports them as review until they are stated:")
        for fact in result.unanswered:
            click.echo(f"  {fact.key}: `{fact.command}`")
    click.echo(f"next: import your releases (`bipacheck ledger import {result.ledger} FILE`, columns as in "
               f"`bipacheck init --examples`), then run `bipacheck audit PHOTOS` in {folder}")


def _from_flag(value):
    """A flag's value as an answer (None: not given); a repeatable flag also takes commas, as the question does."""
    if not isinstance(value, tuple):
        return value
    return [part.strip() for item in value for part in item.split(",") if part.strip()] or None


def _ask(fact):
    """One question, asked again until the answer is usable; an empty answer leaves the fact unanswered."""
    click.echo(f"\n{fact.why}")
    return click.prompt(fact.question, default="", show_default=False, prompt_suffix=" ",
                        value_proc=lambda text: _answer(fact, text))


def _answer(fact, text: str):
    answer = text.strip()
    if not answer:
        return None
    try:
        if fact.kind == "yes-no":
            return {"y": True, "yes": True, "n": False, "no": False}[answer.lower()]
        if fact.kind == "names":
            return [] if answer.lower() in NONE else [part.strip() for part in answer.split(",") if part.strip()]
        if fact.kind == "regions":
            return [region(part, fact.flag) for part in answer.split(",") if part.strip()]
        if fact.kind == "date":
            parse_datetime(answer, fact.flag)
    except (KeyError, BipacheckError) as exc:
        raise click.BadParameter(str(exc) if isinstance(exc, BipacheckError) else "answer yes or no") from None
    return answer
