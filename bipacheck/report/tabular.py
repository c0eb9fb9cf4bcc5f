"""CSV (one row per finding, for spreadsheets) and Markdown (a summary for a pull-request comment
or a CI job summary)."""

from __future__ import annotations

import csv
import io

from ..csv_cells import neutralize
from ..names import visible
from .base import ReportFormat
from .verdict import exposure_rows, pack_rows, unconsented_persons, verdict

CSV_COLUMNS = ["photo", "sha256", "rule_id", "pack", "severity", "citation", "message", "fingerprint", "boxes",
               "subject_ids", "consent_status", "consent_ids", "granted_at", "expires_at", "revoked_at",
               "evidence_uri", "baseline_state", "suppressed"]
# since report schema 2.7.0, after the columns above (a report written before still counts as one):
# a video face's times in seconds, per face as the other face columns
VIDEO_COLUMNS = ["start_s", "end_s", "best_time_s"]


def _faces(finding, get) -> str:
    return "; ".join("" if get(f) is None else str(get(f)) for f in finding.faces)


def _consent(key: str):
    return lambda face: (face.consent or {}).get(key)


def _time(key: str):
    return lambda face: (face.track or {}).get(key)


def video_times(finding) -> str:
    """A finding's video faces' times, "start-end s (best at t s)", one per face; "" for a photo's."""
    return "; ".join(f"{f.track['start_s']:.2f}-{f.track['end_s']:.2f} s (best at {f.track['best_time_s']:.2f} s)"
                     for f in finding.faces if f.track is not None)


class CsvFormat(ReportFormat):
    name = "csv"

    def render(self, report) -> str:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(CSV_COLUMNS + VIDEO_COLUMNS)
        for f in report.findings:
            row = [f.path, f.sha256 or "", f.rule_id, f.pack or "bipacheck", f.severity, f.citation, f.message,
                   f.fingerprint, _faces(f, lambda face: " ".join(map(str, face.box))),
                   _faces(f, lambda face: face.subject_id), _faces(f, lambda face: face.consent_status),
                   _faces(f, lambda face: face.consent_id), _faces(f, _consent("granted_at")),
                   _faces(f, _consent("expires_at")), _faces(f, _consent("revoked_at")),
                   _faces(f, _consent("evidence_uri")), f.baseline_state or "", "yes" if f.suppressed else "",
                   *(_faces(f, _time(key)) if any(face.track for face in f.faces) else "" for key in VIDEO_COLUMNS)]
            writer.writerow([neutralize(visible(str(cell))) for cell in row])  # names come from uploaders
        return buf.getvalue()

    @staticmethod
    def recognises(head: str) -> bool:
        return head.startswith(",".join(CSV_COLUMNS))


def md_escape(text: str) -> str:
    """Plain text inside a Markdown table cell: no markup, links, HTML, mentions, line breaks or bidi controls."""
    out = visible(str(text).replace("\r", " ").replace("\n", " "))
    for ch in "\\`*_[]|#!~":
        out = out.replace(ch, "\\" + ch)
    return out.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("@", "&#64;")


class MarkdownFormat(ReportFormat):
    """Short enough for a PR comment: verdict, totals, rules, then the photos with findings."""

    name = "markdown"
    ICONS = {"fail": "❌", "review": "⚠️", "incomplete": "⚠️", "pass": "✅"}

    def __init__(self, limit: int = 50):
        self.limit = limit

    def render(self, report) -> str:
        level, sentence = verdict(report)
        s, run = report.summary, report.run
        exp = s["exposure"]
        lines = [
            f"## {self.ICONS[level]} bipacheck: {md_escape(sentence)}",
            "",
            f"Processing profile **{md_escape(run['processing']['profile'])}**, as of {run['as_of'][:10]}, "
            f"detector {md_escape(run['detector']['detector'])} (threshold {run['detector']['threshold']}).",
            "",
            "| Files | Scanned | Skipped | Faces | Without a valid release | Unconsented persons | Photos with violations |",
            "|---:|---:|---:|---:|---:|---:|---:|",
            f"| {s['files_listed']} | {s['scanned']} | {s['skipped']} | {s['faces']} | {s['unconsented_faces']} "
            f"| {unconsented_persons(exp)} | {s['photos_with_violations']} |",
            "",
            "| Exposure estimate (not legal advice) | Count | Negligent | Reckless |",
            "|---|---:|---:|---:|",
            *(f"| {md_escape(what)} | {count} | {neg} | {reck} |" for what, count, neg, reck in exposure_rows(exp)),
        ]
        if pack_rows(s):
            lines += ["", "| Jurisdiction pack (figures never added across packs) | Enforcement | Violations | Amount |",
                      "|---|---|---:|---|",
                      *(f"| {' | '.join(md_escape(cell) for cell in row)} |" for row in pack_rows(s))]
        by_rule = s.get("findings_by_rule") or {}
        if by_rule:
            lines += ["", "| Rule | Findings |", "|---|---:|"]
            lines += [f"| `{rule}` | {count} |" for rule, count in by_rule.items()]
        live = [f for f in report.findings if not f.suppressed]
        if live:
            lines += ["", "| Severity | Rule | Photo | Subject | On screen (video) | Message |",
                      "|---|---|---|---|---|---|"]
            rank = {"violation": 0, "review": 1, "info": 2}
            for f in sorted(live, key=lambda f: (rank[f.severity], f.path, f.rule_id))[: self.limit]:
                subjects = ", ".join(face.subject_id or "unidentified" for face in f.faces) or "-"
                lines.append(f"| {f.severity} | `{f.rule_id}` | {md_escape(f.path)} | {md_escape(subjects)} "
                             f"| {md_escape(video_times(f)) or '-'} | {md_escape(f.message)} |")
            if len(live) > self.limit:
                lines.append(f"\n… and {len(live) - self.limit} more finding(s): see the JSON or HTML report.")
        suppressed = len(report.findings) - len(live)
        if suppressed:
            lines += ["", f"{suppressed} finding(s) accepted in the baseline."]
        return "\n".join(lines) + "\n"

    @staticmethod
    def recognises(head: str) -> bool:
        first = head.split("\n", 1)[0]
        return first.startswith("## ") and " bipacheck: " in first
