"""Faces in video (issue 26, video core): decoding, sampling, tracks and coverage.

Videos are made at test time by fixtures/make_video.py from scikit-image photos; where detection is
what is tested, the detector is the real CenterFace."""

from __future__ import annotations

import importlib.util
import io
import json
import random
import struct
from pathlib import Path

import numpy as np
import pytest

from bipacheck.detect.base import Face, iou
from bipacheck.errors import EmptyFile, ImageError, UnsupportedFormat
from tests.requirements import require_module

av = require_module("av")  # the decoder (the [video] extra): a failure under CI=true, never a skip
require_module("skimage")

_spec = importlib.util.spec_from_file_location("make_video", Path(__file__).resolve().parents[1] / "fixtures" /
                                               "make_video.py")
make_video = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_video)


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    """Videos made once per module, by name (each made on first use)."""
    folder = tmp_path_factory.mktemp("videos")
    made: dict[str, Path] = {}

    def get(name: str, maker=None, **kwargs) -> Path:
        if name not in made:
            made[name] = (maker or make_video.face_video)(folder / name, **kwargs)
        return made[name]

    return get


def _stsd_entry(data: bytes) -> int:
    """Offset of the video sample entry's four-character code in an MP4's stsd box."""
    return data.index(b"stsd") + 16


# broken files, all named .mp4 (the name decides nothing), and the error each must give
BAD = {
    "truncated": lambda face: face[:len(face) // 2],  # the index (moov) is at the end: never reached
    "zero-length": lambda face: b"",
    "garbage": lambda face: bytes(random.Random(7).randrange(256) for _ in range(4096)),
    "text": lambda face: b"this is not a video\n" * 20,
    "unsupported-codec": lambda face: face[:_stsd_entry(face)] + b"zzzz" + face[_stsd_entry(face) + 4:],
}
BAD_REASONS = {"truncated": "truncated", "zero-length": "empty-file", "garbage": "unsupported-format",
               "text": "unsupported-format", "unsupported-codec": "unsupported-codec"}


def _zero_size_avi(path: Path) -> Path:
    """Raw video in AVI takes its size from the container only: patched to declare 0 x 0."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("rawvideo", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for k in range(3):
            frame = av.VideoFrame.from_ndarray(np.zeros((48, 64, 3), np.uint8), format="rgb24")
            frame.pts = k
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    data = bytearray(path.read_bytes())
    strf = data.index(b"strf")
    assert struct.unpack("<ii", data[strf + 12:strf + 20]) == (64, 48)
    data[strf + 12:strf + 20] = bytes(8)  # BITMAPINFOHEADER width, height
    avih = data.index(b"avih")
    data[avih + 40:avih + 48] = bytes(8)  # the main header's width, height
    path.write_bytes(bytes(data))
    return path


def _lying_mkv(videos, tmp_path) -> Path:
    """The MKV face video with its segment Duration raised from 6 s to 60 s."""
    data = bytearray(videos("face.mkv").read_bytes())
    at = data.index(b"\x44\x89\x88")  # the Matroska segment's Duration, an 8-byte float in ms
    assert struct.unpack(">d", data[at + 3:at + 11]) == (6000.0,)
    data[at + 3:at + 11] = struct.pack(">d", 60_000.0)
    path = tmp_path / "liar.mkv"
    path.write_bytes(bytes(data))
    return path


class Stream(io.RawIOBase):
    """A remote object's body: read in pieces, counted; optionally unable to seek."""

    def __init__(self, data: bytes, seekable: bool = True, largest_read: int = 1 << 20):
        self._f = io.BytesIO(data)
        self._seekable = seekable
        self.largest_read = largest_read
        self.reads = 0
        self.bytes = 0

    def readable(self):
        return True

    def seekable(self):
        return self._seekable

    def read(self, n=-1):
        assert 0 <= n <= self.largest_read, f"read({n}): the whole object was asked for"
        self.reads += 1
        data = self._f.read(n)
        self.bytes += len(data)
        return data

    def seek(self, offset, whence=0):
        if not self._seekable:
            raise OSError("not seekable")
        return self._f.seek(offset, whence)

    def tell(self):
        return self._f.tell()


# ======================================================================================= decode
from bipacheck.video.decode import DecodeLimits, describe_other_media, open_video, sniff_video  # noqa: E402
from bipacheck.video.errors import (CorruptVideo, DecodeBudgetExceeded, NoVideoStream,  # noqa: E402
                                    TruncatedVideo, ZeroSizeVideo)


def _decode(source, **limits):
    """(reader, frame times) of a whole decode."""
    with open_video(source, DecodeLimits(**limits)) as reader:
        times = [frame.time_s for frame in reader.frames()]
    return reader, times


def test_sniffing_by_content(videos):
    for name, expected in [("face.mp4", "MP4"), ("face.mov", "MOV"), ("face.m4v", "M4V"), ("face.webm", "WEBM"),
                           ("face.mkv", "MKV"), ("face.avi", "AVI")]:
        assert sniff_video(videos(name).read_bytes()[:64]) == expected, name
    assert sniff_video(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic") is None  # a HEIC photo
    assert sniff_video(b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00") is None
    assert sniff_video(b"\x00\x00\x00\x08wide\x00\x00\x00\x00mdat") == "MOV"  # QuickTime without ftyp
    assert sniff_video(b"\xff\xd8\xff\xe0" + bytes(60)) is None
    assert sniff_video(b"RIFF\x00\x00\x00\x00WEBPVP8 ") is None
    assert describe_other_media(b"FLV\x01" + bytes(60)) == "a Flash video (FLV)"


@pytest.mark.parametrize("suffix", [".mp4", ".mov", ".m4v", ".webm", ".mkv", ".avi"])
def test_decodes_every_container_with_its_times(videos, suffix):
    reader, times = _decode(videos("face" + suffix))
    assert times == pytest.approx(make_video.cfr_times(6.0), abs=0.002)
    assert reader.stop == "end" and reader.end_s == pytest.approx(6.0, abs=0.01) and not reader.unscanned
    assert (reader.info.width, reader.info.height, reader.info.rotation) == (*make_video.SIZE, 0)


def test_variable_frame_rate_times_come_from_timestamps(videos):
    reader, times = _decode(videos("face-vfr.mp4", vfr=True))
    expected = make_video.vfr_times(6.0)
    assert len(times) == len(expected)
    assert max(abs(a - b) for a, b in zip(times, expected)) < 0.002


@pytest.mark.parametrize("rotate", [90, 180, 270])
def test_rotation_metadata_gives_upright_pixels(videos, rotate):
    path = videos(f"face-rotate{rotate}.mp4", rotate=rotate)
    with av.open(str(path)) as container:  # stored sideways (or upside down) with a display matrix
        stream = container.streams.video[0]
        stored = (stream.codec_context.width, stream.codec_context.height)
    assert stored == (make_video.SIZE[::-1] if rotate % 180 else make_video.SIZE)
    upright = make_video._Frames(make_video.SIZE, [(make_video.FACE_FROM, make_video.FACE_TO)]).at(3.0)
    with open_video(path) as reader:
        frame = next(f for f in reader.frames() if f.time_s == pytest.approx(3.0))
        rgb = frame.rgb()
        assert (reader.info.width, reader.info.height, reader.info.rotation) == (*make_video.SIZE, rotate)
    assert rgb.shape == upright.shape
    assert np.mean(np.abs(rgb.astype(float) - upright)) < 12  # the same picture, up to compression


@pytest.mark.parametrize("kind", sorted(BAD))
def test_bad_input_is_a_typed_error_when_decoding(videos, tmp_path, kind):
    path = tmp_path / f"{kind}.mp4"
    path.write_bytes(BAD[kind](videos("face.mp4").read_bytes()))
    with pytest.raises(ImageError) as caught:
        _decode(path)
    assert caught.value.reason == BAD_REASONS[kind] and caught.value.message


def test_audio_only_file_has_no_video_stream(videos):
    path = videos("tone.m4a", make_video.audio_only)
    assert sniff_video(path.read_bytes()[:64]) == "MP4"  # an MP4 container, so it is opened
    with pytest.raises(NoVideoStream) as caught:
        _decode(path)
    assert caught.value.reason == "no-video-stream" and "audio" in caught.value.message


def test_zero_size_stream(tmp_path):
    with pytest.raises(ZeroSizeVideo) as caught:
        _decode(_zero_size_avi(tmp_path / "raw.avi"))
    assert caught.value.reason == "zero-size-video"


def test_truncated_and_unopenable_reasons_are_distinct(videos, tmp_path):
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(videos("face.mp4").read_bytes()[:5000])
    with pytest.raises(TruncatedVideo):
        _decode(cut)
    corrupt = tmp_path / "header-only.mkv"
    corrupt.write_bytes(b"\x1a\x45\xdf\xa3" + bytes(random.Random(3).randrange(256) for _ in range(2000)))
    with pytest.raises((CorruptVideo, TruncatedVideo)) as caught:
        _decode(corrupt)
    assert caught.value.reason in ("corrupt", "truncated")


def test_truncated_mid_stream_decodes_what_is_there_and_says_where_it_stopped(videos, tmp_path):
    data = videos("face-faststart.mp4", faststart=True).read_bytes()  # index first: frames before the cut decode
    path = tmp_path / "cut.mp4"
    path.write_bytes(data[:len(data) * 3 // 4])
    reader, times = _decode(path)
    assert reader.stop == "truncated" and 1.0 < reader.end_s < 6.0 and len(times) < 60


def test_ten_hour_video_is_decoded_to_the_cap(videos):
    reader, times = _decode(videos("ten-hours.mp4", make_video.long_video))  # 1,800 frames over 10 hours
    assert reader.info.duration_s == pytest.approx(36_000, abs=30)
    assert reader.stop == "max-duration" and reader.end_s == pytest.approx(3600)
    assert len(times) == 180 and times[-1] == pytest.approx(3580)


def test_budgets_and_the_frame_size_guard(videos):
    with pytest.raises(DecodeBudgetExceeded) as caught:
        _decode(videos("face.mp4"), time_budget_s=0.0)
    assert caught.value.reason == "decode-budget"
    with pytest.raises(ImageError) as caught:
        _decode(videos("face.mp4"), max_pixels=320 * 240 - 1)
    assert caught.value.reason == "too-large"
    reader, times = _decode(videos("face.mp4"), max_frames=10)
    assert reader.stop == "max-frames" and len(times) == 10


def test_header_claiming_more_than_the_frames_is_reported(videos, tmp_path):
    reader, times = _decode(_lying_mkv(videos, tmp_path))
    assert reader.info.duration_s == pytest.approx(60.0)
    assert reader.stop == "ended-early" and len(times) == 60


def test_decodes_a_stream_in_pieces(videos):
    data = videos("face.mp4").read_bytes()
    stream = Stream(data)
    reader, times = _decode(stream)
    assert len(times) == 60 and stream.reads > 1 and stream.bytes <= 4 * len(data)


@pytest.mark.parametrize("name", ["face.webm", "face-faststart.mp4"])
def test_decodes_a_stream_that_cannot_seek(videos, name):
    kwargs = {"faststart": True} if "faststart" in name else {}
    reader, times = _decode(Stream(videos(name, **kwargs).read_bytes(), seekable=False))
    assert len(times) == 60 and reader.stop == "end"


def test_bytes_source(videos):
    reader, times = _decode(videos("face.mkv").read_bytes())
    assert len(times) == 60


# ======================================================================================= sampling
from bipacheck.video.sampling import Sampler, sample_frames  # noqa: E402


class FakeFrame:
    """Only what the time rule reads: an index and a time (no pixels: the scene detector is off)."""

    def __init__(self, index, time_s):
        self.index, self.time_s = index, time_s

    def release(self):
        pass


def _sample_times(times, interval):
    sampler = Sampler(interval, scene_threshold=None)
    frames = [FakeFrame(i, t) for i, t in enumerate(times)]
    return [s.frame.index for s in sample_frames(frames, sampler)], sampler


@pytest.mark.parametrize("seed", range(40))
def test_sampling_guarantee(seed):
    rng = random.Random(seed)
    interval = rng.choice([0.5, 1.0, 2.0])
    step = interval / 2
    gaps = [rng.choice([1 / 60, 1 / 30, 1 / 24, 0.04, 0.1, 0.3, step, step * 1.5, 3.0]) for _ in range(400)]
    times = [0.0]
    for g in gaps:
        times.append(times[-1] + g)
    picked, sampler = _sample_times(times, interval)
    assert picked[0] == 0 and picked[-1] == len(times) - 1 and picked == sorted(set(picked))
    for a, b in zip(picked, picked[1:]):  # the invariant
        assert b == a + 1 or times[b] - times[a] <= step + 1e-9
    sample_times = [times[i] for i in picked]
    for _ in range(300):  # any window of `step` holding a frame's time holds a sample's time
        a = rng.uniform(-step, times[-1])
        if any(a <= t <= a + step for t in times):
            assert any(a <= t <= a + step for t in sample_times)
    assert sampler.max_gap_s <= step + 1e-9
    # at most two samples per step of video, plus the first and the last
    assert len(picked) <= 2 * times[-1] / step + 2


def test_sampling_at_ten_fps_takes_every_half_second():
    picked, _ = _sample_times([i / 10 for i in range(60)], 1.0)
    assert picked == [0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 59]


def test_a_face_on_screen_for_more_than_the_interval_is_in_two_samples():
    for fps in (24, 25, 30, 60):
        times = [i / fps for i in range(10 * fps)]
        picked, _ = _sample_times(times, 1.0)
        sample_times = [times[i] for i in picked]
        for k in range(0, 8 * fps):
            on, off = times[k], times[k] + 1.0 + 1.5 / fps  # shown for slightly more than the interval
            assert sum(on <= t < off for t in sample_times) >= 2, (fps, on)
            assert sum(on <= t < on + 0.5 + 1.5 / fps for t in sample_times) >= 1, (fps, on)


def test_a_cut_is_sampled_on_both_sides(videos):
    sampler = Sampler(1.0)
    with open_video(videos("scenes.mp4", make_video.scene_video, cut_at=3.0)) as reader:
        samples = list(sample_frames(reader.frames(), sampler))
    assert sampler.cuts == [pytest.approx(3.0)]
    scene = [s for s in samples if s.why == "scene"]
    assert [s.time_s for s in scene] == [pytest.approx(2.9), pytest.approx(3.0)]
    assert [s.shot for s in scene] == [0, 1]
    assert sampler.max_gap_s <= 0.5


# ======================================================================================= tracks
from bipacheck.video.tracks import Tracker  # noqa: E402


def _face(x, y, s=60, score=0.9):
    return Face(x, y, s, s, score)


def test_tracks_link_by_overlap_and_survive_a_missed_sample():
    tracker = Tracker()
    for t, faces in [(0.0, [_face(10, 10), _face(200, 10)]), (0.5, [_face(20, 12), _face(205, 10)]),
                     (1.0, [_face(210, 12)]), (1.5, [_face(40, 14), _face(215, 12)])]:
        tracker.add(t, faces)
    tracks = tracker.finish(0.0, 2.0)
    assert len(tracks) == 2
    left = next(t for t in tracks if t.points[0].box[0] == 10)
    assert [p.time_s for p in left.points] == [0.0, 0.5, 1.5]
    assert left.box_at(1.0) == (30, 13, 60, 60)  # interpolated across the missed sample
    assert left.box_at(1.75) is None and left.box_at(1.75, envelope=True) == (40, 14, 60, 60)


def test_tracks_break_at_a_cut_and_after_a_long_gap():
    tracker = Tracker()
    tracker.add(0.0, [_face(10, 10)], shot=0)
    tracker.add(0.5, [_face(10, 10)], shot=1)  # same place, other shot: another person
    tracker.add(1.0, [], shot=1)
    tracker.add(1.5, [], shot=1)
    tracker.add(2.0, [_face(10, 10)], shot=1)  # unseen for 1.5 s > max_gap_s
    tracks = tracker.finish(0.0, 2.5)
    assert len(tracks) == 3
    first = tracks[0]
    assert (first.start_s, first.end_s, first.may_start_s, first.may_end_s) == (0.0, 0.25, 0.0, 0.5)
    last = tracks[2]
    assert (last.start_s, last.end_s) == (1.75, 2.5)


def test_far_apart_faces_are_not_linked_and_the_best_observation_is_kept():
    tracker = Tracker()
    tracker.add(0.0, [_face(10, 10, score=0.5)])
    tracker.add(0.5, [_face(250, 10), _face(12, 10, score=0.8)])
    tracks = tracker.finish(0.0, 1.0)
    assert len(tracks) == 2
    assert tracks[0].best_score == 0.8 and tracks[0].best_time_s == 0.5 and tracks[0].samples == 2


# ======================================================================================= scan
from bipacheck.video.scan import VideoSettings, scan_video  # noqa: E402


def _within(track, start=make_video.FACE_FROM, end=make_video.FACE_TO, tolerance=0.5):
    assert abs(track.start_s - start) <= tolerance, track.as_dict()
    assert abs(track.end_s - end) <= tolerance, track.as_dict()


def _face_at_best(track, size=make_video.SIZE):
    """The track's best box is on the pasted face (upright coordinates)."""
    expected = make_video.face_box(track.best_time_s, size)
    assert iou(list(track.best_box), list(expected)) >= 0.5, (track.best_box, expected)


@pytest.mark.parametrize("suffix", [".mp4", ".mov", ".m4v", ".webm", ".mkv", ".avi"])
def test_face_on_screen_from_2_to_4_s_is_one_track(videos, centerface, suffix):
    scan = scan_video(videos("face" + suffix), centerface)
    assert len(scan.tracks) == 1, [t.as_dict() for t in scan.tracks]
    track = scan.tracks[0]
    _within(track)
    _face_at_best(track)
    assert track.samples >= 2  # on screen for 2 s: several samples at the default 1 s interval
    assert make_video.FACE_FROM <= track.first_seen_s and track.last_seen_s < make_video.FACE_TO
    assert (scan.width, scan.height, scan.rotation) == (*make_video.SIZE, 0)
    assert scan.coverage.complete and scan.coverage.stopped_by == "end"
    assert scan.coverage.scanned_to_s == pytest.approx(6.0, abs=0.01)
    assert scan.frames_decoded == 60
    json.dumps(scan.as_dict())  # what a report would carry


def test_face_free_video_gives_no_track(videos, centerface):
    scan = scan_video(videos("scenes.mp4", make_video.scene_video, cut_at=3.0), centerface)
    assert scan.tracks == []
    assert scan.coverage.complete
    assert scan.cuts == [pytest.approx(3.0)] and scan.samples_by_reason.get("scene") == 2


def test_track_box_follows_the_face_between_samples(videos, centerface):
    track = scan_video(videos("face.mp4"), centerface).tracks[0]
    for t in (2.2, 2.75, 3.3):  # between samples: interpolated boxes stay on the moving face
        assert iou(list(track.box_at(t)), list(make_video.face_box(t))) >= 0.5
    assert track.box_at(1.0) is None and track.box_at(1.0, envelope=True) is None
    assert track.box_at(track.may_start_s + 0.01, envelope=True) == track.points[0].box
    assert track.box_at(track.may_end_s - 0.01, envelope=True) == track.points[-1].box


@pytest.mark.parametrize("rotate", [90, 270])
def test_rotation_metadata_gives_upright_boxes(videos, centerface, rotate):
    scan = scan_video(videos(f"face-rotate{rotate}.mp4", rotate=rotate), centerface)
    assert (scan.width, scan.height, scan.rotation) == (*make_video.SIZE, rotate)
    assert len(scan.tracks) == 1
    _within(scan.tracks[0])
    _face_at_best(scan.tracks[0])


def test_variable_frame_rate_video(videos, centerface):
    scan = scan_video(videos("face-vfr.mp4", vfr=True), centerface)
    assert len(scan.tracks) == 1
    _within(scan.tracks[0])
    _face_at_best(scan.tracks[0])
    assert 0 < scan.coverage.max_sample_gap_s <= 0.5


@pytest.mark.parametrize("kind", sorted(BAD))
def test_bad_input_is_a_typed_error(videos, centerface, tmp_path, kind):
    path = tmp_path / f"{kind}.mp4"
    path.write_bytes(BAD[kind](videos("face.mp4").read_bytes()))
    with pytest.raises(ImageError) as caught:
        scan_video(path, centerface)
    assert caught.value.reason == BAD_REASONS[kind] and caught.value.message
    expected = {"truncated": TruncatedVideo, "zero-length": EmptyFile, "garbage": UnsupportedFormat,
                "text": UnsupportedFormat, "unsupported-codec": UnsupportedFormat}[kind]
    assert isinstance(caught.value, expected)


@pytest.mark.parametrize("make", ["audio-only", "zero-size"])
def test_no_pictures_is_a_typed_error(videos, centerface, tmp_path, make):
    path = videos("tone.m4a", make_video.audio_only) if make == "audio-only" else _zero_size_avi(tmp_path / "z.avi")
    with pytest.raises(ImageError) as caught:
        scan_video(path, centerface)
    assert caught.value.reason == {"audio-only": "no-video-stream", "zero-size": "zero-size-video"}[make]


def test_truncated_mid_stream_scans_what_is_there_and_reports_the_rest(videos, centerface, tmp_path):
    data = videos("face-faststart.mp4", faststart=True).read_bytes()
    path = tmp_path / "cut.mp4"
    path.write_bytes(data[:len(data) * 3 // 4])
    cov = scan_video(path, centerface).coverage
    assert not cov.complete and cov.stopped_by == "truncated"
    assert 1.0 < cov.scanned_to_s < 6.0
    assert cov.unscanned == ((cov.scanned_to_s, 6.0, "truncated"),)
    assert "INCOMPLETE" in cov.statement and "not scanned" in cov.statement


def test_ten_hour_video_is_bounded_and_says_what_it_covered(videos, centerface):
    scan = scan_video(videos("ten-hours.mp4", make_video.long_video), centerface)  # default settings
    cov = scan.coverage
    assert cov.duration_s == pytest.approx(36_000, abs=30)
    assert not cov.complete and cov.stopped_by == "max-duration"
    assert cov.scanned_to_s == pytest.approx(3600)
    assert cov.unscanned == ((3600.0, cov.duration_s, "max-duration"),)
    assert scan.frames_decoded == 180 and scan.samples == 180  # frames 20 s apart: every one is a sample
    assert "3600.00-" in cov.statement and "not scanned" in cov.statement
    assert scan.tracks == []


def test_sample_cap_stops_the_scan_and_says_where(videos, centerface):
    scan = scan_video(videos("face.mp4"), centerface, VideoSettings(max_samples=4))
    cov = scan.coverage
    assert scan.samples == 4 and cov.stopped_by == "max-samples" and not cov.complete
    assert cov.scanned_to_s == pytest.approx(1.5)
    assert cov.unscanned == ((1.5, 6.0, "max-samples"),)


def test_duration_cap_keeps_the_faces_before_it(videos, centerface):
    scan = scan_video(videos("face.mp4"), centerface, VideoSettings(max_duration_s=3.0))
    assert scan.coverage.stopped_by == "max-duration" and scan.coverage.scanned_to_s == pytest.approx(3.0)
    assert len(scan.tracks) == 1 and scan.tracks[0].first_seen_s == pytest.approx(2.0)


def test_time_budget_before_any_frame_is_a_typed_error(videos, centerface):
    with pytest.raises(DecodeBudgetExceeded):
        scan_video(videos("face.mp4"), centerface, VideoSettings(time_budget_s=0.0))


def test_header_claiming_more_than_the_frames_is_incomplete(videos, centerface, tmp_path):
    scan = scan_video(_lying_mkv(videos, tmp_path), centerface)
    assert scan.coverage.duration_s == pytest.approx(60.0)
    assert not scan.coverage.complete and scan.coverage.stopped_by == "ended-early"
    assert scan.coverage.unscanned == ((pytest.approx(6.0), pytest.approx(60.0), "ended-early"),)
    assert len(scan.tracks) == 1


def test_scans_a_stream_that_cannot_seek(videos, centerface):
    scan = scan_video(Stream(videos("face.webm").read_bytes(), seekable=False), centerface)
    assert len(scan.tracks) == 1
    _within(scan.tracks[0])


def test_settings_are_checked():
    for bad in ({"interval_s": 0}, {"interval_s": float("nan")}, {"max_samples": 0}, {"max_duration_s": -1}):
        with pytest.raises(ValueError):
            VideoSettings(**bad)
