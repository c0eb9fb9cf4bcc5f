"""What every command module shares: flags generated from bipacheck.options, the one way a command
fails (exit 2 with a message), and writing a result to --output or standard output. A leaf of the
CLI: command modules import it, never each other."""

from __future__ import annotations

import sys

import click

from ..exits import HELP as EXIT_HELP, Exit
from ..names import visible
from ..options import OPTIONS, build, flag_name, formats_for, names_for

__all__ = ["EXIT_HELP", "Exit", "build_options", "command_options", "emit", "fail", "visible_lines"]


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
