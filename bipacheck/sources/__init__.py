"""Where photos come from: local folders, buckets and git's staging area, listed as SourceObjects.

Sources only list objects and hand out their bytes; deciding what is an image is the scanner's job.
"""

from .git_staged import staged_objects
from .naming import absolute_root, locate, name_in, report_root
from .objects import Skipped, SourceObject
from .specs import SCHEMES, Listing, iter_sources, list_sources, read_url

__all__ = ["SCHEMES", "Listing", "SourceObject", "Skipped", "absolute_root", "iter_sources", "list_sources",
           "locate", "name_in", "read_url", "report_root", "staged_objects"]
