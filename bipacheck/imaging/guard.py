"""Pillow's decompression-bomb limit, widened only while bipacheck opens an image.

Pillow's guard is a process-wide setting (PIL.Image.MAX_IMAGE_PIXELS) that belongs to whoever
uses bipacheck as a library. bipacheck checks declared sizes against its own --max-pixels before
decoding, and Pillow refuses images over twice its setting while opening them; so while
bipacheck opens an image the setting is raised to what --max-pixels needs (never lowered), and
given back as soon as the last concurrent open ends.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from PIL import Image

_lock = threading.Lock()
_active: Counter = Counter()  # Pillow settings wanted by the opens in progress (None: no limit)
_saved: list = []  # the host's setting, while any open is in progress


@contextmanager
def pixels_allowed(max_pixels: int | None) -> Iterator[None]:
    """Let Pillow open images of up to `max_pixels` (None: any size; the caller decodes nothing)."""
    wanted = None if max_pixels is None else -(-max_pixels // 2)  # Pillow raises above twice its setting
    with _lock:
        if not _active:
            _saved[:] = [Image.MAX_IMAGE_PIXELS]
        _active[wanted] += 1
        _apply()
    try:
        yield
    finally:
        with _lock:
            _active[wanted] -= 1
            if not _active[wanted]:
                del _active[wanted]
            if _active:
                _apply()
            else:
                Image.MAX_IMAGE_PIXELS = _saved.pop()


def _apply() -> None:
    host = _saved[0]
    wanted = list(_active)
    if host is None or None in wanted:
        Image.MAX_IMAGE_PIXELS = None
    else:
        Image.MAX_IMAGE_PIXELS = max(host, *wanted)
