"""From a region as written in metadata to an upright pixel box.

Which frame the coordinates refer to
------------------------------------
* MWG regions: the STORED image. MWG "Guidelines for Handling Image Metadata" 2.0 (Nov 2010),
  section 5.9 (Image Region Metadata): "Region metadata is applied to the stored image. When
  applying a rotation by applying Exif Orientation, the rotation must be applied to the regions
  as well." So a reader rotates the regions with the pixels.
* Microsoft Photo RegionInfo: the same frame as MWG. The People Tagging Overview (Windows Imaging
  Component docs) defines the rectangle only as normalised "x, y, w, h" from the top-left and
  says nothing about orientation; Microsoft co-authored the MWG guidelines above, and writers
  that emit both forms (digiKam, ExifTool's convert_regions.config) convert MP <-> MWG without
  any rotation, taking the dimensions from the stored ImageWidth/ImageHeight.
* IPTC Image Region: the IPTC Photo Metadata Standard (2019.1 onwards) measures rbX/rbY from the
  left/top edges of "the image" and does not mention Exif orientation. We read it in the stored
  frame too, like the MWG regions it is converted to and from; this is a judgement call.
* Picasa rect64: Picasa writes the same faces as MWG regions, so the same stored frame.

Everything is therefore converted to a normalised rectangle in the stored frame first, then
rotated with the Exif orientation (TIFF/Exif tag 0x0112) exactly as the pixels are.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Frame:
    """The stored image size in pixels and its Exif orientation (1..8)."""

    width: int
    height: int
    orientation: int = 1

    @property
    def upright_size(self) -> tuple[int, int]:
        if self.orientation in (5, 6, 7, 8):
            return self.height, self.width
        return self.width, self.height


@dataclass(frozen=True)
class StoredRect:
    """Left, top, right, bottom as fractions of the stored image."""

    x0: float
    y0: float
    x1: float
    y1: float

    @classmethod
    def from_xywh(cls, x: float, y: float, w: float, h: float) -> "StoredRect":
        return cls(x, y, x + w, y + h)

    @property
    def covers_whole_image(self) -> bool:
        return self.x0 <= 0 and self.y0 <= 0 and self.x1 >= 1 and self.y1 >= 1


def _upright_point(x: float, y: float, w: int, h: int, orientation: int) -> tuple[float, float]:
    """Where the stored point (x, y) of a w x h image lands once the orientation is applied."""
    if orientation == 2:  # mirrored left-right
        return w - x, y
    if orientation == 3:  # rotated 180
        return w - x, h - y
    if orientation == 4:  # mirrored top-bottom
        return x, h - y
    if orientation == 5:  # transposed: stored rows become columns
        return y, x
    if orientation == 6:  # displayed after a 90 degree clockwise turn
        return h - y, x
    if orientation == 7:  # transverse
        return h - y, w - x
    if orientation == 8:  # displayed after a 90 degree counter-clockwise turn
        return y, w - x
    return x, y


def upright_box(rect: StoredRect, frame: Frame) -> list[int] | None:
    """The [x, y, w, h] integer box in the upright image, clamped to it; None if nothing is left."""
    w, h = frame.width, frame.height
    corners = [
        _upright_point(px * w, py * h, w, h, frame.orientation)
        for px, py in ((rect.x0, rect.y0), (rect.x1, rect.y1))
    ]
    uw, uh = frame.upright_size
    left = min(max(min(c[0] for c in corners), 0.0), uw)
    right = min(max(max(c[0] for c in corners), 0.0), uw)
    top = min(max(min(c[1] for c in corners), 0.0), uh)
    bottom = min(max(max(c[1] for c in corners), 0.0), uh)
    x, y = round(left), round(top)
    bw, bh = round(right) - x, round(bottom) - y
    if bw <= 0 or bh <= 0:
        return None
    return [x, y, bw, bh]
