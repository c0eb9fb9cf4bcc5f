"""What every command module shares: flags generated from bipacheck.options, the one way a command
fails (exit 2 with a message), and writing a result to --output or standard output. A leaf of the
CLI: command modules import it, never each other."""

from __future__ import annotations

import inspect
import sys

import click

from ..exits import HELP as EXIT_HELP, Exit
from ..names import visible
from ..options import OPTIONS, build, flag_name, formats_for, help_for, names_for

__all__ = ["Exit", "build_options", "command_options", "emit", "fail", "visible_lines", "warn", "with_exit_help"]


def warn(message: str) -> None:
    click.echo(f"Warning: {message}", err=True)


def with_exit_help(command: click.Command) -> click.Command:
    """Append the exit-code table to a command's help. The docstring is dedented first: click
    dedents only a help it was given whole, and an indented paragraph gets rewrapped with its
    indentation kept inside the lines."""
    command.help = inspect.cleandoc(command.help or "") + "\n\n" + EXIT_HELP
    return command


class _Date(click.ParamType):
    """An ISO 8601 date or date-time; bipacheck.options parses it (the same rule as the config file)."""

    name = "date"

    def convert(self, value, param, ctx):
        return value


class _Option(click.Option):
    """A flag whose default is "not given" (so the config file can decide) but whose --help shows
    the default that then applies, without click's parentheses for a described default."""

    def __init__(self, *args, shown_default: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.shown_default = shown_default

    def get_help_extra(self, ctx):
        extra = super().get_help_extra(ctx)
        if self.shown_default is not None:
            extra["default"] = self.shown_default
        return extra


def _click_type(parse):
    """The click parameter type for an option's parser (see options._typed): typed flags show
    INTEGER, FLOAT or DATE in --help and refuse a malformed value before anything runs."""
    kind, bounds = getattr(parse, "value_type", (None, {}))
    if kind == "int":
        return click.IntRange(**bounds)
    if kind == "float":
        return click.FloatRange(**bounds)
    if kind == "date":
        return _Date()
    return None


def _shown_default(name: str, command: str) -> str | None:
    """What --help names as the default of a flag (None: nothing worth showing)."""
    meta = OPTIONS[name].metadata
    if name == "format":
        return formats_for(command)[0]
    if meta["flag"] or not meta["show_default"]:
        return None
    if isinstance(meta["show_default"], str):
        return meta["show_default"]
    default = OPTIONS[name].default
    return None if default in (None, ()) else str(default)


def fail(message: str) -> None:
    """Usage or configuration error: nothing was done (exit 2)."""
    click.echo(visible_lines(f"Error: {message}"), err=True)
    sys.exit(Exit.ERROR)


def visible_lines(text: str) -> str:
    """Text for the terminal: line breaks kept, every other control or bidi character escaped."""
    return "\n".join(visible(line) for line in text.split("\n"))


def command_options(command: str, only: tuple[str, ...] | None = None):
    """The flags of `command`, generated from bipacheck.options (the API keywords and config keys
    are the same names), plus --config / --no-config. Every flag defaults to "not given", so the
    config file and then the option's default decide. only: just these of them (for `redact`)."""
    def decorate(func):
        for name in reversed([n for n in names_for(command) if only is None or n in only]):
            f = OPTIONS[name]
            meta = f.metadata
            if not meta["cli"]:
                continue  # a table only a config file or a keyword can give (the attestation)
            decls = [flag_name(name), *([meta["short"]] if meta["short"] else []), name]
            kwargs: dict = {"default": None, "help": help_for(name, command), "metavar": meta["metavar"]}
            if meta["flag"]:
                kwargs["is_flag"] = True
            if meta["multiple"]:
                kwargs["multiple"] = True
            if name == "format":
                kwargs["type"] = click.Choice(formats_for(command))
            elif meta["choices"]:
                kwargs["type"] = click.Choice(meta["choices"]())
            elif _click_type(meta["parse"]) is not None:
                kwargs["type"] = _click_type(meta["parse"])
            shown = _shown_default(name, command)
            if shown is not None:
                kwargs.update(show_default=True, shown_default=shown)
            func = click.option(*decls, cls=_Option, **kwargs)(func)
        func = click.option("--no-config", is_flag=True,
                            help="Ignore .bipacheck.toml / [tool.bipacheck] in pyproject.toml.")(func)
        func = click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None,
                            help="Read settings from this file instead of the nearest .bipacheck.toml or "
                                 "pyproject.toml [tool.bipacheck] (flags override it).")(func)
        return func
    return decorate


def build_options(command: str, params: dict):
    """Options from the flags that were given over the config file over the defaults."""
    given = {k: v for k, v in params.items() if k in OPTIONS and v not in (None, ())}
    config = False if params.get("no_config") else (params.get("config_file") or True)
    return build(command, given, config=config)[0]


def emit(result, output: str | None, fmt: str, opts=None) -> None:
    """Write `result` (a Report or ScanReport) to --output, or print it. opts: the command's Options,
    for the file's mode and the settings of its own that a format may have (html)."""
    if output:
        result.write(output, fmt, opts=opts)
        click.echo(visible_lines(f"report written to {output}"), err=True)
    else:
        click.echo(result.render(fmt, opts), nl=False)
