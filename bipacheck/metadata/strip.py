"""strip_face_tags: remove face regions and person tags from the XMP inside an image file.

The face-tag elements that reading finds are overwritten with spaces, which XMP allows as
padding, so every other byte of the file stays where it was: pixels and scan data are never
re-encoded, no segment length or file offset changes, the rest of the XMP is kept verbatim.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ..errors import BipacheckError
from .packets import Packet, find_packets, write_packets
from .rdf import Node, Value, XmpError, parse_packet, start_tag_end
from .schemas import find_face_tags

STRIP_MAX_PACKET_BYTES = 64_000_000
_EMPTY_PACKET = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"/>'


class StripError(BipacheckError):
    """The file could not be stripped safely; nothing should be written for it."""


@dataclass
class StripResult:
    data: bytes
    removed: Counter = field(default_factory=Counter)  # tool -> number of tags removed
    notes: list[str] = field(default_factory=list)

    @property
    def total_removed(self) -> int:
        return sum(self.removed.values())


def strip_face_tags(data: bytes, *, max_packet_bytes: int = STRIP_MAX_PACKET_BYTES) -> bytes:
    """A copy of the image file without face regions or person tags in its XMP.

    Other metadata and all pixel bytes are kept. An XMP packet that cannot be read safely
    (malformed, hostile) is blanked whole, since it cannot be shown to be free of face tags.
    Raises StripError when a packet can be neither read nor blanked.
    """
    return strip_face_tags_report(data, max_packet_bytes=max_packet_bytes).data


def strip_face_tags_report(data: bytes, *, max_packet_bytes: int = STRIP_MAX_PACKET_BYTES) -> StripResult:
    """strip_face_tags, also saying what was removed and which packets were blanked whole."""
    result = StripResult(data)
    packets, problems = find_packets(data, max_packet_bytes)
    result.notes += problems
    edits: list[tuple[Packet, bytes]] = []
    for packet in packets:
        if packet.too_big and packet.kind == "jpeg-ext":
            raise StripError(f"Extended XMP over {max_packet_bytes / 1e6:g} MB cannot be checked for face tags")
        if packet.too_big:
            result.notes.append(f"XMP packet over {max_packet_bytes / 1e6:g} MB cannot be checked: blanked whole")
            edits.append((packet, _blank_whole(packet.data)))
            continue
        new = _strip_packet(packet.data, result)
        if new != packet.data:
            edits.append((packet, new))
    if not edits:
        return result
    result.data = write_packets(data, packets, edits)
    _verify(result.data, max_packet_bytes)
    return result


def _strip_packet(packet: bytes, result: StripResult) -> bytes:
    try:
        _root, props = parse_packet(packet)
    except XmpError as exc:
        result.notes.append(f"XMP packet unreadable ({exc}): blanked whole")
        return _blank_whole(packet)
    found = find_face_tags(props, None)
    if not found:
        return packet
    targets = {id(f.target): f.target for f in found}
    spans = [_span(packet, target) for target in targets.values()]
    if any(span is None for span in spans):
        result.notes.append("face tags could not be located byte by byte: XMP packet blanked whole")
        result.removed.update(f.tool for f in found)
        return _blank_whole(packet)
    new = bytearray(packet)
    for start, end in spans:
        new[start:end] = b" " * (end - start)
    try:  # the blanked packet must still parse and hold no face tags; otherwise blank it all
        _root, props = parse_packet(bytes(new))
        clean = not find_face_tags(props, None)
    except XmpError:
        clean = False
    result.removed.update(f.tool for f in found)
    if not clean:
        result.notes.append("XMP packet did not survive a partial strip: blanked whole")
        return _blank_whole(packet)
    return bytes(new)


def _span(packet: bytes, value: Value) -> tuple[int, int] | None:
    node = value.node
    if node.end < 0:
        return None
    if value.attr is None:
        return node.start, node.end
    return _attribute_span(packet, node, value.attr)


def _attribute_span(packet: bytes, node: Node, clark: str) -> tuple[int, int] | None:
    """Bytes of one attribute (with the blank before it) in the node's start tag."""
    tag_end = start_tag_end(packet, node.start)
    pos = node.start + 1
    while pos < tag_end and packet[pos] not in b" \t\r\n/>":  # skip the element name
        pos += 1
    while pos < tag_end:
        blank = pos
        while pos < tag_end and packet[pos] in b" \t\r\n":
            pos += 1
        eq = packet.find(b"=", pos, tag_end)
        if eq < 0:
            return None
        qname = packet[pos:eq].strip().decode("utf-8", "replace")
        open_quote = eq + 1
        while open_quote < tag_end and packet[open_quote] in b" \t\r\n":
            open_quote += 1
        if open_quote >= tag_end:
            return None
        close = packet.find(packet[open_quote:open_quote + 1], open_quote + 1, tag_end)
        if close < 0:
            return None
        prefix, _, local = qname.rpartition(":")
        uri = node.ns.get(prefix) if prefix else None
        if (f"{{{uri}}}{local}" if uri else local) == clark:
            return blank, close + 1
        pos = close + 1
    return None


def _blank_whole(packet: bytes) -> bytes:
    if len(packet) >= len(_EMPTY_PACKET):
        return _EMPTY_PACKET + b" " * (len(packet) - len(_EMPTY_PACKET))
    return b" " * len(packet)


def _verify(data: bytes, max_packet_bytes: int) -> None:
    packets, _problems = find_packets(data, max_packet_bytes)
    for packet in packets:
        if packet.too_big:
            continue  # already blanked whole above
        try:
            _root, props = parse_packet(packet.data)
        except XmpError:
            continue
        if find_face_tags(props, None):
            raise StripError("face tags are still present after stripping; nothing written")
