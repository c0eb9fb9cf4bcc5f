"""Where photos come from: local folders, buckets and git's staging area, listed as SourceObjects.

Sources only list objects and hand out their bytes; deciding what is an image is the scanner's job.
"""

from .git_staged import staged_objects
from .objects import Skipped, SourceObject
from .specs import iter_sources

__all__ = ["SourceObject", "Skipped", "iter_sources", "staged_objects"]
