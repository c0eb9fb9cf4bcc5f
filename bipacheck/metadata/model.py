"""What reading face tags returns."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

TOOLS = ("mwg", "apple", "microsoft", "iptc", "google-takeout", "picasa")


@dataclass(frozen=True)
class TagRegion:
    """One face region or person tag found in a file or its sidecar.

    box: [x, y, w, h] in upright (Exif-orientation applied) pixels, or None for a name without a
    region. named: the tag identifies a person (a name, e-mail digest, Live CID or contact id),
    which means someone recognised or tagged the face. tool: the schema it came from. where:
    'embedded' or the sidecar's file name.
    """

    box: list[int] | None
    name: str | None
    named: bool
    tool: str
    where: str = "embedded"

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class FaceTags:
    """Every face tag found, plus human-readable problems met on the way (never raised)."""

    regions: list[TagRegion] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def named(self) -> list[TagRegion]:
        return [r for r in self.regions if r.named]

    def to_dict(self) -> dict:
        return {"regions": [r.to_dict() for r in self.regions], "errors": list(self.errors)}
