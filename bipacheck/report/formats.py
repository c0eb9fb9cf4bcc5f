"""Output formats: one class per format with the same `render(report) -> str` method (pip-audit style)."""

from __future__ import annotations

import json
import os
import tempfile
from importlib import resources

from ..errors import ConfigError
from .model import Report


def report_schema() -> dict:
    """The versioned JSON Schema every JSON report follows (also `bipacheck schema`)."""
    return json.loads(resources.files("bipacheck.report").joinpath("schema.json").read_text("utf-8"))


class JsonFormat:
    name = "json"

    def render(self, report: Report) -> str:
        return json.dumps(report.as_dict(), indent=2, ensure_ascii=False) + "\n"

    @staticmethod
    def recognises(head: str) -> bool:
        return head.startswith('{\n  "schema_version": ') and '"name": "bipacheck"' in head


class TableFormat:
    """A readable summary for people: totals, exposure, then the worst photos first."""

    name = "table"

    def __init__(self, limit: int = 20):
        self.limit = limit

    def render(self, report: Report) -> str:
        s, run = report.summary, report.run
        exp = s["exposure"]
        from ..policy.exposure import exposure_lines
        from ..policy.pack_exposure import exposure_lines as pack_lines
        lines = [
            f"bipacheck audit - processing profile: {run['processing']['profile']}"
            f" ({'derives' if run['processing']['derives_identifiers'] else 'does not derive'} biometric identifiers)",
            f"as of {run['as_of']}; detector {run['detector']['detector']} on {run['detector'].get('runtime', 'opencv')} "
            f"(threshold {run['detector']['threshold']}, min face {run['min_face']} px); ledger {run['ledger']['path']}",
            f"files: {s['files_listed']} listed, {s['scanned']} scanned, {s['skipped']} skipped",
            f"faces: {s['faces']} in {s['photos_with_faces']} photos; {s['unconsented_faces']} without a valid "
            f"written release; {s['photos_with_violations']} photos with violations",
            *exposure_lines(exp),
            *(pack_lines(s["exposure_by_pack"]) if len(s.get("exposure_by_pack", {}).get("packs", {})) > 1 else []),
        ]
        by_photo: dict[str, list] = {}
        for f in report.findings:
            if not f.suppressed:
                by_photo.setdefault(f.path, []).append(f)
        rank = {"violation": 2, "review": 1, "info": 0}
        worst = sorted(by_photo.items(), key=lambda kv: (-max(rank[f.severity] for f in kv[1]), -len(kv[1]), kv[0]))
        if worst:
            lines.append("")
            lines.append("worst photos:")
        for path, items in worst[: self.limit]:
            lines.append(f"  {path}")
            for f in items:
                lines.append(f"    {f.severity.upper():9} {f.rule_id:24} {f.message}")
        if len(worst) > self.limit:
            lines.append(f"  ... and {len(worst) - self.limit} more photos (see --format json)")
        suppressed = sum(f.suppressed for f in report.findings)
        if suppressed:
            lines.append(f"{suppressed} finding(s) accepted in the baseline")
        return "\n".join(lines) + "\n"

    @staticmethod
    def recognises(head: str) -> bool:
        return head.startswith("bipacheck audit - ")


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


def write_report(path: str, text: str) -> None:
    """write_atomic, refusing to replace anything that is not a previous bipacheck report."""
    ensure_replaceable(path)
    write_atomic(path, text)


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


def _formats() -> dict:
    from .sarif import SarifFormat
    from .html import HtmlFormat
    from .tabular import CsvFormat, MarkdownFormat

    return {"table": TableFormat, "json": JsonFormat, "sarif": SarifFormat, "csv": CsvFormat,
            "markdown": MarkdownFormat, "html": HtmlFormat}


FORMATS = _formats()


def formatter(name: str, opts=None):
    """The format `name`; one with settings of its own (html) takes them from `opts` (Options) when given."""
    try:
        cls = FORMATS[name]
    except KeyError:
        raise ConfigError(f"unknown report format {name!r}; choose one of {', '.join(FORMATS)}") from None
    return cls.from_options(opts) if opts is not None and hasattr(cls, "from_options") else cls()
