"""read_face_tags: every face region and person tag in an image file and its sidecars."""

from __future__ import annotations

import os

from .frame import read_frame
from .geometry import Frame, StoredRect, upright_box
from .model import FaceTags, TagRegion
from .packets import find_packets
from .rdf import XmpError, parse_packet
from .schemas import find_face_tags, namespace_problems
from .sidecars import (
    PICASA_MAX_BYTES,
    picasa_faces,
    picasa_identifies,
    sidecar_kind,
    takeout_people,
)

EMBEDDED = "embedded"


def read_face_tags(
    data: bytes,
    *,
    sidecars: dict[str, bytes] | None = None,
    max_packet_bytes: int = 2_000_000,
    photo_name: str | None = None,
) -> FaceTags:
    """Face regions and person tags in `data` (the image file) and in the given sidecars.

    sidecars maps a sidecar's file name (or path) to its bytes; the name tells the kind
    (*.xmp, *.json from Google Takeout, .picasa.ini). photo_name is the photo's file name, which
    picks its section in a .picasa.ini. Boxes are upright pixels (Exif orientation applied).
    Never raises on bad metadata: problems are listed in FaceTags.errors.
    """
    tags = FaceTags()
    try:
        _read(data, sidecars or {}, max_packet_bytes, photo_name, tags)
    except Exception as exc:  # the last guard: a surprise in one file must not stop an audit
        # the type only: an exception's text can quote a tag's content, and names stay out of reports
        tags.errors.append(f"face tags not fully read: {type(exc).__name__}")
    return tags


def _read(data, sidecars, max_packet_bytes, photo_name, tags: FaceTags) -> None:
    frame, problem = read_frame(data)
    if problem:
        tags.errors.append(problem)
    packets, problems = find_packets(data, max_packet_bytes)
    tags.errors += [f"embedded XMP: {p}" for p in problems]
    for packet in packets:
        if packet.too_big:
            tags.errors.append(f"embedded XMP: XMP packet over {_mb(max_packet_bytes)} ignored")
        else:
            _read_xmp(packet.data, EMBEDDED, "embedded XMP", frame, tags)
    for filename, content in sidecars.items():
        _read_sidecar(filename, content, frame, max_packet_bytes, photo_name, tags)


def _read_sidecar(filename, content, frame, max_packet_bytes, photo_name, tags: FaceTags) -> None:
    where = os.path.basename(filename)
    label = f"sidecar {where}"
    kind = sidecar_kind(filename)
    limit = PICASA_MAX_BYTES if kind == "picasa" else max_packet_bytes
    if kind is None:
        tags.errors.append(f"{label}: not a known sidecar kind (.xmp, .json, .picasa.ini); ignored")
    elif len(content) > limit:
        tags.errors.append(f"{label}: over {_mb(limit)} ignored")
    elif kind == "xmp":
        _read_xmp(content, where, label, frame, tags)
    elif kind == "takeout":
        try:
            names = takeout_people(content)
        except ValueError as exc:
            tags.errors.append(f"{label}: {exc}")
            return
        tags.regions += [TagRegion(None, name, name is not None, "google-takeout", where) for name in names]
    elif photo_name is None:
        tags.errors.append(f"{label}: photo_name is needed to find the photo's section; ignored")
    else:
        for rect, contact_id, name in picasa_faces(content, photo_name):
            box = _box(rect, frame, "picasa", name, label, tags)
            tags.regions.append(TagRegion(box, name, picasa_identifies(contact_id), "picasa", where))


def _read_xmp(packet: bytes, where: str, label: str, frame: Frame | None, tags: FaceTags) -> None:
    try:
        root, props = parse_packet(packet)
    except XmpError as exc:
        tags.errors.append(f"{label}: {exc}")
        return
    tags.errors += [f"{label}: {p}" for p in namespace_problems(root)]
    for found in find_face_tags(props, frame):
        box = _box(found.rect, frame, found.tool, found.name, label, tags)
        tags.regions.append(TagRegion(box, found.name, found.named, found.tool, where))


def _box(rect: StoredRect | None, frame: Frame | None, tool, name, label, tags: FaceTags):
    if rect is None or frame is None:
        return None
    box = upright_box(rect, frame)
    if box is None:
        # warnings reach every report format: they never name anyone (only --show-names does, in findings)
        whose = "a named face" if name else "an unnamed face"
        tags.errors.append(f"{label}: {tool} region of {whose} lies outside the image")
    return box


def _mb(limit: int) -> str:
    return f"{limit / 1e6:g} MB"
