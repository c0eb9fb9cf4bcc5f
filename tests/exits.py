"""The exit code a report must come with, worked out from the report itself (an oracle for the CLI
helpers: they assert the exact code instead of accepting any of 0, 1 and 3)."""

from __future__ import annotations

SEVERITIES = ("info", "review", "violation")


def expected_exit(report: dict) -> int:
    """1: a live finding at or above run.fail_on; else 3: a file not scanned or a face whose
    processing region nobody stated; else 0."""
    fail_on = report["run"].get("fail_on", "violation")
    live = [f for f in report["findings"] if "suppressed" not in f]
    if fail_on != "never" and any(SEVERITIES.index(f["severity"]) >= SEVERITIES.index(fail_on) for f in live):
        return 1

    def reach_unknown(finding: dict) -> bool:
        times = ((finding.get("details") or {}).get("exposure") or {}).get("processing") or []
        return finding["severity"] == "review" and bool(times) and all(t.get("territory") == "unknown" for t in times)

    unchecked = any(f["rule_id"] == "BIPACHECK-UNSCANNED" or reach_unknown(f) for f in live)
    return 3 if unchecked else 0


def expected_scan_exit(doc: dict) -> int:
    """scan: 3 when any file (or frame, or embedded image) was not scanned (sidecars are read with their
    photo), else 0."""
    partial = any(f["frames"]["scanned"] < f["frames"]["total"] for f in doc["files"] if "frames" in f)
    partial = partial or any(f.get("not_scanned") for f in doc["files"])
    skipped = any(s["reason"] != "sidecar-metadata" for s in doc["skipped"])
    return 3 if partial or skipped else 0
