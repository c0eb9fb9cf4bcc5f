"""The multi-pass detector (detect/passes.py): every face size, tiles, rotated content without EXIF."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from bipacheck.scanning.cache import decode_result, encode_result
from bipacheck.detect import passes
from bipacheck.detect.base import Face, iou
from bipacheck.scanning.scan import PhotoScan, ScanSettings, scan_bytes
from tests.images import SCENES, encode, rgb


def faces_in(data: bytes, detector, **settings) -> list[Face]:
    result = scan_bytes(data, "test", "test", detector, ScanSettings(**settings))
    assert isinstance(result, PhotoScan), result
    return result.faces


def resized(arr: np.ndarray, width: int, height: int) -> np.ndarray:
    return np.asarray(Image.fromarray(arr).resize((width, height), Image.Resampling.BICUBIC))


@pytest.fixture(scope="module")
def astronaut_face(centerface) -> list[int]:
    """The true box: what the bare network finds on the photo at its own size (face ~120 px)."""
    (face,) = centerface.network.detect(rgb("astronaut"))
    return face.box


def test_a_face_filling_a_4000_px_frame_gets_one_fitting_box(centerface, astronaut_face):
    # a close-up: the astronaut's head cropped and upscaled so the face is ~3,000 px of a 4,000 px frame
    x0, y0, side = 150, 35, 160
    factor = 4000 / side
    closeup = resized(rgb("astronaut")[y0:y0 + side, x0:x0 + side], 4000, 4000)
    expected = [(astronaut_face[0] - x0) * factor, (astronaut_face[1] - y0) * factor,
                astronaut_face[2] * factor, astronaut_face[3] * factor]
    faces = faces_in(encode(closeup, "JPEG", quality=90), centerface)
    assert len(faces) == 1, faces
    assert iou(faces[0].box, expected) >= 0.5 and faces[0].found_by == "upright"


def test_a_1000_px_face_is_one_box_not_parts_of_it(centerface, astronaut_face):
    # the bare network gives two partial boxes around an eye here
    big = resized(rgb("astronaut"), 4096, 4096)
    faces = faces_in(encode(big, "JPEG", quality=90), centerface)
    assert len(faces) == 1, faces
    assert iou(faces[0].box, [v * 8 for v in astronaut_face]) >= 0.5


def test_a_face_on_a_tile_seam_is_found_once(centerface, astronaut_face):
    canvas = np.full((1200, 4000, 3), 200, np.uint8)  # wider than one tile: three tiles
    seam = passes._tile_starts(canvas.shape[1])[1] + passes.OVERLAP // 2
    assert len(passes._tile_starts(canvas.shape[1])) > 1
    left = seam - astronaut_face[0] - astronaut_face[2] // 2  # the face's centre on the seam
    canvas[300:812, left:left + 512] = rgb("astronaut")
    faces = faces_in(encode(canvas), centerface)
    expected = [astronaut_face[0] + left, astronaut_face[1] + 300, *astronaut_face[2:]]
    assert len(faces) == 1, faces
    assert iou(faces[0].box, expected) >= 0.5


def test_the_network_never_sees_more_than_a_tile(centerface, monkeypatch):
    seen = []
    original = centerface.network.detect
    monkeypatch.setattr(centerface.network, "detect", lambda rgb: seen.append(rgb.shape) or original(rgb))
    centerface.detect(np.full((2000, 3600, 3), 90, np.uint8))
    assert seen and max(h * w for h, w, _ in seen) <= passes.TILE_SIDE ** 2


@pytest.mark.parametrize("turns", [1, 2, 3])
def test_astronaut_stored_rotated_without_exif_is_found(centerface, astronaut_face, turns):
    photo = resized(rgb("astronaut"), 1024, 1024)
    expected = passes._unrotate([v * 2 for v in astronaut_face], 4 - turns, 1024, 1024)  # the box turned with it
    stored = np.ascontiguousarray(np.rot90(photo, turns))
    faces = faces_in(encode(stored, "JPEG", quality=90), centerface)
    assert len(faces) == 1 and iou(faces[0].box, list(expected)) >= 0.5, faces


def test_a_face_only_a_rotated_pass_finds_says_so(centerface):
    # the cameraman upside down: the upright search finds nothing, the pass turned 180 degrees does
    stored = np.ascontiguousarray(np.rot90(resized(rgb("camera"), 1024, 1024), 2))
    assert [f for f in centerface.network.detect(stored) if f.score >= centerface.network.confident_score] == []
    (face,) = faces_in(encode(stored), centerface)
    cameraman = [195 * 2, 115 * 2, 65 * 2, 85 * 2]
    assert face.found_by == "rotated-180"
    assert iou(face.box, [1024 - cameraman[0] - cameraman[2], 1024 - cameraman[1] - cameraman[3],
                          *cameraman[2:]]) >= 0.5


def test_a_photo_stored_upside_down_is_searched_turned_even_when_one_face_looks_upright(centerface):
    # three people stored upside down, and one small face that is upright in the stored pixels (a
    # print on a T-shirt, a poster): a confident upright face must not stop the turned search
    canvas = np.full((1024, 1536, 3), 127, np.uint8)
    for x0, name in [(0, "astronaut"), (512, "camera"), (1024, "astronaut")]:
        canvas[256:768, x0:x0 + 512] = np.rot90(resized(rgb(name), 512, 512), 2)
    canvas[0:256, 640:896] = resized(rgb("astronaut"), 256, 256)
    upright = [f for f in centerface.pyramid(canvas) if f.score >= centerface.network.confident_score]
    assert upright and not any(512 <= f.x < 1024 and f.y >= 256 for f in upright)  # the old rule stopped here
    faces = faces_in(encode(canvas, "JPEG", quality=92), centerface)
    turned = sorted((f for f in faces if f.found_by == "rotated-180"), key=lambda f: f.x)
    assert [f.x // 512 for f in turned] == [0, 1, 2] and all(f.y >= 256 for f in turned), faces
    assert any(f.found_by == "upright" and f.y < 256 for f in faces)


def test_face_free_scenes_stay_face_free_after_the_rotated_passes(centerface):
    # native size: test_detect.py; here upscaled, where the rotated passes see a reduced copy
    for name in SCENES:
        photo = rgb(name)
        large = resized(photo, 1200, round(1200 * photo.shape[0] / photo.shape[1]))
        assert faces_in(encode(large, "JPEG", quality=90), centerface) == [], name


@pytest.mark.parametrize("turns", [1, 2, 3])
def test_unrotate_maps_a_box_back_to_upright_pixels(turns):
    image = np.zeros((30, 50), np.uint8)
    box = [7, 4, 12, 9]
    image[4:13, 7:19] = 1
    turned = np.rot90(image, turns)
    rows, cols = np.nonzero(turned)
    found = [cols.min(), rows.min(), cols.max() + 1 - cols.min(), rows.max() + 1 - rows.min()]
    assert list(passes._unrotate(found, turns, 50, 30)) == box


def test_the_passes_are_detector_settings(centerface):
    settings = centerface.settings()
    assert settings["passes"]["tile_side"] == passes.TILE_SIDE
    assert "passes" not in centerface.network.settings()


def test_found_by_survives_the_scan_cache():
    scan = PhotoScan("u", "r", "0" * 64, 1, "PNG", 10, 10, [Face(1, 2, 3, 4, 0.9, "rotated-90")])
    kind, text = encode_result(scan)
    assert decode_result(kind, text, "u", "r").faces == scan.faces


def test_turned_views_of_a_large_photo_look_at_a_small_copy(centerface, monkeypatch):
    # a 12 MP photo: the three turned views run on copies of at most 0.5 MP, not on 1 MP copies
    # that cost a fifth of the photo's time (bench/turned_views.py cost)
    seen = []
    original = centerface.pyramid
    monkeypatch.setattr(centerface, "pyramid", lambda rgb: seen.append(rgb.shape) or original(rgb))
    centerface.detect(np.full((3000, 4000, 3), 90, np.uint8))
    assert seen[0] == (3000, 4000, 3) and len(seen) == 4  # the upright search, then three turned views
    assert all(h * w <= 500_000 for h, w, _ in seen[1:]), seen
