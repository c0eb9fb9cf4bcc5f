"""Real detectors on real photos: faces found, scenes clean, rotation and size do not matter."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from bipacheck.detect import weights
from bipacheck.detect.base import Face, iou
from bipacheck.detect.detectors import create_detector
from bipacheck.errors import ConfigError
from bipacheck.scanning.scan import PhotoScan, ScanSettings, scan_bytes
from tests.images import SCENES, encode, rgb, side_by_side, stored_with_orientation

# Hand-labelled face boxes [x, y, w, h] (forehead to chin) in scikit-image's photos.
ASTRONAUT_FACE = [180, 60, 90, 115]
CAMERAMAN_FACE = [195, 115, 65, 85]


def faces_in(data: bytes, detector, **settings) -> list[Face]:
    result = scan_bytes(data, "test", "test", detector, ScanSettings(**settings))
    assert isinstance(result, PhotoScan), result
    return result.faces


@pytest.fixture(params=["centerface", "yunet", "cascade"])
def detector(request):
    return request.getfixturevalue(request.param)


def test_face_box_holds_box_and_score_only():
    # never landmarks, crops or embeddings: the dataclass itself has no room for them (found_by
    # names the detection pass, found_in the view or embedded image: strings, never pixels)
    assert [f.name for f in dataclasses.fields(Face)] == ["x", "y", "w", "h", "score", "found_by", "found_in"]


def test_finds_the_astronaut_and_the_cameraman(detector):
    (face,) = faces_in(encode(rgb("astronaut")), detector)
    assert iou(face.box, ASTRONAUT_FACE) > 0.6
    (face,) = faces_in(encode(rgb("camera")), detector)
    assert iou(face.box, CAMERAMAN_FACE) > 0.5


def test_no_faces_in_face_free_scenes(detector):
    found = {name: faces_in(encode(rgb(name), "JPEG", quality=90), detector) for name in SCENES}
    assert {name: f for name, f in found.items() if f} == {}


def test_composite_with_two_people_and_a_scene(detector):
    photo = side_by_side("coffee", "astronaut", "camera")
    coffee_width = round(600 * 512 / 400)
    faces = sorted(faces_in(encode(photo, "JPEG", quality=92), detector), key=lambda f: f.x)
    assert len(faces) == 2
    assert iou(faces[0].box, [ASTRONAUT_FACE[0] + coffee_width, *ASTRONAUT_FACE[1:]]) > 0.5
    assert iou(faces[1].box, [CAMERAMAN_FACE[0] + coffee_width + 512, *CAMERAMAN_FACE[1:]]) > 0.5


@pytest.mark.parametrize("orientation", range(1, 9))
def test_same_face_whatever_the_exif_orientation(centerface, orientation):
    (face,) = faces_in(stored_with_orientation(rgb("astronaut"), orientation, "JPEG"), centerface)
    assert iou(face.box, ASTRONAUT_FACE) > 0.6


def test_one_instance_stays_correct_across_input_sizes(centerface):
    """CenterFace drifts on OpenCV's classic engine once a net sees a new size (DETECTORS.md #3)."""
    sizes = [(512, 512), (800, 600), (333, 517), (1024, 768), (512, 512)]
    astronaut = Image.fromarray(rgb("astronaut"))
    for width, height in sizes:
        photo = np.asarray(astronaut.resize((width, height)))
        faces = faces_in(encode(photo), centerface)
        sx, sy = width / 512, height / 512
        expected = [ASTRONAUT_FACE[0] * sx, ASTRONAUT_FACE[1] * sy, ASTRONAUT_FACE[2] * sx, ASTRONAUT_FACE[3] * sy]
        assert len(faces) == 1, (width, height, faces)
        assert iou(faces[0].box, expected) > 0.5
    # and scenes stay clean after all those sizes
    assert faces_in(encode(rgb("coffee")), centerface) == []


def test_large_photo_found_through_reduced_decode(centerface):
    big = np.asarray(Image.fromarray(rgb("astronaut")).resize((3072, 3072)))
    (face,) = faces_in(encode(big, "JPEG", quality=90), centerface, min_face=96)
    assert iou(face.box, [v * 6 for v in ASTRONAUT_FACE]) > 0.6


def test_min_face_drops_smaller_faces(centerface):
    assert len(faces_in(encode(rgb("astronaut")), centerface, min_face=100)) == 1
    assert faces_in(encode(rgb("astronaut")), centerface, min_face=200) == []


def test_animated_gif_face_in_one_frame_counts_once_per_place(centerface):
    frames = [Image.fromarray(rgb(n)) for n in ("coffee", "astronaut", "astronaut")]
    frames = [f.resize((512, 512)) for f in frames]
    import io

    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=100)
    faces = faces_in(buf.getvalue(), centerface)
    assert len(faces) == 1 and iou(faces[0].box, ASTRONAUT_FACE) > 0.5


# ---- the model registry ----

def test_the_bundled_weights_are_the_pinned_files_with_their_licences():
    for spec in weights.MODELS.values():
        (bundled,) = [v for v in spec.files if v.bundled]
        path = weights.BUNDLED / bundled.filename
        assert path.stat().st_size == bundled.size and weights.resolve(spec.name) == (path, bundled.sha256)
        assert (weights.BUNDLED / f"LICENSE-{spec.name}.txt").read_text().startswith("MIT License")
        assert bundled.sha256 in (weights.BUNDLED / "PROVENANCE.md").read_text()


def test_a_replaced_bundled_file_is_an_error_never_a_fallback(tmp_path, monkeypatch):
    forged = tmp_path / "models"
    shutil.copytree(weights.BUNDLED, forged)
    with open(forged / "centerface.onnx", "r+b") as fh:
        fh.seek(1000)
        fh.write(b"tampered")
    monkeypatch.setattr(weights, "BUNDLED", forged)
    with pytest.raises(ConfigError, match="corrupt or was replaced; reinstall bipacheck"):
        create_detector("centerface")
    (forged / "centerface.onnx").unlink()
    with pytest.raises(ConfigError, match="broken install"):
        create_detector("centerface")


def test_import_checks_the_sha256(tmp_path, monkeypatch):
    source = weights.BUNDLED / "centerface.onnx"
    monkeypatch.setenv("BIPACHECK_MODEL_DIR", str(tmp_path / "offline"))
    wrong = tmp_path / "wrong.onnx"
    wrong.write_bytes(source.read_bytes()[:-1] + b"\x00")
    with pytest.raises(ConfigError, match="not a known centerface model"):
        weights.import_file("centerface", wrong)
    installed = weights.import_file("centerface", source)
    assert installed.read_bytes() == source.read_bytes()
    assert weights.resolve("centerface")[0] == installed  # an imported variant comes before the bundled file


def test_verify_catches_a_replaced_model_file(tmp_path, monkeypatch):
    monkeypatch.setenv("BIPACHECK_MODEL_DIR", str(tmp_path))
    shutil.copy(weights.BUNDLED / "centerface.onnx", tmp_path / "centerface.onnx")
    assert weights.verify("centerface")[0]
    with open(tmp_path / "centerface.onnx", "r+b") as fh:
        fh.seek(1000)
        fh.write(b"tampered")
    ok, lines = weights.verify("centerface")
    assert not ok and "expected 45aa9284" in "\n".join(lines)
    with pytest.raises(ConfigError, match="corrupt or was replaced"):
        create_detector("centerface")


def test_unknown_detector_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown detector"):
        create_detector("haar")



def test_onnx_runtime_needs_no_onnx_package(tmp_path):
    """The bundled files leave their sizes open, so ONNX Runtime runs them as shipped: `onnx` (a 31 MB
    build-time tool) is in no install, and without it the fast runtime is still the default."""
    photo = tmp_path / "astronaut.png"
    Image.fromarray(rgb("astronaut")).save(photo)
    code = ("import sys; sys.modules['onnx'] = None\n"
            "from bipacheck.detect.runtime import default_runtime\n"
            "from bipacheck.detect.detectors import create_detector\n"
            "import numpy as np; from PIL import Image\n"
            "rgb = np.asarray(Image.open(sys.argv[1]).convert('RGB'))\n"
            "for name in ('centerface', 'yunet', 'cascade'):\n"
            "    d = create_detector(name)\n"
            "    print(name, default_runtime(), d.settings()['runtime'], len(d.detect(rgb)), len(d.detect(rgb[:301, :433])))\n")
    env = {k: v for k, v in os.environ.items() if k != "BIPACHECK_RUNTIME"}
    done = subprocess.run([sys.executable, "-c", code, str(photo)], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    for line in done.stdout.splitlines():  # two input sizes per network, one face each
        name, chosen, used, whole, part = line.split()
        assert chosen == used == "onnxruntime" and whole == part == "1", line
