"""The findings vocabulary every layer above the inputs speaks: rules, severities, findings, face
records and fingerprints. It knows no law (packs declare their rules) and renders nothing."""

from .model import FaceRecord, Finding, fingerprint
from .rules import MARKS, SEVERITIES, TOOL_RULES, Rule, RuleBook, UnknownRule, severity_at_least

__all__ = ["FaceRecord", "Finding", "MARKS", "Rule", "RuleBook", "SEVERITIES", "TOOL_RULES", "UnknownRule", "fingerprint",
           "severity_at_least"]
