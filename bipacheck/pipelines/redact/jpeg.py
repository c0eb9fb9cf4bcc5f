"""JPEG copies that keep every DCT block outside the redacted regions bit for bit.

Re-encoding a JPEG changes every pixel. Instead the obscured image is encoded with the source's
quantisation tables and sampling, and only the MCUs (minimum coded units, 8-16 px squares)
touching a region are taken from it; every other coefficient is the source's own. Decoded, the
pixels outside those MCUs are unchanged, except that chroma smoothing may reach one MCU further
(`changed_area` reports that margin). Metadata segments are allowlist.py's.

The block codec (jpeglib, 78 MB installed) is the `redact` extra. Without it the whole image is
re-encoded with the source's own tables and sampling (`reencode`): the faces are obscured just the
same, but every pixel may change a little, and the manifest says so.
"""

from __future__ import annotations

import importlib.util
import io
import os
import tempfile

import numpy as np
from PIL import Image, JpegImagePlugin

from ...errors import BipacheckError

SOI = b"\xff\xd8"
WITHOUT_BLOCK_CODEC = ("the whole JPEG was re-encoded with its own quantisation tables (install "
                       "`bipacheck[redact]` to change only the blocks under the faces): pixels outside "
                       "the regions may differ slightly")


class RedactError(BipacheckError):
    """This photo could not be redacted safely; nothing is written for it."""


def segments(data: bytes) -> tuple[list[bytes], bytes]:
    """(marker segments before the first scan, the rest from SOS on). Raises RedactError if malformed."""
    if data[:2] != SOI:
        raise RedactError("not a JPEG")
    pos, out = 2, []
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise RedactError("malformed JPEG marker sequence")
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker == 0xDA:
            return out, data[pos:]
        length = int.from_bytes(data[pos + 2:pos + 4], "big")
        out.append(data[pos:pos + 2 + length])
        pos += 2 + length
    raise RedactError("JPEG without image data")


def _is_metadata(segment: bytes) -> bool:
    marker = segment[1]
    return 0xE0 <= marker <= 0xEF or marker == 0xFE


def with_segments(encoded: bytes, metadata: list[bytes]) -> bytes:
    """`encoded` with its own metadata segments replaced by `metadata`."""
    own, rest = segments(encoded)
    return SOI + b"".join(metadata) + b"".join(s for s in own if not _is_metadata(s)) + rest


def mcu_size(im: Image.Image) -> tuple[int, int]:
    layers = getattr(im, "layer", None) or [(None, 1, 1, None)]
    return 8 * max(h for _, h, _, _ in layers), 8 * max(v for _, _, v, _ in layers)


def block_codec_available() -> bool:
    return importlib.util.find_spec("jpeglib") is not None


def reencode(im: Image.Image, stored: np.ndarray) -> bytes:
    """`stored` encoded as a JPEG with `im`'s quantisation tables and sampling. Raises RedactError."""
    _check_mode(im)
    options = {"qtables": im.quantization}
    if im.mode == "RGB":
        options["subsampling"] = JpegImagePlugin.get_sampling(im)
    out = io.BytesIO()
    try:
        Image.fromarray(stored[..., 0] if im.mode == "L" else stored, im.mode).save(out, "JPEG", **options)
    except (OSError, ValueError) as exc:
        raise RedactError(f"JPEG could not be re-encoded: {exc}") from None
    return out.getvalue()


def _check_mode(im: Image.Image) -> None:
    if im.mode not in ("RGB", "L"):
        raise RedactError(f"JPEG in {im.mode} colour cannot be redacted block by block")
    if im.info.get("adobe_transform") == 0 and im.mode == "RGB":
        raise RedactError("JPEG stored as RGB (not YCbCr) cannot be redacted block by block")


def merge_blocks(source: bytes, im: Image.Image, stored: np.ndarray, changed: np.ndarray) -> bytes:
    """A JPEG whose DCT blocks are the source's, except in MCUs where `changed` (a stored-pixel mask)
    is set, which come from `stored` encoded with the source's tables. Raises RedactError."""
    import jpeglib  # optional (the redact extra): block_codec_available() is asked first

    _check_mode(im)
    try:
        return _merge(source, im, stored, changed, jpeglib)
    except RedactError:
        raise
    except Exception as exc:  # noqa: BLE001 - libjpeg refusing a file leaves nothing written for it
        raise RedactError(f"JPEG blocks could not be rewritten: {type(exc).__name__}: {exc}") from None


def _merge(source: bytes, im: Image.Image, stored: np.ndarray, changed: np.ndarray, jpeglib) -> bytes:
    with tempfile.TemporaryDirectory(prefix="bipacheck-redact-") as tmp:
        src, new, out = (os.path.join(tmp, n) for n in ("src.jpg", "new.jpg", "out.jpg"))
        with open(src, "wb") as fh:
            fh.write(source)
        pixels = stored[..., 0] if im.mode == "L" else stored
        options = {"qtables": im.quantization}
        if im.mode == "RGB":
            options["subsampling"] = JpegImagePlugin.get_sampling(im)
        Image.fromarray(pixels, im.mode).save(new, "JPEG", **options)
        original, redone = jpeglib.read_dct(src), jpeglib.read_dct(new)
        if not (np.array_equal(original.qt, redone.qt) and np.array_equal(original.samp_factor, redone.samp_factor)
                and list(original.quant_tbl_no) == list(redone.quant_tbl_no)):
            raise RedactError("could not re-encode with the source's quantisation tables and sampling")
        mcu_w, mcu_h = mcu_size(im)
        rows, cols = -(-stored.shape[0] // mcu_h), -(-stored.shape[1] // mcu_w)
        padded = np.zeros((rows * mcu_h, cols * mcu_w), bool)
        padded[:changed.shape[0], :changed.shape[1]] = changed
        mcus = padded.reshape(rows, mcu_h, cols, mcu_w).any(axis=(1, 3))
        for name, (v, h) in zip(("Y", "Cb", "Cr"), original.samp_factor):  # jpeglib: (vertical, horizontal)
            ours, theirs = getattr(original, name), getattr(redone, name)
            if ours is None:
                continue
            # a component sampled (h, v) has h x v blocks per MCU: block (row, col) is in MCU (row // v, col // h)
            by = np.minimum(np.arange(ours.shape[0]) // v, rows - 1)
            bx = np.minimum(np.arange(ours.shape[1]) // h, cols - 1)
            take = mcus[np.ix_(by, bx)]
            ours[take] = theirs[take]
            setattr(original, name, ours)
        original.write_dct(out)
        with open(out, "rb") as fh:
            return fh.read()
