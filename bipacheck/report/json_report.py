"""`--format json`: the legal team's report, following the versioned JSON Schema shipped beside it."""

from __future__ import annotations

import json
from importlib import resources

from ..names import json_visible
from .base import ReportFormat


def report_schema() -> dict:
    """The versioned JSON Schema every JSON report follows (also `bipacheck schema`)."""
    return json.loads(resources.files("bipacheck.report").joinpath("schema.json").read_text("utf-8"))


class JsonFormat(ReportFormat):
    name = "json"

    def render(self, report) -> str:
        # control and bidi characters in any string are \u escapes: exact for parsers, visible to people
        return json_visible(json.dumps(report.as_dict(), indent=2, ensure_ascii=False)) + "\n"

    @staticmethod
    def recognises(head: str) -> bool:
        return head.startswith('{\n  "schema_version": ') and '"name": "bipacheck"' in head
