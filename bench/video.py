"""Video: the decode library, scan throughput against decode-only, and recall by time on screen.

Every video is made in a temporary folder by fixtures/make_video.py (scikit-image photos; nothing
is read from ../shared and nothing is written into the repository).

    python bench/video.py libraries [--seconds 60] [--size 1280x720]
        PyAV against OpenCV's FFmpeg backend (cv2.VideoCapture), on the same files: reading from a
        file object (bytes read / file size), decode speed (frames only, and with RGB conversion),
        rotation metadata, VFR timestamps (error against the times written), seeking (time, and the
        error of the first frame at or after the target), peak memory of a 10 s against a
        `--seconds` clip (each in a fresh process, from a file object), and what each says about
        six broken files.
    python bench/video.py throughput [--seconds 20] [--size 1280x720] [--detector centerface] [--bare]
        scan_video at the default settings against decode-only (every frame decoded, nothing else)
        on the same clip in the same run: the ratio, frames per second, x real time, ms per sample.
        --bare also scans with the bare network (one scale, no turned views) to show the detector's share.
    python bench/video.py recall [--interval 1.0] [--durations 0.25,0.5,1,2]
        For a person on screen for each duration, one 30 fps video with 15 appearances whose start
        sweeps every frame phase of one sampling step (so every alignment with the samples occurs):
        how many appearances give a track, the fewest samples in a found one, false tracks.

Needs PyAV and scikit-image (pip install -e '.[test]'); `throughput` and `recall` need detector
weights (BIPACHECK_MODEL_DIR). --json FILE writes the numbers.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
_spec = importlib.util.spec_from_file_location("make_video", REPO / "fixtures" / "make_video.py")
make_video = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_video)


def _size(text: str) -> tuple[int, int]:
    w, h = text.lower().split("x")
    return int(w), int(h)


def _clip(folder: Path, name: str, seconds: float, size, fps: int = 30) -> Path:
    """A clip panning over scenes with the face on screen for 2 s in every 6 (a fast, non-exact encode)."""
    path = folder / name
    if not path.exists():
        on = [(t + 2.0, t + 4.0) for t in range(0, int(seconds), 6)]
        make_video.appearances_video(path, on, seconds, fps=fps, size=size, exact=False)
    return path


class Counting(io.BufferedIOBase):
    """A file object read in pieces (as a remote object would be), counting what is read."""

    def __init__(self, path: Path):
        self._f = open(path, "rb")
        self.bytes = 0

    def read(self, n=-1):
        data = self._f.read(n)
        self.bytes += len(data)
        return data

    def read1(self, n=-1):
        return self.read(n)

    def readinto(self, b):
        data = self.read(len(b))
        b[:len(data)] = data
        return len(data)

    def seek(self, offset, whence=0):
        return self._f.seek(offset, whence)

    def tell(self):
        return self._f.tell()

    def readable(self):
        return True

    def seekable(self):
        return True

    def close(self):
        self._f.close()


# ----------------------------------------------------------------------------- the two libraries

def pyav_frames(source, convert: bool = False):
    """(time_s, frame) for every frame, with PyAV directly; rotation applied when converting."""
    import av
    import numpy as np

    with av.open(source) as container:
        stream = container.streams.video[0]
        stream.codec_context.thread_count = 1
        for frame in container.decode(stream):
            t = float(frame.pts * frame.time_base)
            if convert:
                arr = frame.to_ndarray(format="rgb24")
                k = round((frame.rotation or 0) / 90) % 4
                yield t, (np.rot90(arr, k) if k else arr)
            else:
                yield t, frame


def opencv_frames(source, convert: bool = False):
    import cv2

    cap = cv2.VideoCapture(source, cv2.CAP_FFMPEG, [cv2.CAP_PROP_N_THREADS, 1])  # a path or a file object
    try:
        if not cap.isOpened():
            return
        while True:
            if convert:
                ok, frame = cap.read()
            else:
                ok, frame = cap.grab(), None
            if not ok:
                return
            yield cap.get(cv2.CAP_PROP_POS_MSEC) / 1000, frame
    finally:
        cap.release()


LIBS = {"pyav": pyav_frames, "opencv": opencv_frames}


def _decode_speed(lib: str, path: Path, convert: bool, repeat: int = 3) -> float:
    """Frames per second, the best of `repeat` runs (the machine is shared)."""
    best = 0.0
    for _ in range(repeat):
        start = time.perf_counter()
        n = sum(1 for _ in LIBS[lib](str(path), convert))
        best = max(best, n / (time.perf_counter() - start))
    return best


def _from_stream(lib: str, path: Path) -> tuple[int, float]:
    src = Counting(path)
    n = sum(1 for _ in LIBS[lib](src))
    src.close()
    return n, src.bytes / path.stat().st_size


def _rotation(lib: str, path: Path) -> str:
    for _, frame in LIBS[lib](str(path), True):
        return f"{frame.shape[1]}x{frame.shape[0]}"
    return "no frame"


def _vfr_error(lib: str, path: Path) -> float:
    times = [t for t, _ in LIBS[lib](str(path))]
    truth = make_video.vfr_times(6.0)
    if len(times) != len(truth):
        return float("nan")
    return max(abs(a - b) for a, b in zip(times, truth))


def _seek(lib: str, path: Path, target: float) -> tuple[float, float]:
    """(ms to seek and decode the first frame at or after target, its time minus target)"""
    start = time.perf_counter()
    if lib == "pyav":
        import av

        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            container.seek(int(target / stream.time_base), stream=stream, backward=True, any_frame=False)
            for frame in container.decode(stream):
                t = float(frame.pts * frame.time_base)
                if t >= target - 1e-6:
                    break
    else:
        import cv2

        cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG, [cv2.CAP_PROP_N_THREADS, 1])
        cap.set(cv2.CAP_PROP_POS_MSEC, target * 1000)
        cap.read()
        t = cap.get(cv2.CAP_PROP_POS_MSEC) / 1000
        cap.release()
    return (time.perf_counter() - start) * 1000, t - target


_MEMORY = """
import io, sys
def rss(field):
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1]) / 1024
lib, path = sys.argv[1], sys.argv[2]
import numpy as np
if lib == "pyav":
    import av
else:
    import cv2
f = open(path, "rb")
src = io.BufferedReader(f)
before = rss("VmRSS:")
n = 0
if lib == "pyav":
    with av.open(src) as c:
        s = c.streams.video[0]
        s.codec_context.thread_count = 1
        for frame in c.decode(s):
            frame.to_ndarray(format="rgb24")
            n += 1
else:
    cap = cv2.VideoCapture(src, cv2.CAP_FFMPEG, [cv2.CAP_PROP_N_THREADS, 1])
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        n += 1
print(n, before, rss("VmHWM:"))
"""


def _memory(lib: str, path: Path) -> tuple[float, float]:
    """(peak RSS MB, growth MB over the RSS after imports) of a fresh process decoding `path` from a
    file object and converting every frame to RGB."""
    out = subprocess.run([sys.executable, "-c", _MEMORY, lib, str(path)], capture_output=True, text=True,
                         check=True).stdout.split()
    return float(out[2]), float(out[2]) - float(out[1])


def _broken(folder: Path) -> dict[str, Path]:
    face = make_video.face_video(folder / "b-face.mp4")
    fast = make_video.face_video(folder / "b-faststart.mp4", faststart=True)
    data, fdata = face.read_bytes(), fast.read_bytes()
    files = {
        "truncated (index at end)": data[:len(data) // 2],
        "truncated mid-stream": fdata[:len(fdata) * 3 // 4],
        "zero-length": b"",
        "garbage named .mp4": os.urandom(4096),
        "unsupported codec": data[:data.index(b"stsd") + 16] + b"zzzz" + data[data.index(b"stsd") + 20:],
    }
    out = {}
    for i, (name, content) in enumerate(files.items()):
        out[name] = folder / f"broken{i}.mp4"
        out[name].write_bytes(content)
    out["audio only"] = make_video.audio_only(folder / "broken-audio.m4a")
    return out


def _says(lib: str, path: Path) -> str:
    if lib == "pyav":
        from bipacheck.video import open_video
        from bipacheck.errors import ImageError

        try:
            with open_video(path) as reader:
                n = sum(1 for _ in reader.frames())
                return f"{n} frames; stop={reader.stop}" + (f" ({reader.stop_detail})" if reader.stop != "end" else "")
        except ImageError as exc:
            return f"{exc.reason}: {exc.message}"
    import cv2

    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    opened = cap.isOpened()
    count = cap.get(cv2.CAP_PROP_FRAME_COUNT)
    n = 0
    while opened and cap.grab():
        n += 1
    cap.release()
    return f"isOpened={opened}, {n} frames read (FRAME_COUNT {count:g}), no reason given"


def libraries(args) -> dict:
    import av
    import cv2

    size = _size(args.size)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        long_clip = _clip(folder, "long.mp4", args.seconds, size)
        short_clip = _clip(folder, "short.mp4", 10, size)
        rotated = make_video.face_video(folder / "rot90.mp4", rotate=90)
        vfr = make_video.face_video(folder / "vfr.mp4", vfr=True)
        broken = _broken(folder)
        print(f"PyAV {av.__version__} (FFmpeg {'.'.join(map(str, av.library_versions['libavcodec']))} avcodec), "
              f"OpenCV {cv2.__version__}; clip {args.size} 30 fps H.264, {args.seconds:g} s "
              f"({long_clip.stat().st_size / 1e6:.1f} MB)")
        result = {}
        for lib in LIBS:
            r = {}
            r["stream_frames"], r["stream_read_ratio"] = _from_stream(lib, long_clip)
            r["fps_decode"] = _decode_speed(lib, long_clip, False)
            r["fps_decode_rgb"] = _decode_speed(lib, long_clip, True)
            r["rotate90_upright"] = _rotation(lib, rotated)
            r["vfr_max_error_ms"] = _vfr_error(lib, vfr) * 1000
            r["seek_ms"], r["seek_error_s"] = min(_seek(lib, long_clip, args.seconds * 0.6) for _ in range(3))
            r["peak_rss_mb_10s"], r["rss_growth_mb_10s"] = _memory(lib, short_clip)
            r[f"peak_rss_mb_{args.seconds:g}s"], r[f"rss_growth_mb_{args.seconds:g}s"] = _memory(lib, long_clip)
            r["broken"] = {name: _says(lib, path) for name, path in broken.items()}
            result[lib] = r
    for lib, r in result.items():
        print(f"\n{lib}")
        for key, value in r.items():
            if key == "broken":
                for name, said in value.items():
                    print(f"  {name:26} {said}")
            else:
                print(f"  {key:26} {value:.3f}" if isinstance(value, float) else f"  {key:26} {value}")
    return result


# ----------------------------------------------------------------------------- throughput

def _detector(name: str, multipass: bool = True):
    from bipacheck.detect.detectors import create_detector

    return create_detector(name, multipass=multipass)


def throughput(args) -> dict:
    from bipacheck.video import VideoSettings, open_video, scan_video

    size = _size(args.size)
    detector = _detector(args.detector)
    with tempfile.TemporaryDirectory() as tmp:
        clip = _clip(Path(tmp), "clip.mp4", args.seconds, size)
        start = time.perf_counter()
        with open_video(clip) as reader:
            frames = sum(1 for _ in reader.frames())
        decode_s = time.perf_counter() - start
        start = time.perf_counter()
        with open_video(clip) as reader:
            for frame in reader.frames():
                frame.thumb()
        thumbs_s = time.perf_counter() - start
        start = time.perf_counter()
        scan = scan_video(clip, detector, VideoSettings())
        scan_s = time.perf_counter() - start
        bare_s = None
        if args.bare:
            start = time.perf_counter()
            bare = scan_video(clip, _detector(args.detector, multipass=False), VideoSettings())
            bare_s = time.perf_counter() - start
    result = {"size": args.size, "seconds": args.seconds, "frames": frames, "decode_only_s": decode_s,
              "decode_and_thumbnails_s": thumbs_s, "scan_s": scan_s, "ratio_scan_to_decode": decode_s / scan_s,
              "scan_fps": frames / scan_s, "decode_fps": frames / decode_s, "scan_x_realtime": args.seconds / scan_s,
              "samples": scan.samples, "ms_per_sample": 1000 * (scan_s - thumbs_s) / max(1, scan.samples),
              "tracks": len(scan.tracks), "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    print(f"{args.size} 30 fps, {args.seconds:g} s, {frames} frames, detector {args.detector}")
    print(f"  decode only           {decode_s:6.2f} s  ({frames / decode_s:6.1f} fps)")
    print(f"  decode + thumbnails   {thumbs_s:6.2f} s")
    print(f"  scan_video (default)  {scan_s:6.2f} s  ({frames / scan_s:6.1f} fps, {args.seconds / scan_s:.2f}x real "
          f"time), {scan.samples} samples, {result['ms_per_sample']:.0f} ms per sample, {len(scan.tracks)} tracks")
    print(f"  scan throughput / decode-only throughput = {decode_s / scan_s:.3f}")
    if bare_s is not None:
        result.update(bare_scan_s=bare_s, bare_ratio_scan_to_decode=decode_s / bare_s, bare_tracks=len(bare.tracks))
        print(f"  with the bare network (one scale, no turned views): {bare_s:.2f} s, ratio {decode_s / bare_s:.3f}, "
              f"{len(bare.tracks)} tracks")
    print(f"  peak RSS {result['peak_rss_mb']:.0f} MB")
    return result


# ----------------------------------------------------------------------------- recall by time on screen

def recall(args) -> dict:
    from bipacheck.video import VideoSettings, scan_video

    detector = _detector(args.detector)
    fps, offsets = 30, 15
    step = args.interval / 2
    settings = VideoSettings(interval_s=args.interval)
    result = {}
    with tempfile.TemporaryDirectory() as tmp:
        for duration in [float(d) for d in args.durations.split(",")]:
            gap = max(1.5, settings.interval_s + 0.5)  # longer than the tracker's gap tolerance
            on = []
            t = 1.0
            for k in range(offsets):
                start = round((t + k * step / offsets) * fps) / fps  # every frame phase of one step
                # shown on the frames whose times are in [start, start + duration): the margin keeps a
                # frame time a rounding error away from a bound on the side it belongs to
                on.append((start - 1e-6, start + duration - 1e-6))
                t += duration + gap
            seconds = on[-1][1] + gap
            # a slow pan never wraps around within the video: a wrap is a cut, and a cut restarts the
            # sampling grid, which would make the phases swept here uneven
            path = make_video.appearances_video(Path(tmp) / f"on{duration:g}.mp4", on, seconds, fps=fps,
                                                exact=False, pan_speed=5)
            scan = scan_video(path, detector, settings)
            found, samples, false, missed = 0, [], [], []
            for track in scan.tracks:
                if not any(a <= track.last_seen_s and track.first_seen_s < b for a, b in on):
                    false.append(f"{track.first_seen_s:.3f}-{track.last_seen_s:.3f} s score {track.best_score:.2f}")
            for a, b in on:
                hits = [tr for tr in scan.tracks if tr.first_seen_s < b and tr.last_seen_s >= a]
                if hits:
                    found += 1
                    samples.append(sum(tr.samples for tr in hits))
                else:
                    missed.append(f"{a:.3f}-{b:.3f} s")
            result[f"{duration:g}s"] = {"appearances": offsets, "found": found, "min_samples": min(samples, default=0),
                                        "false_tracks": false, "missed": missed}
            print(f"on screen {duration:g} s at interval {args.interval:g} s: found {found}/{offsets}, "
                  f"fewest samples in a found one {min(samples, default=0)}, false tracks {len(false)}"
                  + (f"; missed {', '.join(missed)}" if missed else "")
                  + (f"; false {', '.join(false)}" if false else ""))
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("libraries")
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--size", default="1280x720")
    p = sub.add_parser("throughput")
    p.add_argument("--seconds", type=float, default=20)
    p.add_argument("--size", default="1280x720")
    p.add_argument("--detector", default="centerface")
    p.add_argument("--bare", action="store_true", help="also scan with the bare network (multipass=False)")
    p = sub.add_parser("recall")
    p.add_argument("--interval", type=float, default=1.0)
    p.add_argument("--durations", default="0.25,0.5,1,2")
    p.add_argument("--detector", default="centerface")
    for p in sub.choices.values():
        p.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    load = os.getloadavg()
    print(f"load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} on {os.cpu_count()} cores (shared machines "
          "inflate absolute times; ratios within one run hold better)")
    result = {"libraries": libraries, "throughput": throughput, "recall": recall}[args.command](args)
    if args.json:
        args.json.write_text(json.dumps({**result, "load_average": load}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
