"""Memory is bounded by design: huge frames are converted in bands and detected in tiles, and an
image that does not fit the worker's memory is skipped with a reason, never a crash."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bipacheck.imaging import load as imaging
from bipacheck.imaging import load_image
from tests.images import encode, rgb
from tests.requirements import require_tool

REPO = Path(__file__).resolve().parents[1]


def test_16_bit_frames_are_stretched_band_by_band_as_a_whole(monkeypatch):
    grey16 = rgb("camera")[..., 0].astype(np.uint16) * 200 + 1000
    whole = load_image(encode(Image.fromarray(grey16), "PNG")).frames[0]
    monkeypatch.setattr(imaging, "_CONVERT_BAND_PIXELS", 5000)  # about ten rows a band
    banded = load_image(encode(Image.fromarray(grey16), "PNG")).frames[0]
    expected = ((grey16 - grey16.min()) * (255.0 / (grey16.max() - grey16.min()))).astype(np.uint8)
    assert np.array_equal(banded, whole) and np.array_equal(banded[..., 0], expected)


@pytest.mark.parametrize("mode", ["P", "RGBA", "LA", "L", "CMYK", "1"])
def test_other_modes_are_converted_band_by_band_as_pillow_converts_the_whole(monkeypatch, mode):
    photo = Image.fromarray(rgb("astronaut")).convert(mode)
    fmt = "JPEG" if mode == "CMYK" else "PNG"
    data = encode(photo, fmt)
    whole = Image.open(io.BytesIO(data))
    expected = np.asarray(whole.convert("RGBA").convert("RGB") if mode in ("P", "LA") else whole.convert("RGB"))
    monkeypatch.setattr(imaging, "_CONVERT_BAND_PIXELS", 5000)
    assert np.array_equal(load_image(data).frames[0], expected)


LOAD_IN_CHILD = """
import json, sys
from bipacheck.imaging import load_image
from bipacheck.errors import ImageError
try:
    image = load_image(open(sys.argv[1], "rb").read())
    print(json.dumps({"ok": image.frames[0].shape}))
except ImageError as exc:
    print(json.dumps({"reason": exc.reason, "message": exc.message}))
"""


def test_an_image_too_large_for_the_workers_memory_is_skipped_with_a_reason(tmp_path):
    require_tool("prlimit", "util-linux")
    path = tmp_path / "blank-100mp.png"
    Image.new("RGB", (10000, 10000), (255, 255, 255)).save(path)  # a few hundred KB on disk, 700 MB decoded
    limit = 700_000_000  # address space: the interpreter and Pillow fit, the decoded frame does not
    proc = subprocess.run(["prlimit", f"--as={limit}", sys.executable, "-c", LOAD_IN_CHILD, str(path)],
                          capture_output=True, text=True, cwd=REPO, timeout=300)
    assert proc.returncode == 0, proc.stderr[-500:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["reason"] == "too-large" and "memory" in result["message"]
