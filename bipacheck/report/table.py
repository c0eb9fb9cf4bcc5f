"""`--format table`: a readable summary for people in a terminal. The operator's findings first, then
the photos worst first with their faces grouped per rule, then the verdict: counts, exposure, the
exit code and what it means, and the next step."""

from __future__ import annotations

import os
import textwrap

from ..exits import MEANINGS
from ..findings import SEVERITIES
from ..names import visible
from .base import ReportFormat
from .verdict import about_operator, exposure_lines, next_step, pack_exposure_lines as pack_lines, verdict

RANK = {severity: rank for rank, severity in enumerate(SEVERITIES)}
BOXES_SHOWN = 5  # faces named per line; a crowd is counted, not listed
WIDTH = 100


class TableFormat(ReportFormat):
    """A readable summary for people: the operator, the worst photos, then the verdict."""

    name = "table"

    def __init__(self, limit: int = 20):
        self.limit = limit

    def render(self, report) -> str:
        s, run = report.summary, report.run
        lines = [
            f"bipacheck audit - processing profile: {run['processing']['profile']}"
            f" ({'derives' if run['processing']['derives_identifiers'] else 'does not derive'} biometric identifiers)",
            f"as of {run['as_of']}; detector {run['detector']['detector']} on "
            f"{run['detector'].get('runtime', 'opencv')} (threshold {run['detector']['threshold']}, min face "
            f"{run['min_face']} px); ledger {_shown(run['ledger']['path'])}",
            f"files: {s['files_listed']} listed, {s['scanned']} scanned, {s['skipped']} skipped",
            f"faces: {s['faces']} in {s['photos_with_faces']} photos; {s['unconsented_faces']} without a valid "
            f"written release; {s['photos_with_violations']} photos with violations",
        ]
        live = [f for f in report.findings if not f.suppressed]
        operator = [f for f in live if about_operator(f)]
        if operator:
            source = (run.get("attestation") or {}).get("source") or "no attestation"
            lines += ["", f"the operator ({source}):"]
            lines += [_line(f.severity, f.rule_id, f.message) for f in _worst_first(operator)]
        lines += self._photos([f for f in live if not about_operator(f)], report.photos)
        # a name cannot drive the terminal: control and bidi characters are shown escaped
        text = "\n".join(lines + [""] + _verdict_block(report))  # some entries are wrapped over several lines
        return "".join(visible(line) + "\n" for line in text.split("\n"))

    def _photos(self, findings: list, photos: list[dict]) -> list[str]:
        by_photo: dict[str, list] = {}
        for f in findings:
            by_photo.setdefault(f.path, []).append(f)
        if not by_photo:
            return []
        faces = {p["path"]: p["faces"] for p in photos}
        worst = sorted(by_photo.items(), key=lambda kv: (-max(RANK[f.severity] for f in kv[1]), -len(kv[1]), kv[0]))
        lines = ["", "photos, worst first:"]
        for path, items in worst[: self.limit]:
            count = faces.get(path)
            lines.append(f"  {path}" + (f" ({count} face{'s' if count != 1 else ''})" if count else ""))
            lines += [_grouped(group) for group in _by_rule(items)]
        if len(worst) > self.limit:
            lines.append(f"  ... and {len(worst) - self.limit} more photos (see --format json)")
        return lines

    @staticmethod
    def recognises(head: str) -> bool:
        return head.startswith("bipacheck audit - ")


def _shown(path: str | None) -> str | None:
    """A local path as the reader typed it: relative to the current folder when it lies below it."""
    if path is None or "://" in path:
        return path
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


def _line(severity: str, rule_id: str, text: str) -> str:
    return _wrapped(f"{severity.upper()} {rule_id}: {text}", "    ", "        ")


def _wrapped(text: str, first: str, rest: str) -> str:
    """Lines of at most WIDTH characters, so a report reads the same in a terminal, a file or a CI log."""
    return textwrap.fill(text, width=WIDTH, initial_indent=first, subsequent_indent=rest, break_on_hyphens=False,
                         break_long_words=False)


def _worst_first(findings: list) -> list:
    return sorted(findings, key=lambda f: -RANK[f.severity])  # stable: report order within a severity


def _by_rule(findings: list) -> list[list]:
    """The photo's findings grouped by severity and rule, worst first."""
    groups: dict[tuple[str, str], list] = {}
    for f in _worst_first(findings):
        groups.setdefault((f.severity, f.rule_id), []).append(f)
    return list(groups.values())


def _grouped(group: list) -> str:
    """One line per rule: a single finding's own message, or the faces it concerns and the rule."""
    first = group[0]
    if len(group) == 1:
        return _line(first.severity, first.rule_id, first.message)
    faces = [face for f in group for face in f.faces]
    named = [f"{face.subject_id or 'unidentified'} at {face.box}" for face in faces[:BOXES_SHOWN]]
    more = f" and {len(faces) - BOXES_SHOWN} more" if len(faces) > BOXES_SHOWN else ""
    who = f"{len(faces)} faces ({'; '.join(named)}{more})" if faces else f"{len(group)} findings"
    return _line(first.severity, first.rule_id, f"{who}: {first.rule.summary}")


def _verdict_block(report) -> list[str]:
    s = report.summary
    level, sentence = verdict(report)
    counts = ", ".join(f"{s['findings_by_severity'].get(sev, 0) - _accepted(report, sev)} {sev}"
                       for sev in reversed(SEVERITIES))
    accepted = sum(f.suppressed for f in report.findings)
    lines = [f"verdict: {level.upper()}: {sentence}",
             f"  findings: {counts}" + (f" (and {accepted} accepted in the baseline)" if accepted else ""),
             *("  " + line for line in exposure_lines(s["exposure"])),
             *("  " + line for line in (pack_lines(s["exposure_by_pack"])
                                        if len(s.get("exposure_by_pack", {}).get("packs", {})) > 1 else [])),
             f"  exit code {report.exit_code}: {MEANINGS[report.exit_code]}"
             + (f" ({report.fail_on})" if report.exit_code == 1 else "")]
    step = next_step(report)
    if step:
        lines.append(_wrapped(f"next step: {step}", "  ", "    "))
    return lines


def _accepted(report, severity: str) -> int:
    return sum(f.suppressed and f.severity == severity for f in report.findings)
