"""Rules, severities and the per-audit rule book. Rule ids are stable: baselines and SARIF
dashboards key on them. The tool's own rules live here; each law's rules come from its pack."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from ..errors import ConfigError

# Severity order, weakest first; --fail-on picks the weakest that fails the run.
SEVERITIES = ("info", "review", "violation")
MARKS = ("V", "S", "M")  # how well a legal fact is established (../shared/LEGAL.md): verified, secondary, unverified


class UnknownRule(ConfigError):
    """A finding names a rule the audit's rule book does not hold (a pack bug, never user data)."""


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    citation: str
    summary: str
    fix: str
    derived: bool  # True when the rule is a violation only if the profile derives identifiers
    mark: str = "V"
    section: str | None = None  # the statute section its exposure is counted under, if any
    pack: str | None = None  # the jurisdiction pack that declares it (None: a tool rule)
    severity: str = "violation"  # when the pack's trigger is met; unknown regions make it review
    check: str | None = None  # the pack check (policy.pack_eval.CHECKS) that applies it
    params: dict = field(default_factory=dict, hash=False, compare=False)
    pack_citation: str | None = None  # the law's citation, for SARIF tags


TOOL_RULES: dict[str, Rule] = {r.id: r for r in [
    Rule("BIPACHECK-UNSCANNED", "photo-not-scanned", "740 ILCS 14/15(b)",
         "The file could not be scanned, so it cannot be shown to be compliant.",
         "Fix or remove the file (see the reason) and audit again.", False),
    Rule("BIPACHECK-LOW-CONFIDENCE", "low-confidence-face", "740 ILCS 14/15(b)",
         "A possible face scored below the detection threshold: a person should look.",
         "Review the box; if it is a face without a release, treat it as BIPA-15B-NO-RELEASE.", False),
    Rule("BIPACHECK-ATTESTATION-CONTRADICTED", "attestation-contradicted", "740 ILCS 14/15",
         "A fact the operator attested is contradicted by the ledger (e.g. processing in a region the "
         "attestation does not list), so findings that rely on the attestation cannot be trusted.",
         "Correct the attestation in [tool.bipacheck.org] or the ledger's processing events.", True, "S"),
    Rule("BIPACHECK-HIDDEN-FACE", "face-in-embedded-image", "740 ILCS 14/15(b)",
         "A face was found in an image embedded in the file (an EXIF or XMP thumbnail, an MPF preview, a "
         "base64 image in a text chunk) and not in the photo itself: viewers, photo libraries and pipelines "
         "that read previews show and process it.",
         "Look at the embedded image; redact the photo (`bipacheck redact` writes copies without embedded "
         "images) or record the person's release.", False),
    Rule("BIPACHECK-FACE-TAGS", "face-tags-present", "740 ILCS 14/15(a), 14/15(b)",
         "The file's metadata holds face regions; named regions show a face was recognised or tagged. "
         "A tag typed by a person or made by other software is not the operator's scan (Barnett v. "
         "Apple, 2022), so it is a violation only when the attested pipeline wrote it.",
         "Confirm a valid release for each named person, or strip the tags "
         "(`bipacheck strip-face-tags`) and destroy derived data.", True, "S"),
]}
UNSCANNED = TOOL_RULES["BIPACHECK-UNSCANNED"]
HIDDEN_FACE = TOOL_RULES["BIPACHECK-HIDDEN-FACE"]
LOW_CONFIDENCE = TOOL_RULES["BIPACHECK-LOW-CONFIDENCE"]


class RuleBook:
    """The rules one audit knows: the tool's own plus those of the packs it loaded. Built per audit,
    so two audits in one process with different pack folders never share rules."""

    def __init__(self, rules: Iterable[Rule] = ()):
        self._rules: dict[str, Rule] = dict(TOOL_RULES)
        self.add(rules)

    def add(self, rules: Iterable[Rule]) -> None:
        """An id another pack (or the tool) already declares is a configuration error."""
        for rule in rules:
            known = self._rules.get(rule.id)
            if known is not None and known != rule:
                raise ConfigError(f"rule {rule.id} of pack {rule.pack or 'bipacheck'} is already declared by "
                                  f"{known.pack or 'bipacheck'}")
            self._rules[rule.id] = rule

    def __getitem__(self, rule_id: str) -> Rule:
        try:
            return self._rules[rule_id]
        except KeyError:
            raise UnknownRule(f"no rule {rule_id!r} in this audit's rule book") from None

    def __contains__(self, rule: object) -> bool:
        return isinstance(rule, Rule) and self._rules.get(rule.id) == rule

    def __iter__(self) -> Iterator[Rule]:
        return iter(self._rules.values())

    def __len__(self) -> int:
        return len(self._rules)

    def ids(self) -> list[str]:
        return list(self._rules)


def severity_at_least(severity: str, threshold: str) -> bool:
    if threshold == "never":
        return False
    return SEVERITIES.index(severity) >= SEVERITIES.index(threshold)
