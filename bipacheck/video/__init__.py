"""Faces in video: streamed decoding, sampling with a stated guarantee, face tracks.

Self-contained: depends on bipacheck.errors and bipacheck.detect.base. PyAV (the [video] extra)
is imported only when a video is opened.
"""

from .decode import VIDEO_FORMATS, DecodeLimits, open_video, sniff_video
from .errors import (CorruptVideo, DecodeBudgetExceeded, FrameTooLarge, NoVideoStream, TruncatedVideo,
                     UnsupportedCodec, VideoSupportMissing, ZeroSizeVideo)
from .sampling import Sample, Sampler
from .tracks import FaceTrack, Tracker, TrackPoint

__all__ = ["VIDEO_FORMATS", "CorruptVideo", "DecodeBudgetExceeded", "DecodeLimits", "FaceTrack", "FrameTooLarge",
           "NoVideoStream", "Sample", "Sampler", "TrackPoint", "Tracker", "TruncatedVideo", "UnsupportedCodec",
           "VideoSupportMissing", "ZeroSizeVideo", "open_video", "sniff_video"]
