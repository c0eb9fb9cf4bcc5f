"""bipacheck.names: the escaping every report uses for names (reversible) and for any text (visible)."""

from __future__ import annotations

import json
import unicodedata

import pytest

from bipacheck.names import json_visible, printable, unprintable, visible

RLO = "\u202e"
HIDDEN = [RLO, "\u2066", "\u200b", "\ufeff", "\u2028", "\u0085", "\U000e0001", "\x1b", "\x7f"]


@pytest.mark.parametrize("name", [
    "coll\n.jpg", "coll\\x0a.jpg", "\udc80raw.jpg", "\x80c1.jpg", f"evil{RLO}gpj.png", "a\\b.jpg",
    "\U000e0001tag.jpg", "tab\t.jpg", "\x1b[31mred.jpg", "caf\u00e9 \u65e5\u672c.jpg", "\ud800lone.jpg"])
def test_printable_is_reversible_and_shows_nothing_hidden(name):
    shown = printable(name)
    assert unprintable(shown) == name
    assert shown.isprintable() and not any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp") for c in shown)
    assert visible(shown) == shown  # a printable name needs nothing more for display


def test_no_two_names_share_a_printed_form():
    names = ["coll\n.jpg", "coll\\x0a.jpg", "\udc80.jpg", "\x80.jpg", "\\x80.jpg", "\\u0080.jpg",
             f"{RLO}.jpg", "\\u202e.jpg", "a\\\\b", "a\\b"]
    assert len({printable(n) for n in names}) == len(names)


def test_json_escapes_hidden_characters_but_parses_to_the_same_strings():
    value = {"k": "".join(HIDDEN) + "\u00e9"}
    text = json_visible(json.dumps(value, ensure_ascii=False))
    assert json.loads(text) == value
    assert not any(c in text for c in HIDDEN)
