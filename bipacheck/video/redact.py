"""A redacted copy of a video: every given face track obscured in every frame it may be on screen in.

    scan = scan_video("clip.mp4", detector)
    record = redact_video("clip.mp4", "out/clip.mp4", scan.tracks)   # raises rather than leave a part
    record.as_dict()                                                  # for the redaction manifest

Frames are decoded streamed (bipacheck.video.decode: bounded memory for any length), each track's box
at the frame's time (`FaceTrack.box_at(t, envelope=True)`: the whole span the face may be on screen,
from the last sample without it to the first sample without it again) is grown by `margin`, clipped
to the frame and obscured with the photo redaction's own obscuring (bipacheck.imaging.obscure), and the
frame is encoded at its own presentation time (variable frame rates survive).

What is written, by the source's container (sniffed from content, never from the name):

    MP4, MOV, MKV   H.264 (libx264, CRF 18, yuv420p; yuv444p when a side is odd), else MPEG-4 Part 2
    M4V             H.264 in the iPod flavour of MP4
    WebM            VP9 (libvpx-vp9, CRF 20), else VP8 (libvpx)
    AVI             MPEG-4 Part 2 (the AVI muxer keeps a constant frame rate: times are rounded to it)

Audio streams are kept: their packets are copied unchanged when the container takes their codec (AAC
in MP4, Opus/Vorbis in WebM, ...), else decoded and re-encoded (AAC; Opus for WebM; MP3 for AVI); the
record says which. Subtitle, data and further video streams are not copied (the record counts them).

Frames are written upright: the source's display rotation is applied to the pixels and the copy's
video stream carries no rotation (its display matrix, if the muxer writes one, is the identity), so
no player turns it again.

Fail closed: the copy is streamed into a temporary file beside the destination and renamed into place
only when the whole video was decoded and encoded. If decoding stops early (a truncated or damaged
stream, a cap of DecodeLimits, a budget) IncompleteRedaction is raised (bipacheck.video.errors) and the
temporary file is removed: no partial copy is ever left. A video that cannot be opened at all raises
its own ImageError (TruncatedVideo, CorruptVideo, ...), also leaving nothing. The destination is
refused (UnsafeOutput) when it is a symbolic link or the source itself (the same path, or a hard link
to it); it is opened with bipacheck.outputs.open_beneath (O_EXCL | O_NOFOLLOW, renamed into place).

The tracks are the caller's: a face in a part of the video its scan did not cover (VideoScan.coverage
not complete) has no track and is not obscured, so a caller redacts from complete scans only.

Boxes and times only: nothing about a face's appearance is computed or recorded.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..hashing import sha256_file
from ..imaging.obscure import PAD, STYLES, obscure, padded_region
from ..outputs import UnsafeOutput, open_beneath
from .decode import DecodeLimits, open_video
from .errors import DecodeBudgetExceeded, IncompleteRedaction, UnsupportedCodec
from .tracks import FaceTrack

# sniffed source format -> (FFmpeg muxer, video encoders by preference, audio encoder when copying fails)
CONTAINERS = {
    "MP4": ("mp4", ("libx264", "mpeg4"), "aac"),
    "MOV": ("mov", ("libx264", "mpeg4"), "aac"),
    "M4V": ("ipod", ("libx264",), "aac"),
    "MKV": ("matroska", ("libx264", "mpeg4"), "aac"),
    "WEBM": ("webm", ("libvpx-vp9", "libvpx"), "libopus"),
    "AVI": ("avi", ("mpeg4",), "libmp3lame"),
}
# audio packets read before the first video frame is decoded are held until the video stream exists
MAX_PENDING_AUDIO = 64 << 20  # bytes


@dataclass(frozen=True)
class TrackRedaction:
    """One track as obscured in the copy: the frames touched and the times of the first and last."""

    track: int
    from_s: float | None  # time of the first frame obscured (None: no frame fell in the track's span)
    to_s: float | None  # time of the last frame obscured
    frames: int
    may_start_s: float  # the span the track asked to be obscured (FaceTrack.may_start_s / may_end_s)
    may_end_s: float

    def as_dict(self) -> dict:
        return {"track": self.track, "from_s": None if self.from_s is None else round(self.from_s, 3),
                "to_s": None if self.to_s is None else round(self.to_s, 3), "frames": self.frames,
                "may_start_s": round(self.may_start_s, 3), "may_end_s": round(self.may_end_s, 3)}


@dataclass
class VideoRedaction:
    """What redact_video wrote (returned only for a complete copy: `complete` is always True)."""

    destination: str
    format: str  # the source's container, sniffed; the copy is in the same family
    muxer: str  # FFmpeg's muxer written with
    video_codec: str  # the encoder written with (libx264, mpeg4, libvpx-vp9, libvpx)
    width: int  # upright, as written
    height: int
    rotation_applied: int  # degrees clockwise the source declared; applied to the pixels, none declared
    frames: int  # frames written (every frame decoded)
    duration_s: float  # through the end of the last frame, from the stream's start
    style: str
    margin: float
    tracks: list[TrackRedaction]
    frames_obscured: int  # frames with at least one region obscured
    audio: list[dict] = field(default_factory=list)  # per audio stream: codec and "copied" / "re-encoded"
    streams_dropped: int = 0  # subtitle, data and further video streams not copied
    warnings: list[str] = field(default_factory=list)
    sha256: str | None = None  # of the copy as written
    complete: bool = True

    def as_dict(self) -> dict:
        return {"destination": self.destination, "format": self.format, "muxer": self.muxer,
                "video_codec": self.video_codec, "width": self.width, "height": self.height,
                "rotation_applied": self.rotation_applied, "frames": self.frames,
                "duration_s": round(self.duration_s, 3), "style": self.style, "margin": self.margin,
                "tracks": [t.as_dict() for t in self.tracks], "frames_obscured": self.frames_obscured,
                "audio": [dict(a) for a in self.audio], "streams_dropped": self.streams_dropped,
                "warnings": list(self.warnings), "sha256": self.sha256, "complete": self.complete}


def redact_video(source: str | os.PathLike, destination: str | os.PathLike, tracks: Sequence[FaceTrack], *,
                 style: str = "blur", margin: float = PAD, limits: DecodeLimits = DecodeLimits()) -> VideoRedaction:
    """Write a copy of the video at `source` (a path) to `destination` with every track obscured.

    margin: each box grows by this share of its width/height on each side (the photo redaction's PAD
    by default: at 0.2 CenterFace still found the head's outline on the demo photos, at 0.4 nothing).
    Raises IncompleteRedaction (nothing written) when the video could not be decoded to its end, an
    ImageError when it cannot be opened, UnsafeOutput for a destination that is a link or the source."""
    if style not in STYLES:
        raise ValueError(f"style must be one of {', '.join(STYLES)}, not {style!r}")
    if not margin >= 0:
        raise ValueError(f"margin must be 0 or more, not {margin!r}")
    if not isinstance(source, (str, os.PathLike)) or not isinstance(destination, (str, os.PathLike)):
        raise TypeError("redact_video takes the source and destination as paths (the destination is checked "
                        "against the source file)")
    source, destination = os.fspath(source), os.fspath(destination)
    _check_destination(source, destination)
    src_stat = os.stat(source)
    out_dir, name = os.path.split(os.path.abspath(destination))
    with open_video(source, limits) as reader, \
            open_beneath(out_dir, [name], mode=src_stat.st_mode,
                         times=(src_stat.st_atime_ns, src_stat.st_mtime_ns)) as (fh, path):
        muxer, encoders, audio_encoder = CONTAINERS[reader.info.format]
        writer = _Writer(reader, fh, muxer, encoders, audio_encoder, limits)
        try:
            spans = [[None, None, 0] for _ in tracks]  # first time, last time, frames
            obscured = 0
            for frame in reader.frames(audio=writer.audio):
                t = frame.time_s
                rgb = frame.rgb()
                if not rgb.flags.writeable:
                    rgb = rgb.copy()
                h, w = rgb.shape[:2]
                touched = False
                for track, span in zip(tracks, spans):
                    box = track.box_at(t, envelope=True)
                    region = padded_region(list(box), w, h, margin) if box is not None else None
                    if region is None:
                        continue
                    obscure(rgb, region, style, 3)
                    span[0] = t if span[0] is None else span[0]
                    span[1] = t
                    span[2] += 1
                    touched = True
                obscured += touched
                writer.video(rgb, t)
                frame.release()
            if reader.stop != "end" or reader.unscanned:
                gaps = "; ".join(f"{a:.2f}-{'end' if b is None else f'{b:.2f}'} s ({why})"
                                 for a, b, why in reader.unscanned)
                raise IncompleteRedaction(
                    f"{reader.info.format} decoded only in part ({reader.stop}: {reader.stop_detail}"
                    f"{'; frames lost at ' + gaps if gaps else ''}): no copy written", reader.stop, reader.end_s)
            writer.finish()
        except BaseException:
            writer.abandon()
            raise
        info = reader.info
        record = VideoRedaction(
            path, info.format, muxer, writer.codec, writer.width, writer.height, info.rotation,
            reader.frames_decoded, reader.end_s, style, margin,
            [TrackRedaction(t.track_id, *span, t.may_start_s, t.may_end_s) for t, span in zip(tracks, spans)],
            obscured, writer.audio_record, writer.streams_dropped(), list(reader.warnings) + writer.warnings)
    record.sha256 = sha256_file(path)
    return record


def _check_destination(source: str, destination: str) -> None:
    try:
        st = os.lstat(destination)
    except FileNotFoundError:
        st = None
    if st is not None and stat.S_ISLNK(st.st_mode):
        raise UnsafeOutput(f"{destination} is a symbolic link; a redacted copy is never written through one")
    if os.path.realpath(destination) == os.path.realpath(source) or (
            st is not None and os.path.exists(source) and os.path.samefile(source, destination)):
        raise UnsafeOutput(f"{destination} is the source video itself; a redacted copy never replaces it")


class _Writer:
    """The output container: the video stream made at the first frame (its upright size known then),
    audio streams copied or re-encoded."""

    def __init__(self, reader, fh, muxer: str, encoders: tuple[str, ...], audio_encoder: str,
                 limits: DecodeLimits):
        import av

        self._av = av
        self.reader = reader
        self.out = av.open(fh, "w", format=muxer, options={"fflags": "+bitexact"})
        self.encoders = [c for c in encoders if c in av.codecs_available]
        if not self.encoders:
            raise UnsupportedCodec(f"this FFmpeg build has none of {', '.join(encoders)} to write {muxer}")
        self.codec = self.encoders[0]
        self.limits = limits
        self.warnings: list[str] = []
        self.width = self.height = 0
        self._stream = None
        self._last_pts: int | None = None
        self._pending: list = []
        self._pending_bytes = 0
        self._audio: dict[int, tuple] = {}  # source stream index -> (output stream, copied?)
        self.audio_record: list[dict] = []
        for src in reader.audio_streams:
            name = src.codec_context.name if src.codec_context is not None else None
            if name and self._copies(name):
                dst = self.out.add_stream_from_template(src)
                self._audio[src.index] = (dst, True)
                self.audio_record.append({"stream": src.index, "codec": name, "handling": "copied"})
            else:
                if not name or audio_encoder not in av.codecs_available:
                    raise UnsupportedCodec(f"audio stream #{src.index} ({name or 'unknown codec'}) can be neither "
                                           f"copied into {muxer} nor re-encoded")
                rate = 48000 if audio_encoder == "libopus" else (src.codec_context.sample_rate or 44100)
                dst = self.out.add_stream(audio_encoder, rate=rate)
                dst.layout = src.codec_context.layout if src.codec_context.layout.nb_channels <= 2 else "stereo"
                self._audio[src.index] = (dst, False)
                self.audio_record.append({"stream": src.index, "codec": name,
                                          "handling": f"re-encoded ({audio_encoder})"})

    def _copies(self, codec: str) -> bool:
        """Whether the output container takes packets of this audio codec as they are."""
        return codec in self.out.supported_codecs

    def streams_dropped(self) -> int:
        return len(self.reader.video_stream.container.streams) - 1 - len(self._audio)

    def _warn_ticks(self) -> None:
        message = "frames sharing a timestamp were written one tick apart"
        if message not in self.warnings:
            self.warnings.append(message)

    def audio(self, packet) -> None:
        if self._stream is None:
            self._pending_bytes += packet.size
            if self._pending_bytes > MAX_PENDING_AUDIO:
                raise DecodeBudgetExceeded(f"more than {MAX_PENDING_AUDIO >> 20} MB of audio before the first "
                                           "video frame (a file not interleaved)")
            self._pending.append(packet)
            return
        self._audio_packet(packet)

    def _audio_packet(self, packet) -> None:
        dst, copied = self._audio[packet.stream.index]
        if copied:
            if packet.dts is None:
                return
            packet.stream = dst
            self.out.mux(packet)
            return
        for frame in packet.stream.decode(packet):
            for out_packet in dst.encode(frame):
                self.out.mux(out_packet)

    def _open_video(self, width: int, height: int) -> None:
        src = self.reader.video_stream
        tb = src.time_base
        rate = src.average_rate or src.guessed_rate or 25
        stream = self.out.add_stream(self.codec, rate=rate)
        odd = width % 2 or height % 2
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv444p" if odd and self.codec in ("libx264", "libvpx-vp9") else "yuv420p"
        stream.time_base = tb
        stream.codec_context.time_base = tb
        threads = str(max(1, self.limits.threads))
        if self.codec == "libx264":
            stream.options = {"preset": "veryfast", "crf": "18", "threads": threads}
        elif self.codec in ("libvpx-vp9", "libvpx"):
            stream.options = {"crf": "20", "b": "0" if self.codec == "libvpx-vp9" else "2M", "deadline": "realtime",
                              "cpu-used": "8", "threads": threads}
        else:
            stream.bit_rate = max(1_000_000, width * height * 20)
        self._stream, self._tb, self._origin = stream, tb, self.reader.origin_s
        self.width, self.height = width, height
        self._pix_fmt = stream.pix_fmt
        pending, self._pending = self._pending, []
        for packet in pending:
            self._audio_packet(packet)

    def video(self, rgb: np.ndarray, t: float) -> None:
        if self._stream is None:
            self._open_video(rgb.shape[1], rgb.shape[0])
        elif (rgb.shape[1], rgb.shape[0]) != (self.width, self.height):
            raise UnsupportedCodec(f"the frame size changes within the stream at {t:.2f} s "
                                   f"({self.width}x{self.height} to {rgb.shape[1]}x{rgb.shape[0]})")
        av = self._av
        pts = round((self._origin + t) / self._tb)
        if self._last_pts is not None and pts <= self._last_pts:
            pts = self._last_pts + 1  # held or rounded onto the previous time: the next tick
            self._warn_ticks()
        self._last_pts = pts
        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format=self._pix_fmt)
        frame.pts = pts
        frame.time_base = self._tb
        for packet in self._stream.encode(frame):
            self.out.mux(packet)

    def finish(self) -> None:
        if self._stream is None:
            raise IncompleteRedaction("no frame was decoded: no copy written", self.reader.stop, 0.0)
        for packet in self._stream.encode():
            self.out.mux(packet)
        for dst, copied in self._audio.values():
            if not copied:
                for packet in dst.encode():
                    self.out.mux(packet)
        self.out.close()

    def abandon(self) -> None:
        try:
            self.out.close()
        except Exception:  # noqa: BLE001 - the file is being removed; the first error is the one to raise
            pass
