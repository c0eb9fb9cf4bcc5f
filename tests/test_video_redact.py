"""A redacted copy of a video (issue 26): bipacheck.video.redact.redact_video.

Videos are made at test time by fixtures/make_video.py (the astronaut's face on screen from 2.0 to
4.0 s); the tracks redacted are the real CenterFace's, from scan_video, and the copy is scanned again."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bipacheck.outputs import UnsafeOutput
from bipacheck.video.decode import DecodeLimits, open_video
from bipacheck.video.errors import IncompleteRedaction, TruncatedVideo
from bipacheck.video import redact as redact_module
from bipacheck.video.redact import redact_video
from bipacheck.video.scan import scan_video
from bipacheck.video.tracks import FaceTrack, TrackPoint
from tests.test_video import av, make_video, videos  # noqa: F401 - `videos` is the shared fixture

FACE_FROM, FACE_TO = make_video.FACE_FROM, make_video.FACE_TO
REPO = Path(__file__).resolve().parents[1]


def _frames(path) -> tuple[list[float], object]:
    """(frame times, reader after the whole decode)."""
    with open_video(path) as reader:
        times = [f.time_s for f in reader.frames()]
    return times, reader


def _rgb_at(path, t: float) -> np.ndarray:
    """The upright pixels of the frame shown at time t."""
    with open_video(path) as reader:
        shown = None
        for frame in reader.frames():
            if frame.time_s > t + 1e-6:
                break
            shown = frame.rgb().copy()
    return shown


def _diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def _left(folder) -> list[str]:
    return sorted(os.listdir(folder))


def _true_track(size=make_video.SIZE) -> FaceTrack:
    """A track built from where make_video pasted the face (no detector), sampled every 0.5 s."""
    times = [FACE_FROM + 0.5 * i for i in range(4)]
    track = FaceTrack(0, 0, [TrackPoint(t, make_video.face_box(t, size), 0.9) for t in times])
    track.start_s, track.end_s, track.may_start_s, track.may_end_s = FACE_FROM, FACE_TO, FACE_FROM - 0.5, FACE_TO
    return track


@pytest.mark.parametrize("suffix", [".mp4", ".webm", ".avi"])
def test_redacted_copy_has_no_face_and_the_rest_is_unchanged(videos, centerface, tmp_path, suffix):
    source = videos("face" + suffix)
    scan = scan_video(source, centerface)
    assert len(scan.tracks) == 1
    out = tmp_path / ("copy" + suffix)
    record = redact_video(source, out, scan.tracks)
    assert record.complete and out.exists()
    again = scan_video(out, centerface)
    assert again.tracks == [], [t.as_dict() for t in again.tracks]  # the re-scan finds no face
    assert again.coverage.complete and again.format == scan.format
    # outside the track's span the frame is the source's, within the codec's noise
    assert _diff(_rgb_at(out, 1.0), _rgb_at(source, 1.0)) < 3.0
    # inside it the face is gone: the face's box differs strongly from the source's
    x, y, w, h = make_video.face_box(3.0)
    face_src, face_copy = _rgb_at(source, 3.0)[y:y + h, x:x + w], _rgb_at(out, 3.0)[y:y + h, x:x + w]
    assert _diff(face_src, face_copy) > 10.0
    # the record for the manifest: boxes and times only
    (track,) = record.tracks
    assert track.track == scan.tracks[0].track_id
    assert track.from_s <= FACE_FROM and track.to_s >= FACE_TO - 0.1
    assert track.from_s >= scan.tracks[0].may_start_s and track.to_s <= scan.tracks[0].may_end_s
    assert track.frames == record.frames_obscured == round((track.to_s - track.from_s) * make_video.FPS) + 1
    assert record.video_codec == {".mp4": "libx264", ".webm": "libvpx-vp9", ".avi": "mpeg4"}[suffix]
    doc = record.as_dict()
    json.dumps(doc)
    assert doc["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest() and doc["complete"] is True
    assert set(doc["tracks"][0]) == {"track", "from_s", "to_s", "frames", "may_start_s", "may_end_s"}


@pytest.mark.parametrize("suffix,fmt,muxer", [(".mov", "MOV", "mov"), (".mkv", "MKV", "matroska"),
                                              (".m4v", "M4V", "ipod")])
def test_the_copy_is_in_the_same_container_family(videos, tmp_path, suffix, fmt, muxer):
    out = tmp_path / ("copy" + suffix)
    record = redact_video(videos("face" + suffix), out, [_true_track()], style="fill")
    assert (record.format, record.muxer, record.video_codec) == (fmt, muxer, "libx264")
    times, reader = _frames(out)
    assert reader.info.format == fmt and reader.info.codec == "h264" and len(times) == 60
    x, y, w, h = make_video.face_box(3.0)
    assert _rgb_at(out, 3.0)[y + h // 4:y + 3 * h // 4, x + w // 4:x + 3 * w // 4].max() < 40  # filled black


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_audio_is_kept_packet_for_packet(videos, tmp_path, suffix):
    source = videos("face-audio" + suffix, audio=True)
    out = tmp_path / ("copy" + suffix)
    record = redact_video(source, out, [_true_track()])
    assert record.audio == [{"stream": 1, "codec": "aac", "handling": "copied"}]

    def audio(path):
        with av.open(str(path)) as container:
            (stream,) = container.streams.audio
            rate, layout = stream.codec_context.sample_rate, stream.codec_context.layout.name
            packets = [(hashlib.sha256(bytes(p)).hexdigest(), float(p.pts * p.time_base))
                       for p in container.demux(stream) if p.size]
        return rate, layout, packets

    rate, layout, packets = audio(source)
    assert audio(out)[:2] == (rate, layout) == (16000, "mono")
    copied = audio(out)[2]
    assert [h for h, _ in copied] == [h for h, _ in packets] and len(packets) > 50  # the same bytes
    assert [t for _, t in copied] == pytest.approx([t for _, t in packets], abs=1e-3)  # at the same times


def test_frame_count_and_duration_are_kept(videos, tmp_path):
    source = videos("face.mp4")
    out = tmp_path / "copy.mp4"
    record = redact_video(source, out, [_true_track()])
    src_times, src_reader = _frames(source)
    out_times, out_reader = _frames(out)
    assert len(out_times) == len(src_times) == record.frames == 60
    assert out_times == pytest.approx(src_times, abs=1e-3)
    assert out_reader.end_s == pytest.approx(src_reader.end_s, abs=1 / make_video.FPS)
    assert out_reader.info.duration_s == pytest.approx(src_reader.info.duration_s, abs=1 / make_video.FPS)
    assert record.duration_s == pytest.approx(6.0, abs=0.01)


def test_variable_frame_rate_times_are_kept(videos, tmp_path):
    source = videos("face-vfr.mp4", vfr=True)
    out = tmp_path / "copy.mp4"
    redact_video(source, out, [_true_track()])
    src_times, _ = _frames(source)
    out_times, _ = _frames(out)
    steps = {round(b - a, 3) for a, b in zip(out_times, out_times[1:])}
    assert len(out_times) == len(src_times) and out_times == pytest.approx(src_times, abs=1e-3)
    assert len(steps) > 4  # still variable: 25 to 250 ms between frames


@pytest.mark.parametrize("rotate", [90, 270])
def test_rotated_source_gives_an_upright_copy(videos, centerface, tmp_path, rotate):
    source = videos(f"face-rotate{rotate}.mp4", rotate=rotate)
    scan = scan_video(source, centerface)
    out = tmp_path / "copy.mp4"
    record = redact_video(source, out, scan.tracks)
    assert record.rotation_applied == rotate and (record.width, record.height) == make_video.SIZE
    _, reader = _frames(out)
    assert reader.info.rotation == 0 and (reader.info.width, reader.info.height) == make_video.SIZE
    with av.open(str(out)) as container:
        frame = next(container.decode(video=0))
        assert (frame.width, frame.height) == make_video.SIZE and not frame.rotation  # stored upright
    assert _diff(_rgb_at(out, 1.0), _rgb_at(source, 1.0)) < 3.0
    assert scan_video(out, centerface).tracks == []


def test_a_destination_that_is_a_link_is_refused(videos, tmp_path):
    source = videos("face.mp4")
    target = tmp_path / "elsewhere.mp4"
    target.write_bytes(b"not to be overwritten")
    link = tmp_path / "copy.mp4"
    link.symlink_to(target)
    with pytest.raises(UnsafeOutput, match="symbolic link"):
        redact_video(source, link, [_true_track()])
    assert target.read_bytes() == b"not to be overwritten" and link.is_symlink()
    dangling = tmp_path / "dangling.mp4"
    dangling.symlink_to(tmp_path / "nowhere.mp4")
    with pytest.raises(UnsafeOutput, match="symbolic link"):
        redact_video(source, dangling, [_true_track()])
    assert not (tmp_path / "nowhere.mp4").exists()
    assert _left(tmp_path) == ["copy.mp4", "dangling.mp4", "elsewhere.mp4"]


def test_the_source_itself_is_refused(videos, tmp_path):
    source = tmp_path / "face.mp4"
    source.write_bytes(videos("face.mp4").read_bytes())
    before = source.read_bytes()
    hard = tmp_path / "hard.mp4"
    os.link(source, hard)
    for destination in (source, tmp_path / "." / "face.mp4", hard):
        with pytest.raises(UnsafeOutput, match="source video itself"):
            redact_video(source, destination, [_true_track()])
    assert source.read_bytes() == before and _left(tmp_path) == ["face.mp4", "hard.mp4"]


def test_truncated_source_raises_and_leaves_no_file(videos, tmp_path):
    data = videos("face-faststart.mp4", faststart=True).read_bytes()
    source = tmp_path / "cut.mp4"
    source.write_bytes(data[:len(data) * 3 // 4])  # frames decode up to the cut, then stop
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    with pytest.raises(IncompleteRedaction) as caught:
        redact_video(source, out_dir / "copy.mp4", [_true_track()])
    assert caught.value.stop == "truncated" and 1.0 < caught.value.end_s < 6.0
    assert caught.value.reason == "incomplete-redaction" and "no copy written" in str(caught.value)
    assert _left(out_dir) == []  # no partial copy, no temporary file
    # the index at the end, cut off: not even opened; nothing written either
    whole = videos("face.mp4").read_bytes()
    (tmp_path / "half.mp4").write_bytes(whole[:len(whole) // 2])
    with pytest.raises(TruncatedVideo):
        redact_video(tmp_path / "half.mp4", out_dir / "copy.mp4", [_true_track()])
    assert _left(out_dir) == []


def test_a_decode_cap_is_incomplete_too(videos, tmp_path):
    with pytest.raises(IncompleteRedaction) as caught:
        redact_video(videos("face.mp4"), tmp_path / "copy.mp4", [_true_track()],
                     limits=DecodeLimits(max_duration_s=3.0))
    assert caught.value.stop == "max-duration"
    assert _left(tmp_path) == []


def test_settings_are_checked(videos, tmp_path):
    with pytest.raises(ValueError, match="style"):
        redact_video(videos("face.mp4"), tmp_path / "copy.mp4", [], style="smudge")
    with pytest.raises(ValueError, match="margin"):
        redact_video(videos("face.mp4"), tmp_path / "copy.mp4", [], margin=-1)
    with pytest.raises(TypeError, match="paths"):
        redact_video(videos("face.mp4").read_bytes(), tmp_path / "copy.mp4", [])
    assert _left(tmp_path) == []


def test_audio_the_container_cannot_take_is_re_encoded(videos, tmp_path, monkeypatch):
    """Copying is the rule; a codec the muxer does not list is decoded and encoded again (forced here:
    the fixtures' AAC is taken by every container it is written in)."""
    monkeypatch.setattr(redact_module._Writer, "_copies", lambda self, codec: False)
    out = tmp_path / "copy.mp4"
    record = redact_video(videos("face-audio.mp4", audio=True), out, [_true_track()])
    assert record.audio == [{"stream": 1, "codec": "aac", "handling": "re-encoded (aac)"}]
    with av.open(str(out)) as container:
        (stream,) = container.streams.audio
        samples = sum(frame.samples for frame in container.decode(stream))
        assert stream.codec_context.sample_rate == 16000
    assert samples / 16000 == pytest.approx(6.1, abs=0.1)  # the whole tone, 6 s of video and 0.1 s more


_PEAK = """
import resource, sys
from bipacheck.video.decode import DecodeLimits
from bipacheck.video.redact import redact_video
record = redact_video(sys.argv[1], sys.argv[2], [], limits=DecodeLimits(max_duration_s=None))
print(record.frames, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def test_memory_does_not_grow_with_the_length(videos, tmp_path):
    """A ten-hour time-lapse (1,800 frames, 100 MB of pixels if kept) peaks within a few MB of a
    one-minute one (3 frames): frames are decoded, obscured and encoded one at a time."""
    def peak(name, hours):
        source = videos(name, make_video.long_video, hours=hours)
        done = subprocess.run([sys.executable, "-c", _PEAK, str(source), str(tmp_path / name)], check=True,
                              capture_output=True, text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
        frames, kb = map(int, done.stdout.split())
        return frames, kb

    short, long_ = peak("one-minute.mp4", 1 / 60), peak("ten-hours.mp4", 10.0)
    assert short[0] == 3 and long_[0] == 1800
    assert long_[1] - short[1] < 20_000, (short, long_)  # KB (measured: under 1 MB)
