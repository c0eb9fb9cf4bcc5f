"""What every report format is: a name, `render(report) -> str`, and a way to recognise its own
output (so `--output` may replace a previous report and nothing else). report/formats.py lists them."""

from __future__ import annotations

from ..outputs import write_atomic  # noqa: F401 - where report formats write from


class ReportFormat:
    """Base class of the output formats (pip-audit style: one class per format, same methods).

    render() takes a bipacheck.report.model.Report. A format with settings of its own overrides
    from_options() to read them from the audit's Options (html: thumbnails)."""

    name: str = ""

    def render(self, report) -> str:
        raise NotImplementedError

    @staticmethod
    def recognises(head: str) -> bool:
        """Does a file starting with `head` (the first few KB as text) hold this format's output?"""
        raise NotImplementedError

    @classmethod
    def from_options(cls, opts) -> "ReportFormat":
        return cls()
