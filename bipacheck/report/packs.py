"""Which law pack a finding belongs to. Reports have no pack field yet, so it is read from the rule's
citation here, in one place, to be replaced when packs exist."""

from __future__ import annotations

_CITATION_PACKS = (("740 ILCS 14", "BIPA"),)


def pack_of(citation: str) -> str:
    for prefix, pack in _CITATION_PACKS:
        if citation.startswith(prefix):
            return pack
    return "other"
