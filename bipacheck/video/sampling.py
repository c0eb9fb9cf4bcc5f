"""Which decoded frames the detector sees: by time, plus scene changes.

Every frame is decoded (inter-coded video needs its references, and key frames can be seconds
apart, so decoding only key frames would break the guarantee below), but only sampled frames are
converted to RGB and given to the detector; the others cost a decode and a 64-px grey thumbnail.

The time rule, with step = interval / 2: the first and the last frame are samples, and a frame is
held back until the next one arrives; when the next frame's time is more than `step` after the last
sample, the held frame becomes a sample. So two consecutive samples are never more than `step`
apart in presentation time unless they are adjacent frames (a frame shown longer than `step` is
itself a sample, and so is the one after it).

The guarantee that follows (proof in `Sampler`'s docstring): any window of `step` seconds of the
scanned range that holds the presentation time of a frame holds the time of a sample. Hence a face
shown in every frame for a span of time T (and found by the detector in each of those frames) is
in at least one sample when T > step, and in at least two when T > 2 * step = interval, whenever
frames come at least every `step` seconds (any normal video: 0.5 s is 2 fps).
With the default interval of 1 s: every face on screen for more than 0.5 s is sampled at least
once, for more than 1 s at least twice.

Scene changes: the mean absolute difference of consecutive frames' 64-px grey thumbnails, as a
share of full scale, above `scene_threshold` marks a cut; the frames on both sides of it become
samples (at most one cut per `min_scene_gap_s`, so strobing cannot make every frame a sample), and
face tracks are never linked across a cut (bipacheck.video.tracks). Samples only add to the time
rule, so the guarantee holds whatever the scene detector does.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from .decode import VideoFrame

# why a frame was sampled
FIRST, TIME, SCENE, LAST = "first", "time", "scene", "last"


@dataclass
class Sample:
    frame: VideoFrame
    why: str  # FIRST, TIME, SCENE or LAST
    shot: int  # cut count before this frame: tracks never span two shots

    @property
    def time_s(self) -> float:
        return self.frame.time_s


class Sampler:
    """Feed frames in presentation order; get the samples, in the same order.

    Invariant (checked by tests): for consecutive samples a, b, either b is the frame right after a,
    or b.time - a.time <= step. Proof sketch: the held frame h (the previous frame) is sampled when the
    new frame f has f.time - last.time > step; then h.time - last.time <= step, or h's own arrival
    would have sampled the frame before h, making h adjacent to the last sample. Scene samples
    only split gaps.

    Guarantee: for any a, if a frame's time lies in [a, a + step], a sample's does too. Let p be the
    last sample before a and q the next one; if q.time > a + step then q.time - p.time > step, so q is
    the frame right after p and no frame's time lies between them: contradiction. (No p: the first
    frame, a sample, lies in the window. No q: p is the last frame, a sample.)
    """

    def __init__(self, interval_s: float = 1.0, scene_threshold: float | None = 0.1,
                 min_scene_gap_s: float | None = None):
        if not interval_s > 0:
            raise ValueError("the sampling interval must be positive")
        self.step = interval_s / 2
        self.scene_threshold = scene_threshold
        self.min_scene_gap = self.step / 2 if min_scene_gap_s is None else min_scene_gap_s
        self._held: VideoFrame | None = None
        self._held_shot = 0
        self._last: tuple[int, float] | None = None  # (index, time) of the last sample
        self._prev_thumb: np.ndarray | None = None
        self._last_cut_s = -np.inf
        self.shot = 0
        self.cuts: list[float] = []
        self.max_gap_s = 0.0  # largest gap between consecutive samples that are not adjacent frames
        self.frames_seen = 0

    def feed(self, frame: VideoFrame) -> list[Sample]:
        out: list[Sample] = []
        self.frames_seen += 1
        cut = self._is_cut(frame)
        if self._last is None:
            out.append(self._take(frame, FIRST, self.shot))
            return out
        if cut:
            if self._held is not None:  # the last frame of the shot before the cut
                out.append(self._take(self._held, SCENE, self._held_shot))
            self.shot += 1
            self.cuts.append(frame.time_s)
            out.append(self._take(frame, SCENE, self.shot))
            self._held = None
            return out
        if self._held is not None and frame.time_s - self._last[1] > self.step:
            out.append(self._take(self._held, TIME, self._held_shot))
        self._hold(frame)
        return out

    def finish(self) -> list[Sample]:
        """The last frame, when it is not a sample already."""
        if self._held is not None:
            held, self._held = self._held, None
            return [self._take(held, LAST, self._held_shot)]
        return []

    def _hold(self, frame: VideoFrame) -> None:
        if self._held is not None:
            self._held.release()  # not a sample: its pixels are not needed
        self._held, self._held_shot = frame, self.shot

    def _take(self, frame: VideoFrame, why: str, shot: int) -> Sample:
        if self._last is not None and frame.index != self._last[0] + 1:
            self.max_gap_s = max(self.max_gap_s, frame.time_s - self._last[1])
        if self._held is frame:
            self._held = None
        self._last = (frame.index, frame.time_s)
        return Sample(frame, why, shot)

    def _is_cut(self, frame: VideoFrame) -> bool:
        if self.scene_threshold is None:
            return False
        thumb = frame.thumb()
        prev, self._prev_thumb = self._prev_thumb, thumb
        if prev is None or prev.shape != thumb.shape:
            return False
        diff = float(np.mean(np.abs(thumb - prev))) / 255.0
        if diff > self.scene_threshold and frame.time_s - self._last_cut_s >= self.min_scene_gap:
            self._last_cut_s = frame.time_s
            return True
        return False


def sample_frames(frames: Iterable[VideoFrame], sampler: Sampler) -> Iterator[Sample]:
    """The samples of a frame stream, in presentation order."""
    for frame in frames:
        yield from sampler.feed(frame)
    yield from sampler.finish()
