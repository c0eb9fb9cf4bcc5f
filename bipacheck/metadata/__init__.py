"""Face tags already in image files: regions and person names that photo software wrote.

A named face region means a face was recognised or tagged, so biometric information may
already exist for that photo. This package reads such tags (MWG, Apple, Microsoft Photo, IPTC
Extension, XMP sidecars, Google Takeout JSON, Picasa .picasa.ini) and strips them from copies.
"""

from .model import FaceTags, TagRegion
from .read import read_face_tags
from .sidecars import sidecar_paths
from .strip import StripError, StripResult, strip_face_tags, strip_face_tags_report

__all__ = [
    "FaceTags",
    "TagRegion",
    "read_face_tags",
    "sidecar_paths",
    "strip_face_tags",
    "strip_face_tags_report",
    "StripError",
    "StripResult",
]
