"""Pixels: bytes in, upright RGB frames out (sniffed by content, EXIF orientation applied, bomb
guarded), the image-format registry, and the pixel operations that hide a face (obscure)."""

from .formats import named_like_image, sniff_format
from .load import DEFAULT_MAX_FRAMES, DEFAULT_MAX_PIXELS, LoadedImage, apply_orientation, exif_orientation, load_image

__all__ = ["DEFAULT_MAX_FRAMES", "DEFAULT_MAX_PIXELS", "LoadedImage", "apply_orientation", "exif_orientation",
           "load_image", "named_like_image", "sniff_format"]
