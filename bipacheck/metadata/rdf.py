"""Safe XMP parsing into RDF values that remember where they sit in the packet bytes.

Reading needs the RDF meaning (a struct written as attributes, as rdf:parseType="Resource" or as a
nested rdf:Description is the same struct); stripping needs the byte span of each element so it
can blank exactly those bytes and leave every other byte of the packet as it was.
"""

from __future__ import annotations

import xml.parsers.expat as expat
from dataclasses import dataclass, field

import defusedxml.ElementTree as SafeET
from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XML = "http://www.w3.org/XML/1998/namespace"
_RDF_LISTS = {f"{{{RDF}}}Bag", f"{{{RDF}}}Seq", f"{{{RDF}}}Alt"}
_LI = f"{{{RDF}}}li"
_DESCRIPTION = f"{{{RDF}}}Description"
_PARSE_TYPE = f"{{{RDF}}}parseType"
_RESOURCE = f"{{{RDF}}}resource"
XML_LANG = f"{{{XML}}}lang"
_MAX_DEPTH = 100  # real XMP nests a dozen levels; deeper is an attack on the recursive readers


class XmpError(ValueError):
    """A packet that cannot be read; the message is shown to the user as is."""


@dataclass(eq=False)
class Node:
    """One XML element: Clark-notation tag and attributes, children, text, byte span [start, end)."""

    tag: str
    attrs: dict[str, str]
    ns: dict[str, str]  # prefix -> namespace in scope, to find an attribute's bytes again
    start: int
    end: int = -1
    children: list["Node"] = field(default_factory=list)
    text: str = ""


@dataclass(eq=False)
class Value:
    """An RDF value. `node` is the element holding it; `attr` names the attribute when it is one."""

    node: Node
    attr: str | None = None


@dataclass(eq=False)
class Literal(Value):
    text: str = ""


@dataclass(eq=False)
class Struct(Value):
    fields: dict[str, Value] = field(default_factory=dict)


@dataclass(eq=False)
class Array(Value):
    items: list[Value] = field(default_factory=list)


def parse_packet(packet: bytes) -> tuple[Node, list[tuple[str, Value]]]:
    """The element tree and the top-level properties of every rdf:Description.

    Raises XmpError for anything hostile or malformed.
    """
    try:
        # defusedxml is the gate: it refuses entity declarations (billion laughs) and external
        # references before anything is expanded. Only a packet it accepts reaches expat below.
        SafeET.fromstring(packet)
    except EntitiesForbidden:
        raise XmpError("entity declarations refused") from None
    except ExternalReferenceForbidden:
        raise XmpError("external references refused") from None
    except DTDForbidden:
        raise XmpError("DTD refused") from None
    except SafeET.ParseError as exc:
        raise XmpError(f"XMP packet is not well-formed XML: {exc}") from None
    except Exception as exc:  # expat can raise other errors on odd encodings
        raise XmpError(f"XMP packet is not well-formed XML: {exc}") from None
    root = _build_tree(packet)
    return root, top_level_properties(root)


def _build_tree(packet: bytes) -> Node:
    parser = expat.ParserCreate(namespace_separator="}")
    parser.buffer_text = True
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    stack: list[Node] = []
    roots: list[Node] = []
    ns_scope: list[dict[str, str]] = [{}]
    pending: dict[str, str] = {}

    def refuse_dtd(*_args):
        raise XmpError("DTD refused")

    def refuse_entity(*_args):
        raise XmpError("entity declarations refused")

    def start_ns(prefix, uri):
        pending[prefix or ""] = uri

    def end_ns(_prefix):
        pass

    def start(name, attrs):
        if len(stack) >= _MAX_DEPTH:
            raise XmpError("XMP packet nests too deeply")
        if pending:
            scope = dict(ns_scope[-1])
            scope.update(pending)
            pending.clear()
        else:
            scope = ns_scope[-1]
        ns_scope.append(scope)
        node = Node(_clark(name), {_clark(k): v for k, v in attrs.items()}, scope, parser.CurrentByteIndex)
        (stack[-1].children if stack else roots).append(node)
        stack.append(node)

    def end(_name):
        node = stack.pop()
        ns_scope.pop()
        node.end = _element_end(packet, node.start, parser.CurrentByteIndex)

    def chars(data):
        if stack:
            stack[-1].text += data

    parser.StartDoctypeDeclHandler = refuse_dtd
    parser.EntityDeclHandler = refuse_entity
    parser.UnparsedEntityDeclHandler = refuse_entity
    parser.ExternalEntityRefHandler = refuse_entity
    parser.StartNamespaceDeclHandler = start_ns
    parser.EndNamespaceDeclHandler = end_ns
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    try:
        parser.Parse(packet, True)
    except expat.ExpatError as exc:
        raise XmpError(f"XMP packet is not well-formed XML: {exc}") from None
    except RecursionError:
        raise XmpError("XMP packet nests too deeply") from None
    if not roots:
        raise XmpError("XMP packet has no elements")
    return roots[0]


def _clark(name: str) -> str:
    return "{" + name if "}" in name else name


def start_tag_end(packet: bytes, start: int) -> int:
    """Index just past the start tag beginning at `start` (quotes may hide a '>')."""
    quote = 0
    for i in range(start + 1, len(packet)):
        c = packet[i]
        if quote:
            if c == quote:
                quote = 0
        elif c in (0x22, 0x27):
            quote = c
        elif c == 0x3E:
            return i + 1
    return len(packet)


def _element_end(packet: bytes, start: int, end_index: int) -> int:
    # Byte spans only make sense for ASCII-compatible packets; others get -1 (strip then
    # falls back to blanking the whole packet).
    if packet[start:start + 1] != b"<":
        return -1
    tag_end = start_tag_end(packet, start)
    if packet[tag_end - 2:tag_end] == b"/>":
        return tag_end
    if packet[end_index:end_index + 2] != b"</":
        return -1
    close = packet.find(b">", end_index)
    return close + 1 if close >= 0 else -1


def iter_nodes(node: Node):
    yield node
    for child in node.children:
        yield from iter_nodes(child)


def top_level_properties(root: Node) -> list[tuple[str, Value]]:
    props: list[tuple[str, Value]] = []
    for node in iter_nodes(root):
        if node.tag != f"{{{RDF}}}RDF":
            continue
        for desc in node.children:
            if desc.tag == _DESCRIPTION:
                props.extend(_struct_members(desc))
    return props


def _struct_members(node: Node) -> list[tuple[str, Value]]:
    members: list[tuple[str, Value]] = [
        (name, Literal(node, name, text))
        for name, text in node.attrs.items()
        if not name.startswith(f"{{{RDF}}}") and not name.startswith(f"{{{XML}}}")
    ]
    for child in node.children:
        members.append((child.tag, property_value(child)))
    return members


def property_value(node: Node) -> Value:
    """The RDF value of a property element (or rdf:li), whichever of the RDF/XML forms it uses."""
    if node.attrs.get(_PARSE_TYPE) == "Resource":
        return Struct(node, fields=dict(_struct_members(node)))
    if node.children:
        first = node.children[0]
        if first.tag in _RDF_LISTS:
            return Array(node, items=[property_value(li) for li in first.children if li.tag == _LI])
        if first.tag == _DESCRIPTION:
            return Struct(node, fields=dict(_struct_members(first)))
        # Not valid RDF, but writers do it: treat the children as struct fields.
        return Struct(node, fields=dict(_struct_members(node)))
    shorthand = [k for k in node.attrs if not k.startswith(f"{{{RDF}}}") and not k.startswith(f"{{{XML}}}")]
    if shorthand:
        return Struct(node, fields=dict(_struct_members(node)))
    if _RESOURCE in node.attrs:
        return Literal(node, text=node.attrs[_RESOURCE])
    return Literal(node, text=node.text)


def text_of(value: Value | None) -> str | None:
    """A human-readable string from a literal, a language alternative or a list; None if empty."""
    if value is None:
        return None
    if isinstance(value, Literal):
        return value.text.strip() or None
    if isinstance(value, Array):
        ordered = sorted(value.items, key=lambda v: v.node.attrs.get(XML_LANG) != "x-default")
        for item in ordered:
            text = text_of(item)
            if text:
                return text
        return None
    if isinstance(value, Struct):
        return text_of(value.fields.get(f"{{{RDF}}}value"))
    return None


def texts_of(value: Value | None) -> list[str]:
    """Every non-empty string in a list value (or the one string of a literal)."""
    if isinstance(value, Array):
        return [t for item in value.items if (t := text_of(item))]
    text = text_of(value)
    return [text] if text else []
