"""`--format table`: a readable summary for people in a terminal."""

from __future__ import annotations

from ..names import visible
from .base import ReportFormat
from .verdict import exposure_lines, pack_exposure_lines as pack_lines


class TableFormat(ReportFormat):
    """A readable summary for people: totals, exposure, then the worst photos first."""

    name = "table"

    def __init__(self, limit: int = 20):
        self.limit = limit

    def render(self, report) -> str:
        s, run = report.summary, report.run
        exp = s["exposure"]
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
        return "".join(visible(line) + "\n" for line in lines)  # a name cannot drive the terminal

    @staticmethod
    def recognises(head: str) -> bool:
        return head.startswith("bipacheck audit - ")
