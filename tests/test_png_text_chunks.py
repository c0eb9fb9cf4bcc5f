"""A PNG whose text chunks are huge is still a photo: its pixels are scanned, the metadata is warned about."""

from __future__ import annotations

from PIL import Image, PngImagePlugin

from bipacheck.detect.base import iou
from bipacheck.imaging import load_image
from bipacheck.metadata import read_face_tags
from bipacheck.scanning.scan import PhotoScan, scan_bytes

from tests.test_audit_tags import ASTRONAUT_TAG
from tests.test_detect import ASTRONAUT_FACE
from tests.images import encode, rgb
from tests.test_metadata_support import mwg_face, mwg_regions, packet

ASTRONAUT = rgb("astronaut")


def png_with_text(**chunks: tuple[str, bool]) -> bytes:
    """The astronaut as PNG with iTXt chunks {keyword: (text, compressed)}."""
    info = PngImagePlugin.PngInfo()
    for keyword, (text, compressed) in chunks.items():
        info.add_itxt(keyword.replace("_", ":", 1).replace("_", "."), text, zip=compressed)
    return encode(Image.fromarray(ASTRONAUT), "PNG", pnginfo=info)


def padded_xmp(size: int) -> str:
    body = packet(mwg_regions([mwg_face(**ASTRONAUT_TAG)])).decode()
    return body.replace("<?xpacket end", " " * size + "<?xpacket end")  # padding XMP allows


def test_a_compressed_xmp_chunk_past_a_megabyte_still_gives_the_pixels_and_the_tags(centerface):
    xmp = padded_xmp(1_500_000)  # under bipacheck's 2 MB packet limit, over Pillow's 1 MB text limit
    data = png_with_text(XML_com_adobe_xmp=(xmp, True))
    assert len(data) < 600_000  # it compresses: a small file that expands past the limit
    scan = scan_bytes(data, "big-xmp.png", "big-xmp.png", centerface)
    assert isinstance(scan, PhotoScan), scan
    assert any(iou(face.box, ASTRONAUT_FACE) > 0.5 for face in scan.faces)
    assert any("text chunk" in w for w in scan.warnings)
    (region,) = scan.tags  # the metadata reader has its own, larger limit: the tag is read with its box
    assert region.box is not None and iou(region.box, ASTRONAUT_FACE) > 0.5


def test_an_oversized_comment_chunk_is_warned_about_not_a_reason_to_skip():
    data = png_with_text(Comment=("x" * 5_000_000, True))
    image = load_image(data)
    assert (image.width, image.height) == (512, 512)
    assert (image.frames[0] == ASTRONAUT).all()
    (warning,) = image.warnings
    assert "text chunk" in warning and "Comment" in warning
    tags = read_face_tags(data)
    assert not [e for e in tags.errors if "header unreadable" in e]


def test_text_chunks_that_together_pass_pillows_budget_are_warned_about():
    # each under 1 MB inflated, together over Pillow's 64 MB text budget
    chunks = {f"note{i}": ("y" * 1_000_000, True) for i in range(70)}
    image = load_image(png_with_text(**chunks))
    assert (image.frames[0] == ASTRONAUT).all()
    assert any("text chunk" in w for w in image.warnings)
