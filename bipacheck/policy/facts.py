"""The operator facts `bipacheck init` asks for: which attestation key each fills, its flag, the
question, and why it matters with the section it decides (marks as in the rules: V verified, S
secondary). An unanswered fact is left out of the attestation, so the audit reports it as `review`
and names the flag that states it (policy/operator.py).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Fact:
    key: str  # the [tool.bipacheck.org] key it fills
    flag: str  # bipacheck init's flag
    metavar: str
    kind: str  # regions, names (lists), text, date, yes-no
    question: str
    why: str  # why it matters, citing the section it decides
    asked: bool = True  # asked in a terminal; False: a flag only (facts no finding rests on)

    @property
    def command(self) -> str:
        """The init command line that states it."""
        if self.kind == "yes-no":
            return f"bipacheck init {self.flag} (or --no-{self.flag[2:]})"
        return f"bipacheck init {self.flag} {self.metavar}"


FACTS: tuple[Fact, ...] = (
    Fact("processing_regions", "--region", "REGION", "regions",
         "Where are face templates made from these photos? ISO 3166-2 codes such as US-IL or DE, separated "
         "by commas.",
         "BIPA reaches conduct in Illinois (740 ILCS 14/15(b); Vance v. Microsoft) [V/S]: a face without a "
         "release processed in US-IL is a violation, elsewhere it is out of reach, and while nobody states "
         "the place it is review (exit 3). Where a photo was captured somewhere else, record capture_region "
         "in the ledger's processing events."),
    Fact("processing_purposes", "--purpose", "PURPOSE", "names",
         "What do you process faces for? Words from: tagging, grouping, search, id_verification, security, "
         "marketing, training, separated by commas.",
         "740 ILCS 14/15(b)(2) [V]: a release covers the specific purposes it was given for; a processing "
         "event that records no purpose serves these, and one outside a release's purposes is a violation "
         "(BIPA-15B-PURPOSE). Unstated, whether a release covers the use is review."),
    Fact("policy_url", "--policy-url", "URL", "text",
         "Where is your public written retention and destruction policy for biometric data published (URL)?",
         "740 ILCS 14/15(a) [V] requires a publicly available written policy; unstated, BIPA-15A-POLICY "
         "stays review."),
    Fact("policy_adopted_at", "--policy-adopted", "DATE", "date",
         "When was that policy adopted (YYYY-MM-DD)?",
         "The policy must exist when identifiers are first collected (740 ILCS 14/15(a); Mora v. J&M "
         "Plating, 2022) [S]: adopted after the first processing the audit sees is a violation."),
    Fact("retention_schedule", "--retention-schedule", "TEXT", "text",
         "What does the policy say about when face data is destroyed?",
         "740 ILCS 14/15(a) [V]: destroy when the purpose is satisfied or within 3 years of the person's "
         "last interaction, whichever comes first. Recorded with the attestation."),
    Fact("recipients", "--recipient", "NAME", "names",
         "Who receives biometric data from you (vendors, processors)? Names separated by commas, or 'none'.",
         "740 ILCS 14/15(d) [V]: each disclosure needs the person's consent (release scope "
         "disclose:<name>), one recovery per recipient (14/20(c)); unstated, BIPA-15D-DISCLOSURE stays "
         "review."),
    Fact("sells_or_profits", "--sells-or-profits", "", "yes-no",
         "Do you sell, lease, trade or otherwise profit from biometric data (yes/no)?",
         "740 ILCS 14/15(c) [V] forbids it outright; consent does not cure it. Unstated, BIPA-15C-PROFIT "
         "stays review."),
    Fact("security_standard", "--security-standard", "TEXT", "text",
         "How is biometric data stored and protected (e.g. encrypted at rest, access logged, SOC 2)?",
         "740 ILCS 14/15(e) [V]: at least the care given to other confidential data; unstated, "
         "BIPA-15E-CARE stays review."),
    Fact("entity", "--entity", "NAME", "text", "Who operates the collection (legal entity)?",
         "Names the operator in the report's attestation.", asked=False),
    Fact("attested_by", "--attested-by", "NAME", "text", "Who attests these facts (name, role)?",
         "Names who made the statement the report pins (its SHA-256 is in every report).", asked=False),
)

BY_KEY = {fact.key: fact for fact in FACTS}


def how_to_state(key: str, source: str | None) -> str:
    """How an audit's review message says to state a missing fact: in the file the attestation came
    from, and with `bipacheck init` where init wrote that file (never over a pyproject.toml)."""
    if source and not source.endswith(".toml"):
        return f"give {key} in {source}"  # the Python API's org= keyword
    where = f"set {key} in [tool.bipacheck.org]" + (f" of {source}" if source else "")
    fact = BY_KEY.get(key)
    if fact is None or (source or "").endswith("pyproject.toml"):
        return where
    return f"{where}, or run `{fact.command} --force` (it keeps the facts already stated)"
