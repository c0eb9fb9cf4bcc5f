"""bipacheck keeps its own decompression-bomb guard without touching Pillow's process-wide one."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
from PIL import Image

from bipacheck import errors
from bipacheck.imaging import load_image
from bipacheck.metadata import read_face_tags
from tests.images import encode, rgb
from tests.test_scan_cli import png_bomb

ASTRONAUT_JPEG = encode(rgb("astronaut"), "JPEG")  # read before a test sets a strict host limit
ASTRONAUT_PNG = encode(rgb("astronaut"))


def test_importing_bipacheck_leaves_pillows_guard_alone():
    code = ("from PIL import Image; before = Image.MAX_IMAGE_PIXELS; "
            "import bipacheck, bipacheck.cli, bipacheck.imaging, bipacheck.scanning.scan, bipacheck.metadata; "
            "assert before is not None and Image.MAX_IMAGE_PIXELS == before, Image.MAX_IMAGE_PIXELS")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.fixture
def host_limit(monkeypatch):
    """A host program that set its own, strict Pillow limit."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10_000)
    return 10_000


def test_a_scan_uses_its_own_limit_and_gives_the_hosts_back(host_limit, centerface):
    from bipacheck.scanning.scan import PhotoScan, scan_bytes

    result = scan_bytes(ASTRONAUT_JPEG, "a.jpg", "a.jpg", centerface)
    assert isinstance(result, PhotoScan) and result.faces  # 262,144 pixels: over the host's limit, under ours
    assert Image.MAX_IMAGE_PIXELS == host_limit
    with pytest.raises(errors.TooLarge):
        load_image(png_bomb())
    with pytest.raises(errors.TooLarge):
        load_image(ASTRONAUT_PNG, max_pixels=100_000)
    assert Image.MAX_IMAGE_PIXELS == host_limit
    read_face_tags(png_bomb())
    assert Image.MAX_IMAGE_PIXELS == host_limit
    with pytest.raises(Image.DecompressionBombError):  # the host's own guard still works for the host
        Image.open(io.BytesIO(ASTRONAUT_PNG))


def test_concurrent_loads_give_the_hosts_limit_back(host_limit):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as pool:
        loaded = list(pool.map(lambda limit: load_image(ASTRONAUT_PNG, max_pixels=limit), [300_000, 10**9] * 8))
    assert all(image.width == 512 for image in loaded)
    assert Image.MAX_IMAGE_PIXELS == host_limit
