"""What every report format is: a name, `render(report) -> str`, and a way to recognise its own
output (so `--output` may replace a previous report and nothing else). report/formats.py lists them."""

from __future__ import annotations

import os
import tempfile


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


def write_atomic(path: str, text: str) -> None:
    """Write the whole report or nothing: a crash never leaves half a file under the real name."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".bipacheck-", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
