"""Face regions and person tags in XMP: MWG (and Apple's flavour), Microsoft Photo, IPTC Extension.

Each found tag carries the RDF value that holds it, so stripping removes exactly what reading saw.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .geometry import Frame, StoredRect
from .rdf import Array, Node, Struct, Value, iter_nodes, text_of, texts_of

MWG = "http://www.metadataworkinggroup.com/schemas/regions/"
ST_AREA = "http://ns.adobe.com/xmp/sType/Area#"
ST_DIM = "http://ns.adobe.com/xap/1.0/sType/Dimensions#"
APPLE_FI = "http://ns.apple.com/faceinfo/1.0/"
MP = "http://ns.microsoft.com/photo/1.2/"
MPRI = "http://ns.microsoft.com/photo/1.2/t/RegionInfo#"
MPREG = "http://ns.microsoft.com/photo/1.2/t/Region#"
IPTC = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"

# Windows Live Photo Gallery writes this display name for a face the user chose to ignore.
_MS_IGNORED = "ffffffffffffffff"

# Element names that, in any other namespace, are probably a face tag written wrongly.
_EXPECTED_NS = {
    "Regions": {MWG, MPRI},
    "RegionList": {MWG},
    "RegionInfo": {MP},
    "ImageRegion": {IPTC},
    "PersonInImage": {IPTC},
    "PersonInImageWDetails": {IPTC},
}


def q(ns: str, local: str) -> str:
    return f"{{{ns}}}{local}"


@dataclass(eq=False)
class Found:
    """A face tag read from XMP. rect None: a name without a region. target: what strip blanks."""

    tool: str
    name: str | None
    named: bool
    rect: StoredRect | None
    target: Value


def find_face_tags(props: list[tuple[str, Value]], frame: Frame | None) -> list[Found]:
    found: list[Found] = []
    for key, value in props:
        if key == q(MWG, "Regions") and isinstance(value, Struct):
            found += _mwg(value, frame)
        elif key == q(MP, "RegionInfo") and isinstance(value, Struct):
            found += _microsoft(value)
        elif key == q(IPTC, "PersonInImage"):
            found += [Found("iptc", name, True, None, value) for name in texts_of(value)]
        elif key == q(IPTC, "PersonInImageWDetails"):
            found += _iptc_people(value)
        elif key == q(IPTC, "ImageRegion") and isinstance(value, Array):
            found += _iptc_regions(value, frame)
    return found


def namespace_problems(root: Node) -> list[str]:
    """Messages for region-like elements in unexpected namespaces (they are not read)."""
    problems: list[str] = []
    seen: set[tuple[str, str]] = set()
    for node in iter_nodes(root):
        for name in (node.tag, *node.attrs):
            if "}" not in name:
                continue
            ns, local = name[1:].split("}", 1)
            expected = _EXPECTED_NS.get(local)
            if expected and ns not in expected and (ns, local) not in seen:
                seen.add((ns, local))
                problems.append(
                    f"'{local}' in unexpected namespace {ns!r} ignored "
                    f"(expected {' or '.join(sorted(expected))})"
                )
    return problems


def _num(value: Value | None) -> float | None:
    text = text_of(value)
    if text is None:
        return None
    try:
        number = float(text)
    except ValueError:
        try:  # some writers use a decimal comma
            number = float(text.replace(",", "."))
        except ValueError:
            return None
    return number if math.isfinite(number) else None


def _field(struct: Value | None, ns: str, local: str) -> Value | None:
    return struct.fields.get(q(ns, local)) if isinstance(struct, Struct) else None


# --- MWG ------------------------------------------------------------------------------------

def _mwg(regions: Struct, frame: Frame | None) -> list[Found]:
    region_list = _field(regions, MWG, "RegionList")
    if not isinstance(region_list, Array):
        return []
    reference = _mwg_reference_size(_field(regions, MWG, "AppliedToDimensions"), frame)
    faces: list[tuple[Struct, str | None, bool, StoredRect | None]] = []
    for item in region_list.items:
        if not isinstance(item, Struct):
            continue
        kind = text_of(_field(item, MWG, "Type"))
        # Type is optional in MWG; an untyped region is read as a face rather than missed.
        if kind is not None and kind.lower() != "face":
            continue
        name = text_of(_field(item, MWG, "Name"))
        rect = _mwg_area(_field(item, MWG, "Area"), reference, frame)
        faces.append((item, name, _is_apple(item), rect))
    whole = len(faces) == len(region_list.items)
    return [
        Found("apple" if apple else "mwg", name, bool(name), rect, regions if whole else item)
        for item, name, apple, rect in faces
    ]


def _is_apple(item: Struct) -> bool:
    extensions = _field(item, MWG, "Extensions")
    keys = list(item.fields) + (list(extensions.fields) if isinstance(extensions, Struct) else [])
    return any(k.startswith(f"{{{APPLE_FI}}}") for k in keys)


def _mwg_reference_size(dims: Value | None, frame: Frame | None) -> tuple[float, float] | None:
    """Width and height that pixel-unit areas are measured against, in the stored frame."""
    w, h = _num(_field(dims, ST_DIM, "w")), _num(_field(dims, ST_DIM, "h"))
    if not w or not h or w <= 0 or h <= 0:
        return (frame.width, frame.height) if frame else None
    if frame and frame.height:
        # Regions are in the stored frame, but some writers record the displayed size here
        # (ExifTool's rotate_regions.config keeps AppliedToDimensions when it rotates regions),
        # so take the dimensions in whichever order matches the stored aspect ratio.
        aspect = frame.width / frame.height
        if abs(h / w - aspect) < abs(w / h - aspect):
            return h, w
    return w, h


def _mwg_area(area: Value | None, reference: tuple[float, float] | None,
              frame: Frame | None) -> StoredRect | None:
    cx, cy = _num(_field(area, ST_AREA, "x")), _num(_field(area, ST_AREA, "y"))
    w, h = _num(_field(area, ST_AREA, "w")), _num(_field(area, ST_AREA, "h"))
    d = _num(_field(area, ST_AREA, "d"))
    if cx is None or cy is None:
        return None
    unit = (text_of(_field(area, ST_AREA, "unit")) or "normalized").lower()
    if unit == "pixel":
        if reference is None:
            return None
        rw, rh = reference
        cx, cy = cx / rw, cy / rh
        w, h, d = (w / rw if w is not None else None), (h / rh if h is not None else None), \
            (d / rw if d is not None else None)
    if (w is None or h is None) and d is not None:
        # A circle: d is a fraction of the width; the same diameter in pixels down the height.
        ratio = (reference[0] / reference[1]) if reference else \
            (frame.width / frame.height if frame and frame.height else 1.0)
        w, h = d, d * ratio
    if w is None or h is None or w <= 0 or h <= 0:
        return None  # a point marks no face area
    # MWG areas are centred on (x, y).
    return StoredRect(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)


# --- Microsoft Photo ------------------------------------------------------------------------

def _microsoft(info: Struct) -> list[Found]:
    regions = _field(info, MPRI, "Regions")
    if not isinstance(regions, Array):
        return []
    found = []
    for item in regions.items:
        if not isinstance(item, Struct):
            continue
        name = text_of(_field(item, MPREG, "PersonDisplayName"))
        if name and name.lower() == _MS_IGNORED:
            name = None
        identity = (
            text_of(_field(item, MPREG, "PersonEmailDigest"))
            or text_of(_field(item, MPREG, "PersonLiveIdCID"))
            or text_of(_field(item, MPREG, "PersonLiveCID"))
        )
        found.append(Found("microsoft", name, bool(name or identity),
                           _ms_rectangle(_field(item, MPREG, "Rectangle")), info))
    return found


def _ms_rectangle(value: Value | None) -> StoredRect | None:
    text = text_of(value)
    if not text:
        return None
    try:
        x, y, w, h = (float(part) for part in text.split(","))
    except ValueError:
        return None
    if not all(map(math.isfinite, (x, y, w, h))) or w <= 0 or h <= 0:
        return None
    return StoredRect.from_xywh(x, y, w, h)  # top-left corner, normalised


# --- IPTC Extension -------------------------------------------------------------------------

def _iptc_people(value: Value) -> list[Found]:
    items = value.items if isinstance(value, Array) else [value]
    found = []
    for person in items:
        if not isinstance(person, Struct):  # a bare name where the details struct belongs
            name, ids = text_of(person), []
        else:
            name = text_of(_field(person, IPTC, "PersonName"))
            ids = texts_of(_field(person, IPTC, "PersonId"))
        found.append(Found("iptc", name, bool(name or ids), None, value))
    return found


def _iptc_regions(image_region: Array, frame: Frame | None) -> list[Found]:
    people: list[tuple[Struct, str | None, bool, StoredRect | None]] = []
    for item in image_region.items:
        if not isinstance(item, Struct):
            continue
        ctypes = _field(item, IPTC, "rCtype")
        labels = [
            text.lower()
            for entity in (ctypes.items if isinstance(ctypes, Array) else [ctypes])
            for text in (texts_of(_field(entity, IPTC, "Name")) + texts_of(_field(entity, IPTC, "Identifier")))
        ]
        human = any("human" in label or "face" in label for label in labels)
        in_region = texts_of(_field(item, IPTC, "PersonInImage"))
        details = _field(item, IPTC, "PersonInImageWDetails")
        detail_people = details.items if isinstance(details, Array) else ([details] if details else [])
        detail_names = [n for p in detail_people if (n := text_of(_field(p, IPTC, "PersonName")))]
        detail_ids = [i for p in detail_people for i in texts_of(_field(p, IPTC, "PersonId"))]
        if not (human or in_region or detail_people):
            continue
        region_name = text_of(_field(item, IPTC, "Name")) if human else None
        name = next(iter(detail_names + in_region), None) or region_name
        rect = _iptc_boundary(_field(item, IPTC, "RegionBoundary"), frame)
        if rect is not None and rect.covers_whole_image:
            rect = None  # the whole-image boundary stands for "somewhere in the picture"
        people.append((item, name, bool(name or detail_ids), rect))
    whole = len(people) == len(image_region.items)
    return [Found("iptc", name, named, rect, image_region if whole else item)
            for item, name, named, rect in people]


def _iptc_boundary(boundary: Value | None, frame: Frame | None) -> StoredRect | None:
    if not isinstance(boundary, Struct):
        return None
    shape = (text_of(_field(boundary, IPTC, "rbShape")) or "rectangle").lower()
    unit = (text_of(_field(boundary, IPTC, "rbUnit")) or "relative").lower()
    if unit == "pixel":
        if frame is None or not frame.width or not frame.height:
            return None
        sx, sy = 1 / frame.width, 1 / frame.height
    else:
        sx = sy = 1.0
    x, y = _num(_field(boundary, IPTC, "rbX")), _num(_field(boundary, IPTC, "rbY"))
    if shape == "polygon":
        vertices = _field(boundary, IPTC, "rbVertices")
        points = [
            (vx, vy)
            for v in (vertices.items if isinstance(vertices, Array) else [])
            if (vx := _num(_field(v, IPTC, "rbX"))) is not None
            and (vy := _num(_field(v, IPTC, "rbY"))) is not None
        ]
        if len(points) < 2:
            return None
        xs, ys = [p[0] * sx for p in points], [p[1] * sy for p in points]
        rect = StoredRect(min(xs), min(ys), max(xs), max(ys))
        return rect if rect.x1 > rect.x0 and rect.y1 > rect.y0 else None
    if x is None or y is None:
        return None
    if shape == "circle":
        rx = _num(_field(boundary, IPTC, "rbRx"))
        if rx is None or rx <= 0:
            return None
        # rbRx is in x-axis units; the circle is round in pixels, so its height fraction differs.
        ry = rx * sx * (frame.width / frame.height if frame and frame.height else 1.0)
        return StoredRect(x * sx - rx * sx, y * sy - ry, x * sx + rx * sx, y * sy + ry)
    w, h = _num(_field(boundary, IPTC, "rbW")), _num(_field(boundary, IPTC, "rbH"))
    if w is None or h is None or w <= 0 or h <= 0:
        return None
    return StoredRect.from_xywh(x * sx, y * sy, w * sx, h * sy)
