"""The one-line answer a reader wants first, shared by the markdown and HTML reports."""

from __future__ import annotations

from .model import Report


def verdict(report: Report) -> tuple[str, str]:
    """(level, sentence): level is 'fail', 'review', 'incomplete' or 'pass'. Baselined findings are
    accepted, so they do not count; files that could not be scanned are never a pass."""
    live = [f for f in report.findings if not f.suppressed]
    violations = sum(f.severity == "violation" for f in live)
    unscanned = sum(f.rule_id == "BIPACHECK-UNSCANNED" for f in live)
    review = sum(f.severity == "review" for f in live) - unscanned
    if violations:
        photos = len({f.path for f in live if f.severity == "violation"})
        return "fail", f"{violations} violation(s) in {photos} photo(s)"
    if review:
        return "review", f"no violations; {review} finding(s) need a person's review"
    if unscanned:
        return "incomplete", f"no violations found, but {unscanned} file(s) or frame(s) could not be scanned"
    return "pass", "no findings: every face has a valid release"
