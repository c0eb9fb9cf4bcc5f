"""The report formats, by name: the registry the CLI's --format, the options and `--help` read.
Adding a format is its own module (a ReportFormat subclass) plus one line in FORMATS."""

from __future__ import annotations

import os

from ..errors import ConfigError
from ..outputs import REPORT_MODE
from .base import ReportFormat, write_atomic
from .html import HtmlFormat
from .json_report import JsonFormat, report_schema
from .sarif import SarifFormat
from .table import TableFormat
from .tabular import CsvFormat, MarkdownFormat

FORMATS: dict[str, type[ReportFormat]] = {
    f.name: f for f in (TableFormat, JsonFormat, SarifFormat, CsvFormat, MarkdownFormat, HtmlFormat)}

__all__ = ["FORMATS", "ReportFormat", "ensure_replaceable", "formatter", "is_bipacheck_report", "report_schema",
           "write_atomic", "write_report"]


def is_bipacheck_report(path: str) -> bool:
    """Is the file at `path` something bipacheck wrote as a report (so replacing it loses nothing)?
    Each format says how to recognise its own output from the first bytes."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(REPORT_SNIFF_BYTES)
    except OSError:
        return False
    if not head.strip():
        return True  # an empty file holds nothing to lose
    text = head.decode("utf-8", "replace")
    return any(fmt.recognises(text) for fmt in FORMATS.values())


REPORT_SNIFF_BYTES = 4096


def ensure_replaceable(path: str) -> None:
    """Refuse an --output that would replace anything but a previous bipacheck report (checked before
    the audit starts, and again when writing)."""
    if os.path.lexists(path) and (not os.path.isfile(path) or not is_bipacheck_report(path)):
        raise ConfigError(f"refusing to write the report over {path}: it exists and is not a bipacheck report "
                          "(a ledger, a cache or another file would be lost); choose another --output")


def write_report(path: str, text: str, mode: int = REPORT_MODE) -> None:
    """write_atomic (the file gets `mode`), refusing to replace anything that is not a previous
    bipacheck report."""
    ensure_replaceable(path)
    write_atomic(path, text, mode)


def formatter(name: str, opts=None) -> ReportFormat:
    """The format `name`; one with settings of its own (html) takes them from `opts` (Options) when given."""
    try:
        cls = FORMATS[name]
    except KeyError:
        raise ConfigError(f"unknown report format {name!r}; choose one of {', '.join(FORMATS)}") from None
    return cls.from_options(opts) if opts is not None else cls()
