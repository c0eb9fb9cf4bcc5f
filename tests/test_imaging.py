"""Image loading: formats sniffed from content, EXIF orientation, bombs, odd and broken files."""

from __future__ import annotations

import io
import os
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from bipacheck import errors
from bipacheck.imaging import load_image, sniff_format
from tests.images import TO_UPRIGHT, encode, rgb, stored_with_orientation
from tests.requirements import require_module

ASTRONAUT = rgb("astronaut")


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_gives_the_upright_pixels(orientation):
    data = stored_with_orientation(ASTRONAUT, orientation)
    stored = Image.open(io.BytesIO(data))
    assert stored.getexif()[0x0112] == orientation
    image = load_image(data)
    # Independent oracle: the upright photo we started from (PNG is lossless).
    assert np.array_equal(image.frames[0], ASTRONAUT)
    assert (image.width, image.height) == (512, 512)


def test_orientation_swaps_reported_dimensions():
    wide = rgb("coffee")  # 600 x 400
    image = load_image(stored_with_orientation(wide, 6, "JPEG"))
    assert (image.width, image.height) == (600, 400)
    assert image.frames[0].shape == (400, 600, 3)
    assert Image.open(io.BytesIO(stored_with_orientation(wide, 6, "JPEG"))).size == (400, 600)
    assert set(TO_UPRIGHT) == set(range(2, 9))


@pytest.mark.parametrize("fmt,kwargs", [
    ("JPEG", {"quality": 92}), ("PNG", {}), ("WEBP", {"quality": 90}), ("BMP", {}), ("TIFF", {}),
    ("GIF", {}), ("AVIF", {}), ("HEIF", {}),
])
def test_formats_are_decoded(fmt, kwargs):
    if fmt == "HEIF":
        require_module("pillow_heif").register_heif_opener()
    data = encode(ASTRONAUT, fmt, **kwargs)
    image = load_image(data)
    assert image.format == fmt
    assert image.frames[0].shape == (512, 512, 3)
    # lossy formats differ a little; a wrong decode (channels swapped, garbage) differs a lot
    diff = np.abs(image.frames[0].astype(int) - ASTRONAUT.astype(int)).mean()
    assert diff < (40 if fmt == "GIF" else 12)


def test_format_is_sniffed_not_taken_from_the_name(tmp_path):
    png = encode(ASTRONAUT, "PNG")
    assert sniff_format(png) == "PNG"
    assert sniff_format(encode(ASTRONAUT, "JPEG")) == "JPEG"
    assert sniff_format(b"hello") is None


def test_animated_gif_frames_are_all_decoded_up_to_the_cap():
    frames = [Image.fromarray(rgb(n)).resize((200, 200)) for n in ("astronaut", "coffee", "rocket")]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=100)
    image = load_image(buf.getvalue())
    assert image.frame_count == 3 and len(image.frames) == 3
    capped = load_image(buf.getvalue(), max_frames=2)
    assert len(capped.frames) == 2 and capped.frame_count == 3
    assert any("2 of 3 frames" in w for w in capped.warnings)


def test_multipage_tiff_pages_are_decoded():
    pages = [Image.fromarray(rgb(n)) for n in ("coffee", "astronaut")]
    buf = io.BytesIO()
    pages[0].save(buf, "TIFF", save_all=True, append_images=pages[1:])
    image = load_image(buf.getvalue())
    assert len(image.frames) == 2
    assert np.array_equal(image.frames[1], ASTRONAUT)


def test_cmyk_and_16_bit_images_are_converted():
    cmyk = encode(Image.fromarray(ASTRONAUT).convert("CMYK"), "JPEG", quality=95)
    image = load_image(cmyk)
    assert np.abs(image.frames[0].astype(int) - ASTRONAUT.astype(int)).mean() < 15

    grey16 = (rgb("camera")[..., 0].astype(np.uint16) * 257)
    image = load_image(encode(Image.fromarray(grey16), "PNG"))
    assert image.frames[0].dtype == np.uint8
    assert np.abs(image.frames[0][..., 0].astype(int) - rgb("camera")[..., 0].astype(int)).max() <= 1


def _with_app1(jpeg: bytes, payload: bytes) -> bytes:
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]


def test_corrupt_exif_block_still_gives_pixels():
    data = _with_app1(encode(ASTRONAUT, "JPEG"), b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\xff\xff\x01")
    image = load_image(data)
    assert image.frames[0].shape == (512, 512, 3)


def test_reduced_jpeg_decode_maps_back_to_full_resolution():
    big = np.asarray(Image.fromarray(ASTRONAUT).resize((2048, 2048)))
    image = load_image(encode(big, "JPEG"), reduce_by=4)
    assert image.frames[0].shape == (512, 512, 3)
    assert image.scale == 4
    assert (image.width, image.height) == (2048, 2048)
    # the codec's own reduced decode (DCT scaling) did the work, not a full decode and a resize
    for factor in (2, 4, 8):
        oracle = Image.open(io.BytesIO(encode(big, "JPEG")))
        oracle.draft("RGB", (2048 // factor, 2048 // factor))
        assert oracle.size == (2048 // factor,) * 2
        assert np.array_equal(load_image(encode(big, "JPEG"), reduce_by=factor).frames[0], np.asarray(oracle))
    # non-JPEG formats are resized after decoding to the same effect
    image = load_image(encode(big, "PNG"), reduce_by=4)
    assert image.frames[0].shape == (512, 512, 3) and image.scale == 4


# ---- bad input: each gets a typed error with a specific, readable reason ----

def _png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


@pytest.mark.parametrize("data,error,phrase", [
    (b"", errors.EmptyFile, "empty"),
    (b"this is a text file, not a photo\n" * 4, errors.UnsupportedFormat, "text"),
    (os.urandom(4096).replace(b"\xff", b"\x00"), errors.UnsupportedFormat, "not a recognised image"),
    (encode(ASTRONAUT, "JPEG")[:3000], errors.TruncatedImage, "truncated"),
    (encode(ASTRONAUT, "PNG")[:5000], errors.ImageError, "PNG"),
    (_png_header_only(100_000, 100_000), errors.TooLarge, "decompression bomb"),
    (b"\xff\xd8\xff\xe0" + b"\x00" * 100, errors.ImageError, "JPEG"),
])
def test_bad_inputs_raise_typed_errors(data, error, phrase):
    with pytest.raises(error) as info:
        load_image(data)
    assert phrase in str(info.value)
    assert info.value.reason  # a stable machine-readable code for reports


def test_pixel_limit_is_configurable():
    data = encode(ASTRONAUT, "PNG")
    with pytest.raises(errors.TooLarge, match="262,144 pixels exceeds the limit of 100,000"):
        load_image(data, max_pixels=100_000)


def test_a_large_later_page_is_caught_before_it_is_decoded():
    pages = [Image.fromarray(rgb("coffee")).resize((100, 100)), Image.fromarray(rgb("astronaut"))]
    buf = io.BytesIO()
    pages[0].save(buf, "TIFF", save_all=True, append_images=pages[1:])
    with pytest.raises(errors.TooLarge, match="frame 2 is 512x512"):
        load_image(buf.getvalue(), max_pixels=100_000)
    assert len(load_image(buf.getvalue(), max_pixels=100_000, max_frames=1).frames) == 1


def test_frames_stop_at_the_pixel_budget_and_say_so():
    pages = [Image.fromarray(rgb("astronaut"))] * 3  # 262,144 pixels each
    buf = io.BytesIO()
    pages[0].save(buf, "TIFF", save_all=True, append_images=pages[1:])
    image = load_image(buf.getvalue(), max_pixels=600_000)
    assert len(image.frames) == 2 and image.frame_count == 3
    assert any("2 of 3 frames" in w and "--max-pixels" in w for w in image.warnings)
