"""Faces in video: streamed decoding, sampling with a stated guarantee, face tracks, coverage.

Self-contained: depends on bipacheck.detect.base, bipacheck.errors, bipacheck.outputs,
bipacheck.imaging.obscure and a detector the caller passes in. `scan_video` is the entry point,
`redact_video` writes a copy with the tracks obscured; PyAV (the [video] extra) is imported only when a
video is opened.
"""

from .decode import VIDEO_FORMATS, DecodeLimits, frame_at, open_video, sniff_video
from .errors import (CorruptVideo, DecodeBudgetExceeded, FrameTooLarge, IncompleteRedaction, NoVideoStream,
                     TruncatedVideo, UnsupportedCodec, VideoSupportMissing, ZeroSizeVideo)
from .redact import TrackRedaction, VideoRedaction, redact_video
from .sampling import Sample, Sampler
from .scan import Coverage, VideoScan, VideoSettings, scan_video
from .tracks import FaceTrack, Tracker, TrackPoint

__all__ = ["VIDEO_FORMATS", "Coverage", "CorruptVideo", "DecodeBudgetExceeded", "DecodeLimits", "FaceTrack",
           "FrameTooLarge", "IncompleteRedaction", "NoVideoStream", "Sample", "Sampler", "TrackPoint",
           "TrackRedaction", "Tracker", "TruncatedVideo", "UnsupportedCodec", "VideoRedaction", "VideoScan",
           "VideoSettings", "VideoSupportMissing", "ZeroSizeVideo", "frame_at", "open_video", "redact_video",
           "scan_video", "sniff_video"]
