"""Typed reasons a video could not be scanned at all. Each is an ImageError subclass with a stable
`reason`, so a caller that already turns ImageError into a skip (an unscanned file, exit 3) handles
videos without new code. A video scanned only in part is not an error: its VideoScan.coverage says
what was not scanned and why (bipacheck.video.scan)."""

from __future__ import annotations

from ..errors import CorruptImage, ImageError, TooLarge, TruncatedImage, UnsupportedFormat


class TruncatedVideo(TruncatedImage):
    """The file ends before the container says it does, before any frame could be decoded."""

    reason = "truncated"


class CorruptVideo(CorruptImage):
    """A video signature, but the container or the first frames cannot be parsed."""

    reason = "corrupt"


class UnsupportedCodec(UnsupportedFormat):
    """A video stream whose codec this build of FFmpeg cannot decode."""

    reason = "unsupported-codec"


class NoVideoStream(UnsupportedFormat):
    """A media container holding no video stream (audio only, subtitles only)."""

    reason = "no-video-stream"


class ZeroSizeVideo(CorruptImage):
    """A video stream that declares, or decodes to, 0 x 0 pixels."""

    reason = "zero-size-video"


class FrameTooLarge(TooLarge):
    """Frames larger than the pixel limit (decompression-bomb guard, per frame)."""

    reason = "too-large"


class DecodeBudgetExceeded(ImageError):
    """No frame within the decode budget (time, packets, bytes read): a decoder that loops or stalls."""

    reason = "decode-budget"


class VideoSupportMissing(UnsupportedFormat):
    """A video, but PyAV (the [video] extra) is not installed: unscanned, never passed."""

    reason = "video-support-missing"


class IncompleteRedaction(ImageError):
    """A redacted copy could not be made of the whole video (decoding stopped early: a truncated or
    damaged stream, a cap or a budget): no copy is left, since a part presented as the whole would
    hide what was never obscured. `stop` is the decoder's stable code, `end_s` how far it got."""

    reason = "incomplete-redaction"

    def __init__(self, message: str, stop: str = "", end_s: float = 0.0):
        super().__init__(message)
        self.stop = stop
        self.end_s = end_s
