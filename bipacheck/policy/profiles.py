"""Processing profiles: what the operator does with uploads decides whether identifiers are derived.

Where face templates were made (Facebook tag suggestions, Google Photos, Shutterfly), BIPA claims
survived motions to dismiss and then settled; no court decided liability on the merits there
[V/S]. Where nothing could identify a person, claims were dismissed (Martell v. X Corp, 2024,
PhotoDNA hashes; Zellmer v. Meta). So the same unconsented face is a violation under one profile
and informational under another.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigError


@dataclass(frozen=True)
class Profile:
    name: str
    derives_identifiers: bool
    scope: str  # the consent scope a release must cover for this processing
    explanation: str


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in [
        Profile(
            "face-templates", True, "face_geometry",
            "Uploads go through face recognition, tag suggestions, face grouping or face search, which "
            "compute face templates: a scan of face geometry, i.e. a biometric identifier under 740 ILCS 14/10. "
            "Each unconsented face is a potential violation of 14/15(b): such claims survived motions to dismiss "
            "and then settled (In re Facebook Biometric Information Privacy Litigation, $650M; Rivera v. Google, "
            "$100M; Monroy v. Shutterfly); no court has decided liability on the merits there.",
        ),
        Profile(
            "face-detection-only", False, "face_geometry",
            "Uploads are only searched for face boxes (e.g. for cropping or blurring) without computing a "
            "template. No court has held detection alone to be a scan of face geometry, so findings are "
            "informational: they show where identifiers would be derived if recognition were switched on.",
        ),
        Profile(
            "none", False, "face_geometry",
            "No face processing is declared. Findings are informational: the faces are present and would "
            "need a release before any biometric processing (Martell v. X Corp, 2024: no liability where "
            "nothing could identify a person).",
        ),
    ]
}
DEFAULT_PROFILE = "face-templates"


def profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ConfigError(f"unknown processing profile {name!r}; choose one of {', '.join(PROFILES)}") from None
