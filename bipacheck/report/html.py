"""`--format html`: one self-contained file a legal team can open and mail.

Inline CSS, JS and SVG only, and a Content-Security-Policy that forbids the browser any request
(thumbnails are data: URIs) and runs no inline code but the report's own script and style (allowed
by their hashes). Verdict, summary and run settings are plain HTML; the findings,
grouped by photo, and the person roll-up are drawn by the inline script from an embedded JSON
document, a page at a time, so a report of 10,000 findings opens quickly. Faces without a valid
release are blurred on screen until the reader reveals them; `thumbnails="blurred"` blurs them in the
thumbnail's pixels instead (nothing to reveal), `"none"` leaves every pixel out (boxes on a blank frame).
"""

from __future__ import annotations

import base64
import hashlib
import json
from html import escape as html_escape
from importlib import resources

from .base import ReportFormat
from .persons import persons_roll_up
from ..imaging import DEFAULT_MAX_PIXELS
from ..names import visible, visible_all
from .thumbnails import make_thumbnails
from .verdict import about_operator, exposure_rows, pack_rows, unconsented_persons, verdict

THUMBNAIL_MODES = ("embed", "blurred", "none")


def _source_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def content_security_policy(script: str, style: str) -> str:
    """No request of any kind, and no inline code but the report's own script and style, allowed by
    their SHA-256 (no 'unsafe-inline'): markup a hostile name smuggled into the page could not run."""
    return (f"default-src 'none'; img-src data:; style-src {_source_hash(style)}; "
            f"script-src {_source_hash(script)}; base-uri 'none'; form-action 'none'")


_RANK = {"violation": 3, "review": 2, "info": 1, "consented": 0}


def escape(text: str) -> str:
    """HTML text with control and bidi characters visibly escaped (a name cannot reorder the page)."""
    return html_escape(visible(str(text)))


def _asset(name: str) -> str:
    return resources.files("bipacheck.report").joinpath(name).read_text("utf-8")


def face_status(face, findings: list) -> str:
    """Colour of a box: the worst live finding on it, else consented (valid release) or info."""
    severities = {f.severity for f in findings if not f.suppressed}
    if "violation" in severities:
        return "violation"
    if "review" in severities:
        return "review"
    return "consented" if face["consent_status"] == "valid" else "info"


def _photo_groups(report) -> list[dict]:
    rows = {p["path"]: p for p in report.photos}
    by_path: dict[str, list] = {}
    for f in report.findings:
        if not about_operator(f):  # those have a section of their own
            by_path.setdefault(f.path, []).append(f)
    groups = []
    for path in dict.fromkeys([*rows, *by_path]):
        row, findings = rows.get(path), by_path.get(path, [])
        faces = [dict(face) for face in (row or {}).get("face_records", [])]
        on_face: list[list] = [[] for _ in faces]
        items = []
        for f in findings:
            indices = []
            for face in f.faces:
                box = list(face.box)
                index = next((i for i, known in enumerate(faces) if known["box"] == box), None)
                if index is None:  # a face only findings know (e.g. low confidence)
                    faces.append(face.as_dict())
                    on_face.append([])
                    index = len(faces) - 1
                on_face[index].append(f)
                indices.append(index)
            items.append({"rule": f.rule_id, "severity": f.severity, "citation": f.citation,
                          "pack": f.pack or "bipacheck", "message": f.message, "fingerprint": f.fingerprint,
                          "faces": indices, "suppressed": f.suppressed, "justification": f.justification,
                          "baseline_state": f.baseline_state})
        if not faces and not items:
            continue
        for face, face_findings in zip(faces, on_face):
            face["status"] = face_status(face, face_findings)
            face["blur"] = face["consent_status"] != "valid"
        if row is not None and row.get("kind") == "video" and faces:
            groups.extend(_track_groups(path, row, faces, items))
            continue
        statuses = [face["status"] for face in faces] + [i["severity"] for i in items if not i["suppressed"]]
        groups.append({"path": path, "row": row, "faces": faces, "findings": items,
                       "worst": max(statuses, key=_RANK.get, default="info")})
    groups.sort(key=lambda g: (-_RANK[g["worst"]], g["path"]))
    return groups


def _track_groups(path: str, row: dict, faces: list[dict], items: list[dict]) -> list[dict]:
    """A video with faces: one group per face (track), shown on its keyframe (the frame at the
    track's best time) with the times; findings about the whole video go with the first."""
    groups = []
    for i, face in enumerate(faces):
        track = face.get("track")
        mine = [{**item, "faces": [0]} for item in items if i in item["faces"]]
        if i == 0:
            mine += [item for item in items if not item["faces"]]
        when = (f"track {track['track']}: on screen {track['start_s']:.2f}-{track['end_s']:.2f} s; keyframe at "
                f"{track['best_time_s']:.2f} s (the box)" if track else "a face the ledger links to this video")
        statuses = [face["status"]] + [item["severity"] for item in mine if not item["suppressed"]]
        groups.append({"path": path, "row": row, "faces": [face], "findings": mine, "when": when,
                       "time_s": track["best_time_s"] if track else None,
                       "worst": max(statuses, key=_RANK.get, default="info")})
    return groups


class HtmlFormat(ReportFormat):
    name = "html"

    def __init__(self, thumbnails: str = "embed", endpoint_url: str | None = None):
        if thumbnails not in THUMBNAIL_MODES:
            raise ValueError(f"thumbnails must be one of {THUMBNAIL_MODES}, got {thumbnails!r}")
        self.thumbnails, self.endpoint_url = thumbnails, endpoint_url

    @classmethod
    def from_options(cls, opts) -> "HtmlFormat":
        return cls(opts.html_thumbnails, opts.endpoint_url)

    @staticmethod
    def recognises(head: str) -> bool:
        return head.startswith("<!DOCTYPE html>") and "<title>bipacheck report: " in head

    def _photos(self, report) -> list[dict]:
        groups = _photo_groups(report)
        scanned = [g for g in groups if g["row"] is not None]
        if self.thumbnails != "none":
            # blurred: faces without a release are blurred in the pixels themselves (no reveal possible)
            blur = [[f["box"] for f in g["faces"] if f["blur"]] if self.thumbnails == "blurred" else ()
                    for g in scanned]
            thumbs = make_thumbnails([g["row"] for g in scanned], report.run.get("max_pixels") or DEFAULT_MAX_PIXELS,
                                     self.endpoint_url, blur, report.run.get("root"),
                                     [g.get("time_s") for g in scanned])
        for group in groups:
            row = group.pop("row")
            if row is None:
                group.update(width=None, height=None, thumb=None, note="not scanned: no thumbnail")
            else:
                group.update(width=row["width"], height=row["height"], sha256=row["sha256"], thumb=None, note="")
        if self.thumbnails != "none":
            for group, thumb in zip(scanned, thumbs):
                group["thumb"], group["note"] = thumb.uri, thumb.note
        return groups

    def render(self, report) -> str:
        findings = [f.as_dict() for f in report.findings]
        data = {"photos": self._photos(report), "persons": persons_roll_up(findings, report.photos),
                "thumbnails": self.thumbnails}
        payload = json.dumps(visible_all(data), ensure_ascii=False, separators=(",", ":"))
        payload = payload.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        level, sentence = verdict(report)
        script, style = _asset("html_report.js"), _asset("html_report.css")
        return "".join([
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
            f"<meta http-equiv=\"Content-Security-Policy\" content=\"{content_security_policy(script, style)}\">",
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
            "<meta name=\"referrer\" content=\"no-referrer\">",
            f"<title>bipacheck report: {escape(sentence)}</title><style>{style}</style></head>",
            "<body>",
            f"<header class=\"verdict {level}\" id=\"verdict\"><h1>{escape(sentence)}</h1>",
            f"<p>bipacheck {escape(report.tool.get('version', ''))} audit, as of {escape(report.run['as_of'])}, "
            f"processing profile <b>{escape(report.run['processing']['profile'])}</b>. "
            "Estimates are not legal advice.</p></header>",
            _summary(report), _operator(report), _skipped(report),
            "<section id=\"findings\"><h2>Findings by photo</h2>"
            "<noscript><p>The findings and persons are drawn by the report's inline script; the JSON report "
            "holds the same data.</p></noscript><div id=\"filters\"></div><div id=\"photos\"></div></section>",
            "<section id=\"persons\"><h2>Persons</h2><div id=\"person-table\"></div></section>",
            _settings(report),
            f"<script type=\"application/json\" id=\"report-data\">{payload}</script>",
            f"<script>{script}</script></body></html>\n",
        ])


def _table(rows: list[tuple[str, object]], cls: str = "kv") -> str:
    body = "".join(f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>" for k, v in rows)
    return f"<table class=\"{cls}\">{body}</table>"


def _summary(report) -> str:
    s = report.summary
    exp = s["exposure"]
    cards = [("Files", s["files_listed"]), ("Scanned", s["scanned"]), ("Skipped", s["skipped"]),
             ("Faces", s["faces"]), ("Without a valid release", s["unconsented_faces"]),
             ("Unconsented persons", unconsented_persons(exp)), ("Photos with violations", s["photos_with_violations"])]
    html = "".join(f"<div class=\"card\" data-key=\"{escape(k)}\"><b>{escape(str(v))}</b><span>{escape(k)}</span></div>"
                   for k, v in cards)
    rows = "".join("<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in exposure_rows(exp))
    exposure = (f"<table class=\"grid\" id=\"exposure\"><tr><th>What</th><th>Count</th><th>Negligent</th>"
                f"<th>Reckless</th></tr>{rows}</table>")
    by_pack = ""
    if pack_rows(s):
        cells = "".join("<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in pack_rows(s))
        by_pack = (f"<h3>Exposure per jurisdiction pack (never added across packs)</h3><table class=\"grid\" "
                   f"id=\"exposure-by-pack\"><tr><th>Pack</th><th>Enforcement</th><th>Violations</th><th>Amount</th>"
                   f"</tr>{cells}</table><p class=\"note\">{escape(s['exposure_by_pack']['note'])}</p>")
    return (f"<section id=\"summary\"><h2>Summary</h2><div class=\"cards\">{html}</div>"
            f"<h3>Exposure estimate ({escape(exp['currency'])}, not legal advice)</h3>{exposure}"
            f"<p class=\"note\">{escape(exp['note'])}</p>{by_pack}</section>")


def _operator(report) -> str:
    """Findings about the operator (the attestation: policy, profit, disclosure, care), not a photo."""
    found = [f for f in report.findings if about_operator(f)]
    if not found:
        return ""
    rows = "".join(
        f"<tr data-rule=\"{escape(f.rule_id)}\"><td><span class=\"sev {'accepted' if f.suppressed else f.severity}\">"
        f"{'accepted' if f.suppressed else f.severity}</span></td><td><code>{escape(f.rule_id)}</code></td>"
        f"<td>{escape(f.citation)}</td><td>{escape(f.message)}</td><td>{escape(f.path)}</td></tr>" for f in found)
    return (f"<section id=\"operator\"><h2>About the operator ({len(found)})</h2><table class=\"grid\">"
            f"<tr><th>Severity</th><th>Rule</th><th>Citation</th><th>Finding</th><th>Where</th></tr>{rows}</table>"
            "</section>")


def _skipped(report) -> str:
    if not report.skipped:
        return ""
    rows = "".join(f"<tr><td>{escape(s['path'])}</td><td>{escape(s['reason'])}</td><td>{escape(s['message'])}</td></tr>"
                   for s in report.skipped)
    return (f"<section id=\"skipped\"><h2>Skipped files ({len(report.skipped)})</h2><table class=\"grid\">"
            f"<tr><th>File</th><th>Reason</th><th>Message</th></tr>{rows}</table></section>")


def _settings(report) -> str:
    run = report.run
    det, ledger, proc = run["detector"], run["ledger"], run["processing"]
    rows = [("Sources", ", ".join(run["sources"]) or "-"), ("Started", run["started_at"]),
            ("Finished", run["finished_at"]), ("As of", run["as_of"]),
            ("Processing profile", f"{proc['profile']}: {proc['explanation']}"),
            ("Consent scope", proc.get("consent_scope", "-")),
            ("Detector", f"{det['detector']} on {det.get('runtime', 'opencv')}"),
            ("Model SHA-256", det.get("model_sha256", "-")), ("Threshold", det["threshold"]),
            ("Review threshold", det["review_threshold"]), ("Minimum face (px)", run["min_face"]),
            ("Maximum pixels", run.get("max_pixels", "-")), ("Ledger", ledger.get("path") or "none"),
            ("Ledger SHA-256", ledger.get("sha256") or "-"),
            ("Ledger event log head", f"#{ledger['head_event']} {ledger['head_hash']}" if ledger.get("head_hash") else "-")]
    if run.get("baseline"):
        rows.append(("Baseline", json.dumps(run["baseline"], ensure_ascii=False)[:500]))
    return f"<section id=\"settings\"><h2>Run settings</h2>{_table(rows)}</section>"
