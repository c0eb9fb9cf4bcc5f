"""Names as reports show them: exact, printable and unambiguous.

A file name is a byte string (POSIX) or text (bucket keys) that may hold anything: bytes that are
not UTF-8, control characters that break lines or drive a terminal, and invisible format
characters (U+202E RIGHT-TO-LEFT OVERRIDE shows `evil\u202egpj.png` as "evilgnp.jpg"). `printable`
escapes every one of them visibly and reversibly, so each report carries the exact name and no two
names share a reported form; `unprintable` gives the name back. `visible` is the display-side
guard every text format applies to any string it shows (messages, ids): it escapes the same
characters without promising reversibility.

Escapes: `\\\\` a backslash; `\\xNN` a byte that is not UTF-8 (NN >= 80) or a C0 control or DEL
(NN < 80); `\\uNNNN` / `\\UNNNNNNNN` any other control (C1), format (bidi, zero-width), line or
paragraph separator, surrogate, space other than U+0020 (no-break, ideographic...), or other
character that shows as nothing (variation selectors, Hangul fillers, the combining grapheme joiner);
`\\x20` a space that begins or ends the name.
"""

from __future__ import annotations

import re
import unicodedata

_ESCAPED_CATEGORIES = ("Cc", "Cf", "Cs", "Zl", "Zp")
# Characters that show as nothing but are not format characters (Unicode's Default_Ignorable_Code_Point
# outside Cf: variation selectors, the combining grapheme joiner, Hangul fillers, Mongolian free variation
# selectors): `photo\ufe0f.jpg` would look like `photo.jpg`
_INVISIBLE = re.compile("[\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u3164\ufe00-\ufe0f\uffa0"
                        "\U000e0100-\U000e01ef]")


def _hidden(char: str) -> bool:
    category = unicodedata.category(char)
    # spaces other than U+0020 (no-break, em, ideographic...) look like it: escaped too
    return category in _ESCAPED_CATEGORIES or (category == "Zs" and char != " ") or bool(_INVISIBLE.match(char))


def _escape(char: str) -> str:
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte, as os.fsdecode (surrogateescape) keeps it
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x80:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def printable(name: str) -> str:
    """The reversible, printable form of a name (os.fsdecode'd bytes or text); see the module doc."""
    shown = "".join("\\\\" if c == "\\" else _escape(c) if _hidden(c) else c for c in name)
    # spaces that begin or end a name vanish on a page (`a.png ` looks like `a.png`): \x20
    stripped = shown.strip(" ")
    if stripped == shown:
        return shown
    start = len(shown) - len(shown.lstrip(" "))
    return "\\x20" * start + stripped + "\\x20" * (len(shown) - start - len(stripped))


_ESCAPE = re.compile(r"\\(\\|x[0-9a-f]{2}|u[0-9a-f]{4}|U[0-9a-f]{8})")


def _unescape(match: re.Match) -> str:
    body = match.group(1)
    if body == "\\":
        return "\\"
    code = int(body[1:], 16)
    if body[0] == "x" and code >= 0x80:
        return chr(0xDC00 + code)  # the undecodable byte, for os.fsencode
    return chr(code)


def unprintable(text: str) -> str:
    """The name `printable` was given (undecodable bytes as surrogate escapes: os.fsencode turns
    the result back into the exact bytes)."""
    return _ESCAPE.sub(_unescape, text)


def visible(text: str) -> str:
    """`text` with control, format and separator characters escaped, for any string a report
    shows (idempotent on printable names; backslashes are left as they are)."""
    if text.isprintable() and text.isascii():
        return text  # the common case, without a per-character walk
    return "".join(_escape(c) if _hidden(c) else c for c in text)


def visible_all(value):
    """`visible` applied to every string inside a JSON-like value (dicts, lists), keys included."""
    if isinstance(value, str):
        return visible(value)
    if isinstance(value, dict):
        return {visible_all(k): visible_all(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [visible_all(v) for v in value]
    return value


_NON_ASCII = re.compile(r"[^\x00-\x7e]")  # DEL too


def json_visible(text: str) -> str:
    """JSON text (json.dumps with ensure_ascii=False) with every control, format and separator
    character inside its strings written as a \\uXXXX escape: a parser reads the same strings, a
    person reading the file sees them. json.dumps already escapes C0 controls."""
    def escape(match: re.Match) -> str:
        char = match.group()
        if not _hidden(char):
            return char
        code = ord(char)
        if code > 0xFFFF:  # as a UTF-16 surrogate pair, the only way JSON spells it
            code -= 0x10000
            return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
        return f"\\u{code:04x}"
    return _NON_ASCII.sub(escape, text)
