"""SARIF 2.1.0 for CI and code-scanning dashboards: one rule per rule id, one result per finding,
face boxes as attachment rectangles in image pixels, baselined findings as suppressions."""

from __future__ import annotations

import json
from pathlib import PurePosixPath
from urllib.parse import quote

from ..names import json_visible, unprintable, visible_all
from .base import ReportFormat

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
LEVELS = {"violation": "error", "review": "warning", "info": "note"}
FINGERPRINT_KEY = "bipacheck/finding/v1"
ROOT = "ROOT"  # the uriBaseId of photo paths: relative to the audited root (run.root)


def artifact_uri(path: str) -> str:
    """A URI reference for a report path: bucket URLs as they are, names below the root percent-encoded
    (a printable name's backslash escapes too: `%5Cx0a` is not the `/` a separator would be)."""
    if "://" in path:
        scheme, rest = path.split("://", 1)
        return f"{scheme}://{quote(rest, safe='/')}"
    return quote(path.removeprefix("./"), safe="/")


def _pack_tags(rule) -> list[str]:
    """The pack's id and citation (BIPA's rules and the tool's own: BIPA, the law they serve first)."""
    if rule.pack in (None, "bipa"):
        return ["BIPA"]
    return [rule.pack, rule.pack_citation]


def _rule(rule) -> dict:
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": f"{rule.summary} ({rule.citation})"},
        "help": {"text": f"{rule.summary}\nCitation: {rule.citation} [{rule.mark}]\nFix: {rule.fix}",
                 "markdown": f"{rule.summary}\n\n**Citation:** {rule.citation}\n\n**Fix:** {rule.fix}"},
        "properties": {"citation": rule.citation, "mark": rule.mark,
                       "tags": ["privacy", "biometric", *_pack_tags(rule)]},
    }


def _visible_rule(rule: dict) -> dict:
    """A rule with its strings escaped, its help keeping the line breaks it is written with (each line
    escaped: the Markdown needs them to show its paragraphs)."""
    help_text = {key: "\n".join(visible_all(text.split("\n"))) for key, text in rule["help"].items()}
    return {**visible_all({k: v for k, v in rule.items() if k != "help"}), "help": help_text}


def _location(path: str, rooted: bool) -> dict:
    """An artifactLocation: a name below the audited root is relative to the run's ROOT base id."""
    uri = artifact_uri(path)
    return {"uri": uri, "uriBaseId": ROOT} if rooted and "://" not in uri and not uri.startswith("/") else {"uri": uri}


def root_uri(root: str) -> str:
    """run.root as the URI SARIF's originalUriBaseIds needs (a folder: ends with a slash)."""
    uri = root if "://" in root else PurePosixPath(unprintable(root)).as_uri()
    return uri if uri.endswith("/") else uri + "/"


def _when(face) -> str:
    """A video face's times (the rectangle is its box in the best frame)."""
    t = face.track
    return "" if t is None else (f" at {t['best_time_s']:.2f} s of the video, on screen "
                                 f"{t['start_s']:.2f}-{t['end_s']:.2f} s")


def _result(finding, rule_index: dict[str, int], rooted: bool = False) -> dict:
    location = _location(finding.path, rooted)
    result = {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index[finding.rule_id],
        "level": LEVELS[finding.severity],
        "message": {"text": finding.message},
        "locations": [{"physicalLocation": {"artifactLocation": location}}],
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
        "properties": {"severity": finding.severity, "citation": finding.citation, "sha256": finding.sha256},
    }
    timed = [f.track for f in finding.faces if f.track is not None]
    if len(timed) == 1:  # a video's face: when it is on screen, in seconds (the message says it too)
        result["properties"]["video"] = {k: timed[0][k] for k in ("start_s", "end_s", "best_time_s")}
    elif timed:
        result["properties"]["video"] = [{k: t[k] for k in ("start_s", "end_s", "best_time_s")} for t in timed]
    if finding.faces:
        result["attachments"] = [{
            "description": {"text": "face boxes in image pixels (upright)"},
            "artifactLocation": location,
            "rectangles": [{
                "left": f.box[0], "top": f.box[1], "right": f.box[0] + f.box[2], "bottom": f.box[1] + f.box[3],
                "message": {"text": f"face{_when(f)} (score {'n/a' if f.score is None else f'{f.score:.2f}'}, "
                                    f"subject {f.subject_id or 'unidentified'}, release {f.consent_status})"},
            } for f in finding.faces],
        }]
    if finding.baseline_state:
        result["baselineState"] = finding.baseline_state
    if finding.suppressed:
        result["suppressions"] = [{"kind": "external", "state": "accepted",
                                   "justification": finding.justification or "accepted in the bipacheck baseline"}]
    return result


class SarifFormat(ReportFormat):
    name = "sarif"

    def render(self, report) -> str:
        rule_ids = report.rules.ids()
        index = {rid: i for i, rid in enumerate(rule_ids)}
        root = report.run.get("root")
        results = [_result(f, index, bool(root)) for f in report.findings]
        for stale in (report.run.get("baseline") or {}).get("stale", []):
            rid = stale.get("rule_id") if stale.get("rule_id") in index else "BIPACHECK-UNSCANNED"
            results.append({
                "ruleId": rid, "ruleIndex": index[rid], "level": "none", "baselineState": "absent",
                "message": {"text": "Baseline entry no longer matches any finding (stale)."},
                "partialFingerprints": {FINGERPRINT_KEY: stale["fingerprint"]},
            })
        run = {
            "tool": {"driver": {
                "name": "bipacheck", "version": report.tool.get("version", ""),
                "informationUri": "https://pypi.org/project/bipacheck/",
                "rules": [_rule(rule) for rule in report.rules],
            }},
            "invocations": [{
                "executionSuccessful": True,
                "startTimeUtc": report.run["started_at"].replace("+00:00", "Z"),
                "endTimeUtc": report.run["finished_at"].replace("+00:00", "Z"),
                "toolExecutionNotifications": [
                    {"level": "warning", "message": {"text": f"{s['path']}: not scanned ({s['reason']}): {s['message']}"}}
                    for s in report.skipped],
            }],
            "results": results,
            "properties": {"processing": report.run["processing"]["profile"], "summary": report.summary},
        }
        if root:
            run["originalUriBaseIds"] = {ROOT: {"uri": root_uri(root), "description": {
                "text": "the audited root: every photo is named by its path below it"}}}
        rules = run["tool"]["driver"].pop("rules")
        # viewers show these strings as they are: control and bidi characters escaped visibly
        doc = visible_all({"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]})
        doc["runs"][0]["tool"]["driver"]["rules"] = [_visible_rule(rule) for rule in rules]
        return json_visible(json.dumps(doc, indent=2, ensure_ascii=False)) + "\n"

    @staticmethod
    def recognises(head: str) -> bool:
        return head.startswith('{\n  "$schema": "' + SARIF_SCHEMA) and '"name": "bipacheck"' in head
