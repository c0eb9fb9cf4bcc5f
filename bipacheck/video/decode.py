"""Video bytes in, upright frames with their presentation times out, streamed and bounded.

The container is sniffed from content (MP4, MOV/M4V, WebM, MKV, AVI; never from the name), then
decoded with PyAV (FFmpeg's libraries, wheel-installed; bench/video.py `libraries` measured it
against OpenCV's FFmpeg backend: both stream from a file object, honour rotation and give VFR
timestamps, but only PyAV says *why* a file cannot be read, reports a stream that stops early
instead of ending silently, exposes packets for budgets, and can later write a redacted copy with
its audio).

Reading is streamed: the caller's file object is read through a counting wrapper, never loaded
whole, and frames are yielded one at a time (nothing is kept but the decoder's own reference
frames), so memory is bounded by the frame size, itself bounded by `max_pixels`.

Bounded for any input: a frame-size guard, a cap on the presentation time decoded
(`max_duration_s`), on frames decoded, on packets that yield no frame, on bytes read (a demuxer
that seeks back and forth) and on wall-clock time. A cap or an error after some frames is not an
exception: the reader records where and why it stopped (`stop`, `unscanned`) and the caller
reports the part not scanned. Nothing decoded at all is a typed ImageError (bipacheck.video.errors).
One decoder call that never returns cannot be interrupted from inside the process: a caller that
must survive that runs scans in a worker process with a deadline.
"""

from __future__ import annotations

import io
import os
import struct
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from ..errors import EmptyFile, UnreadableFile, UnsupportedFormat
from .errors import (CorruptVideo, DecodeBudgetExceeded, FrameTooLarge, NoVideoStream, TruncatedVideo,
                     UnsupportedCodec, VideoSupportMissing, ZeroSizeVideo)

VIDEO_FORMATS = ("MP4", "MOV", "M4V", "WEBM", "MKV", "AVI")
# names a video goes by (a file so named that cannot be scanned is never passed over as "not a video")
VIDEO_SUFFIXES = frozenset({
    ".mp4", ".m4v", ".mov", ".qt", ".webm", ".mkv", ".avi", ".3gp", ".3g2", ".mpg", ".mpeg", ".wmv", ".flv",
    ".mts", ".m2ts",
})


def named_like_video(name: str) -> bool:
    dot = name.rfind(".")
    return dot >= 0 and name[dot:].lower() in VIDEO_SUFFIXES

SNIFF_BYTES = 64
THUMB_WIDTH = 64  # px: the grey thumbnail scene changes are measured on

# ISO-BMFF brands that are still images or image sequences (bipacheck.imaging reads those)
_IMAGE_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis"}
# top-level atoms a QuickTime file without an ftyp box may start with
_QT_ATOMS = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}
# 8-bit pixel formats whose first plane is the luma (or grey) image: thumbnails read it directly
_LUMA_FIRST = {"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "yuv411p", "yuv440p",
               "yuvj440p", "nv12", "nv21", "nv16", "gray", "yuva420p"}


def sniff_video(head: bytes) -> str | None:
    """The video container named by the file's first bytes (SNIFF_BYTES suffice), or None."""
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _IMAGE_BRANDS:
            return None
        if brand == b"qt  ":
            return "MOV"
        if brand.startswith(b"M4V"):
            return "M4V"
        return "MP4"  # isom, mp41/42, avc1, 3gp*, dash, M4A (audio only: opens, then NoVideoStream)
    if len(head) >= 8 and head[4:8] in _QT_ATOMS:
        box = int.from_bytes(head[:4], "big")
        if box in (0, 1) or box >= 8:  # a plausible atom size
            return "MOV"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "WEBM" if b"webm" in head[:SNIFF_BYTES] else "MKV"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "AVI"
    return None


def describe_other_media(head: bytes) -> str | None:
    """A media file that is not one of VIDEO_FORMATS, named (so a caller can say more than 'not an image')."""
    if len(head) > 188 and head[0] == 0x47 and head[188] == 0x47:
        return "an MPEG transport stream"
    if head[:4] == b"\x00\x00\x01\xba":
        return "an MPEG program stream"
    if head[:3] == b"FLV":
        return "a Flash video (FLV)"
    if head[:4] == b"OggS":
        return "an Ogg file"
    if head[:4] == b"\x30\x26\xb2\x75":
        return "an ASF/WMV file"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "a WAV audio file"
    if head[:3] == b"ID3" or head[:2] in (b"\xff\xfb", b"\xff\xf3"):
        return "an MP3 audio file"
    return None


@dataclass(frozen=True)
class DecodeLimits:
    max_pixels: int = 40_000_000  # per frame; 8K UHD (33 MP) fits
    max_duration_s: float | None = 3600.0  # presentation time decoded, from the stream's start
    max_frames: int = 5_000_000  # frames decoded (a stream whose timestamps never advance)
    max_packets_without_frame: int = 5_000  # a decoder that takes packets and gives nothing
    max_read_factor: float = 4.0  # bytes read <= this x the file size + 16 MB (a demuxer that loops)
    time_budget_s: float | None = 7200.0  # wall clock for the whole decode (None: no limit)
    threads: int = 1  # decoder threads; workers parallelise across files


@dataclass(frozen=True)
class StreamInfo:
    format: str  # sniffed container: one of VIDEO_FORMATS
    demuxer: str  # FFmpeg's demuxer name
    codec: str
    width: int  # upright (after the display rotation)
    height: int
    rotation: int  # degrees clockwise a player turns the stored pixels (0, 90, 180, 270)
    duration_s: float | None  # declared by the video stream, else the container; None when unknown
    frame_rate: float | None  # declared average, informational (VFR streams have none that is exact)
    size: int | None  # bytes, when the source can tell
    other_video_streams: int = 0  # further video streams in the file (not decoded)
    audio_streams: int = 0


@dataclass
class VideoFrame:
    """One decoded frame: its presentation time and lazily made pixels."""

    index: int  # decode order among the frames yielded
    time_s: float  # presentation time from the stream's start
    key: bool
    _frame: object = field(repr=False)
    _k: int = field(repr=False, default=0)  # quarter turns counterclockwise to upright (np.rot90's k)
    _rgb: np.ndarray | None = field(repr=False, default=None)

    @property
    def stored_size(self) -> tuple[int, int]:
        return self._frame.width, self._frame.height

    def rgb(self) -> np.ndarray:
        """Upright RGB uint8 (H, W, 3): the display rotation applied. Made once, then kept."""
        if self._rgb is None:
            arr = self._frame.to_ndarray(format="rgb24")
            self._rgb = np.ascontiguousarray(np.rot90(arr, self._k)) if self._k else arr
        return self._rgb

    def thumb(self, width: int = THUMB_WIDTH) -> np.ndarray:
        """A small grey float32 image of the stored (not rotated) frame, for frame differences."""
        frame = self._frame
        w, h = frame.width, frame.height
        th = max(1, round(h * width / max(w, 1)))
        if frame.format.name in _LUMA_FIRST:
            plane = frame.planes[0]
            luma = np.frombuffer(plane, np.uint8).reshape(h, plane.line_size)[:, :w]
            step = max(1, min(w, h) // (4 * th))  # every step-th pixel is plenty before an area resize
            small = luma[::step, ::step]
            return cv2.resize(small, (width, th), interpolation=cv2.INTER_AREA).astype(np.float32)
        return frame.reformat(width=width, height=th, format="gray").to_ndarray().astype(np.float32)

    def release(self) -> None:
        """Drop the pixels (the decoder's buffer and the RGB copy) once the caller is done."""
        self._frame = None
        self._rgb = None


class _Source(io.RawIOBase):
    """The caller's stream, read through: counts bytes, enforces the read budget, never reads it whole.
    A source that cannot seek is given its first bytes back after sniffing (it stays unseekable:
    containers that need seeking, MP4 with its index at the end, fail there with a typed error)."""

    def __init__(self, raw, limits: DecodeLimits):
        super().__init__()
        self.raw = raw
        self.limits = limits
        self.bytes_read = 0
        self.at_eof = False
        self.seekable_ = _seekable(raw)
        self.size: int | None = None
        self._prefix = b""
        if self.seekable_:
            start = raw.tell()
            self.size = raw.seek(0, os.SEEK_END) - start
            raw.seek(start)
            self._base = start
        else:
            self._base = 0
        self.head = self._read_raw(SNIFF_BYTES)
        if self.seekable_:
            raw.seek(self._base)
        else:
            self._prefix = self.head
        self.bytes_read = 0
        self._pos = 0
        self.budget = None if self.size is None else int(limits.max_read_factor * self.size) + (16 << 20)

    def _read_raw(self, n: int) -> bytes:
        data = self.raw.read(n)
        return bytes(data) if data is not None else b""

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self.seekable_

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            n = 1 << 20  # the demuxer asks for its buffer size; never "everything"
        out = b""
        if self._pos < len(self._prefix):
            out = self._prefix[self._pos:self._pos + n]
            n -= len(out)
        if n > 0:
            out += self._read_raw(n)
        self._pos += len(out)
        self.bytes_read += len(out)
        if not out or (self.size is not None and self._pos >= self.size):
            self.at_eof = True
        if self.budget is not None and self.bytes_read > self.budget:
            raise _ReadBudget(f"read {self.bytes_read:,} bytes of a {self.size:,}-byte file")
        return out

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if not self.seekable_:
            raise OSError("source is not seekable")
        if whence == os.SEEK_SET:
            target = self._base + offset
        elif whence == os.SEEK_CUR:
            target = self._base + self._pos + offset
        else:
            target = self._base + self.size + offset
        self._pos = self.raw.seek(target) - self._base
        self.at_eof = self.size is not None and self._pos >= self.size
        return self._pos

    def tell(self) -> int:
        return self._pos

    def read_at(self, offset: int, n: int) -> bytes:
        """Bytes at `offset` for the container checks (not counted against the demuxer's budget)."""
        if not self.seekable_:
            return b""
        here = self.raw.tell()
        try:
            self.raw.seek(self._base + offset)
            return self._read_raw(n)
        finally:
            self.raw.seek(here)


class _ReadBudget(Exception):
    pass


def _seekable(raw) -> bool:
    try:
        return bool(raw.seekable()) if hasattr(raw, "seekable") else hasattr(raw, "seek")
    except (OSError, ValueError):
        return False


def declared_end(src: _Source, fmt: str) -> int | None:
    """Where the container says the file ends (top-level MP4 boxes, the RIFF size, the Matroska
    segment size), when it can tell; more than the file's size means the file was cut short."""
    size = src.size
    if size is None:
        return None
    if fmt in ("MP4", "MOV", "M4V"):
        offset, count = 0, 0
        while offset < size and count < 10_000:
            header = src.read_at(offset, 16)
            if len(header) < 8:
                return offset + 8
            box = struct.unpack(">I", header[:4])[0]
            if box == 1:
                if len(header) < 16:
                    return offset + 16
                box = struct.unpack(">Q", header[8:16])[0]
            elif box == 0:
                return None  # "to the end of the file"
            if box < 8:
                return None  # not a box structure we can follow
            offset += box
            count += 1
        return offset
    if fmt == "AVI":
        return struct.unpack("<I", src.head[4:8])[0] + 8
    if fmt in ("MKV", "WEBM"):
        head = src.read_at(0, 64)
        pos = 4
        ebml_size, n = _vint(head, pos)
        if ebml_size is None:
            return None
        pos += n + ebml_size
        head = src.read_at(pos, 12)
        if head[:4] != b"\x18\x53\x80\x67":  # Segment
            return None
        seg_size, n = _vint(head, 4)
        if seg_size is None:
            return None
        return pos + 4 + n + seg_size
    return None


def _vint(data: bytes, pos: int) -> tuple[int | None, int]:
    """An EBML variable-length size at data[pos]; (None, n) when unknown-size or unreadable."""
    if pos >= len(data) or data[pos] == 0:
        return None, 1
    first = data[pos]
    length = 8 - first.bit_length() + 1
    if pos + length > len(data):
        return None, length
    value = first & ((1 << (8 - length)) - 1)
    for b in data[pos + 1:pos + length]:
        value = (value << 8) | b
    if value == (1 << (7 * length)) - 1:
        return None, length  # unknown size (live streams)
    return value, length


def _open_source(source):
    """(file object, owned) for a path, bytes or an open binary file object."""
    if isinstance(source, (str, os.PathLike)):
        try:
            return open(source, "rb"), True
        except OSError as exc:
            raise UnreadableFile(f"cannot open: {exc.strerror or exc}") from None
    if isinstance(source, (bytes, bytearray, memoryview)):
        return io.BytesIO(bytes(source)), True
    if hasattr(source, "read"):
        return source, False
    raise TypeError(f"scan a path, bytes or a binary file object, not {type(source).__name__}")


class VideoReader:
    """An open video: `info`, then `frames()` once. Use as a context manager.

    After `frames()` is exhausted: `stop` is "end" when the whole stream was decoded, else a stable
    code (max-duration, max-frames, time-budget, read-budget, stalled, truncated, corrupt,
    too-large, ended-early) with `stop_detail`; `end_s` is the time through which frames were decoded;
    `unscanned` lists (from_s, to_s or None, reason) ranges whose frames were never seen.
    """

    def __init__(self, source, limits: DecodeLimits = DecodeLimits()):
        self.limits = limits
        self.warnings: list[str] = []
        self._warned: set[str] = set()
        self.unscanned: list[tuple[float, float | None, str]] = []
        self.stop = "not-started"
        self.stop_detail = ""
        self.frames_decoded = 0
        self.packets = 0
        self.end_s = 0.0
        raw, self._owned = _open_source(source)
        self._raw = raw
        self._container = None
        try:
            self._open(raw)
        except BaseException:
            self.close()
            raise

    def _open(self, raw) -> None:
        try:
            src = _Source(raw, self.limits)
        except OSError as exc:
            raise UnreadableFile(f"cannot read: {exc}") from None
        self._src = src
        if src.size == 0 or (src.size is None and not src.head):
            raise EmptyFile("empty file (0 bytes)")
        fmt = sniff_video(src.head)
        if fmt is None:
            other = describe_other_media(src.head)
            raise UnsupportedFormat(f"{other}, not a supported video container (MP4, MOV/M4V, WebM, MKV, AVI)"
                                    if other else "not a recognised video container (MP4, MOV/M4V, WebM, MKV, AVI)")
        try:
            import av
        except ImportError:
            raise VideoSupportMissing(f"{fmt} video: video decoding needs PyAV (the [video] extra): "
                                      "pip install 'bipacheck[video]'") from None
        self._av = av
        self._started = time.monotonic()
        try:
            self._container = av.open(src, mode="r", metadata_errors="ignore", buffer_size=1 << 16)
        except _ReadBudget as exc:
            raise DecodeBudgetExceeded(f"{fmt}: the demuxer kept reading while opening ({exc})") from None
        except av.error.FFmpegError as exc:
            raise self._unopenable(fmt, exc) from None
        container = self._container
        videos = [s for s in container.streams.video]
        moving = [s for s in videos if not _attached_picture(s)]
        if not videos:
            kinds = sorted({s.type for s in container.streams}) or ["no streams"]
            raise NoVideoStream(f"{fmt} container with no video stream ({', '.join(kinds)} only)")
        stream = moving[0] if moving else videos[0]
        if not moving:
            self.warnings.append("the only picture in the file is an attached picture (cover art); it is scanned")
        others = len(videos) - 1
        if others:
            self.warnings.append(f"{others} further video stream(s) not decoded (only stream #{stream.index})")
        self._stream = stream
        cc = stream.codec_context
        codec = getattr(cc, "name", None) if cc is not None else None
        if not codec:
            tag = getattr(stream, "codec_tag", None) or "unknown"
            raise UnsupportedCodec(f"{fmt} video stream with a codec ({tag}) this FFmpeg build cannot decode")
        w, h = cc.width, cc.height
        if w <= 0 or h <= 0:
            raise ZeroSizeVideo(f"{fmt} {codec} stream declares {w}x{h} pixels")
        if w * h > self.limits.max_pixels:
            raise FrameTooLarge(f"{fmt} {codec} frames of {w}x{h} = {w * h:,} pixels exceed the limit of "
                                f"{self.limits.max_pixels:,} per frame")
        cc.thread_count = max(1, self.limits.threads)
        duration = None
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration = container.duration / 1_000_000
        rate = float(stream.average_rate) if stream.average_rate else None
        self._origin = stream.start_time
        self.info = StreamInfo(fmt, container.format.name, codec, w, h, 0, duration, rate, src.size, others,
                               len(container.streams.audio))
        self._fmt = fmt

    def _unopenable(self, fmt: str, exc) -> Exception:
        end = declared_end(self._src, fmt)
        if end is not None and self._src.size is not None and end > self._src.size:
            return TruncatedVideo(f"truncated {fmt}: the file has {self._src.size:,} bytes, its container "
                                  f"declares {end:,}")
        return CorruptVideo(f"{fmt} signature but the container cannot be parsed: {_says(exc)}")

    @property
    def audio_streams(self) -> list:
        """The container's audio streams (PyAV streams), for a caller that copies them (frames(audio=...))."""
        return list(self._container.streams.audio)

    @property
    def video_stream(self):
        """The PyAV video stream decoded."""
        return self._stream

    @property
    def origin_s(self) -> float:
        """The stream time frame times count from (the first frame's, or the stream's declared start),
        in seconds on the container's clock: frame time_s + origin_s is the frame's time in the file."""
        tb = self._stream.time_base
        return float(self._origin * tb) if self._origin is not None and tb is not None else 0.0

    def frames(self, audio: Callable[[object], None] | None = None) -> Iterator[VideoFrame]:
        """Decoded frames in order. audio: called with each audio packet that holds data (PyAV
        packets of `audio_streams`, demuxed alongside the video in file order, not decoded)."""
        av = self._av
        limits, stream = self.limits, self._stream
        tb = stream.time_base
        last_t = None
        last_dur = 0.0
        since_frame = 0
        error_from: float | None = None
        rotation_seen: int | None = None
        audio_streams = self.audio_streams if audio is not None else []
        packets = self._container.demux(stream, *audio_streams)
        self.stop = "end"
        while True:
            if limits.time_budget_s is not None and time.monotonic() - self._started > limits.time_budget_s:
                self._halt("time-budget", f"decoding took longer than {limits.time_budget_s:g} s")
                break
            try:
                packet = next(packets)
            except StopIteration:
                packet = None
            except _ReadBudget as exc:
                self._halt("read-budget", f"the demuxer kept reading ({exc})")
                break
            except av.error.EOFError:
                packet = None
            except av.error.FFmpegError as exc:
                self._halt("truncated" if self._cut_short() else "corrupt", f"cannot read packets: {_says(exc)}")
                break
            if packet is not None and packet.stream.type != "video":
                if packet.size:
                    audio(packet)
                continue
            if packet is not None:
                self.packets += 1
                since_frame += 1
                if since_frame > limits.max_packets_without_frame:
                    self._halt("stalled", f"{since_frame - 1:,} packets gave no frame")
                    break
            try:
                decoded = stream.decode(packet)
            except av.error.DecoderNotFoundError:
                raise UnsupportedCodec(f"{self._fmt}: no decoder for {self.info.codec}") from None
            except _ReadBudget as exc:
                self._halt("read-budget", f"the demuxer kept reading ({exc})")
                break
            except av.error.EOFError:
                decoded = []
            except av.error.FFmpegError as exc:
                if packet is None or self._src.at_eof or self._cut_short():
                    self._halt("truncated" if self._cut_short() or self._src.at_eof else "corrupt",
                               f"decoding stopped: {_says(exc)}")
                    break
                # a damaged packet: the decoder goes on from the next one; its time is reported unscanned
                t = self._time(packet.pts, tb, last_t)
                if error_from is None:
                    error_from = t if t is not None else (last_t or 0.0)
                self._warn_once("damaged", f"packets that could not be decoded (first at {error_from:.2f} s)")
                decoded = []
            for frame in decoded:
                t = self._time(frame.pts if frame.pts is not None else frame.dts, tb, last_t)
                if t is None:
                    t = (last_t or 0.0) + last_dur
                    self._warn_once("no-pts", "frames without timestamps (times estimated from the previous frame)")
                if last_t is not None and t < last_t:
                    self._warn_once("backwards", f"timestamps go backwards at {last_t:.3f} s (held at the last time)")
                    t = last_t
                if error_from is not None:
                    self.unscanned.append((error_from, t, "corrupt"))
                    error_from = None
                if limits.max_duration_s is not None and t >= limits.max_duration_s:
                    self.end_s = max(self.end_s, limits.max_duration_s)
                    self._halt("max-duration", f"stopped at the cap of {limits.max_duration_s:g} s")
                    break
                if self.frames_decoded >= limits.max_frames:
                    self.end_s = max(self.end_s, t)
                    self._halt("max-frames", f"stopped at the cap of {limits.max_frames:,} frames")
                    break
                if frame.width <= 0 or frame.height <= 0:
                    if not self.frames_decoded:
                        raise ZeroSizeVideo(f"{self._fmt} {self.info.codec} stream decodes to "
                                            f"{frame.width}x{frame.height}")
                    self._halt("corrupt", f"a frame of {frame.width}x{frame.height} at {t:.2f} s")
                    break
                if frame.width * frame.height > limits.max_pixels:
                    if not self.frames_decoded:
                        raise FrameTooLarge(f"{self._fmt} frames of {frame.width}x{frame.height} exceed the limit "
                                            f"of {limits.max_pixels:,} pixels per frame")
                    self._halt("too-large", f"a frame of {frame.width}x{frame.height} at {t:.2f} s exceeds "
                                            f"{limits.max_pixels:,} pixels")
                    break
                k = self._turns(frame, first=rotation_seen is None)
                if rotation_seen is None:
                    rotation_seen = k
                    self._set_rotation(k, frame)
                elif k != rotation_seen:
                    self._warn_once("rotation", "the display rotation changes within the stream")
                since_frame = 0
                if last_t is not None and t > last_t:
                    last_dur = t - last_t
                last_t = t
                dur = float(frame.duration * tb) if getattr(frame, "duration", None) and tb else last_dur
                self.end_s = max(self.end_s, t + max(dur, 0.0))
                self.frames_decoded += 1
                yield VideoFrame(self.frames_decoded - 1, t, bool(frame.key_frame), frame, k)
            else:
                if packet is None:
                    break
                continue
            break  # a cap inside the frame loop
        if self.stop == "end":
            if self.frames_decoded == 0:
                if self._cut_short():
                    raise TruncatedVideo(f"truncated {self._fmt}: no frame could be decoded")
                raise CorruptVideo(f"{self._fmt} {self.info.codec} stream: no frame could be decoded")
            declared = self.info.duration_s
            if declared is not None and declared - self.end_s > max(1.0, 0.02 * declared):
                self._halt("truncated" if self._cut_short() else "ended-early",
                           f"frames end at {self.end_s:.2f} s of a declared {declared:.2f} s")
        elif self.frames_decoded == 0:
            cls = TruncatedVideo if self.stop == "truncated" else (
                DecodeBudgetExceeded if self.stop in ("time-budget", "read-budget", "stalled") else CorruptVideo)
            raise cls(f"{self._fmt}: no frame decoded: {self.stop_detail}")

    def _time(self, pts, tb, last_t) -> float | None:
        if pts is None or tb is None:
            return None
        if self._origin is None:
            self._origin = pts
        return max(0.0, float((pts - self._origin) * tb))

    def _turns(self, frame, first: bool = False) -> int:
        """np.rot90's k that makes the stored frame upright (PyAV's rotation is counterclockwise).
        The display matrix is read for a mirror on the first frame only: reading a frame's side data
        through PyAV (18.1) kept memory that grew with every frame read so (60 MB over 1,800 frames)."""
        rotation = frame.rotation or 0
        k = round(rotation / 90)
        if rotation != k * 90:
            self._warn_once("angle", f"display rotation of {rotation} degrees rounded to {k * 90}")
        for side in (frame.side_data or ()) if first else ():
            if str(side.type).endswith("DISPLAYMATRIX"):
                m = struct.unpack("<9i", bytes(side)[:36])
                if m[0] * m[4] - m[1] * m[3] < 0:
                    self._warn_once("mirror", "the display matrix mirrors the picture: boxes are in the "
                                              "unmirrored, rotated frame")
        return k % 4

    def _set_rotation(self, k: int, frame) -> None:
        w, h = frame.width, frame.height
        uw, uh = (h, w) if k % 2 else (w, h)
        self.info = replace(self.info, width=uw, height=uh, rotation=(-90 * k) % 360)

    def _cut_short(self) -> bool:
        src = self._src
        if src.size is None:
            return False
        end = declared_end(src, self._fmt)
        return end is not None and end > src.size

    def _halt(self, code: str, detail: str) -> None:
        self.stop, self.stop_detail = code, detail

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            self.warnings.append(message)

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None
        if self._owned:
            self._raw.close()

    def __enter__(self) -> "VideoReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _attached_picture(stream) -> bool:
    return bool(int(stream.disposition or 0) & 0x0400)  # AV_DISPOSITION_ATTACHED_PIC: cover art


def _says(exc) -> str:
    """FFmpeg's message without the local file name PyAV appends."""
    text = getattr(exc, "strerror", None) or str(exc)
    return str(text).split(": '")[0]


def open_video(source, limits: DecodeLimits = DecodeLimits()) -> VideoReader:
    """Open `source` (a path, bytes or a binary file object, read as a stream) or raise an ImageError."""
    return VideoReader(source, limits)


def frame_at(source, time_s: float, limits: DecodeLimits = DecodeLimits()) -> np.ndarray | None:
    """The upright RGB frame shown at `time_s` (the last frame presented at or before it; the first
    frame for an earlier time): what a report shows as a face track's keyframe. Decodes from the
    start (a keyframe is wanted once per track, not per frame). None when no frame decodes."""
    shown = None
    with open_video(source, limits) as reader:
        for frame in reader.frames():
            if shown is not None and frame.time_s > time_s + 1e-6:
                frame.release()
                break
            if shown is not None:
                shown.release()
            shown = frame
        return None if shown is None else shown.rgb().copy()
