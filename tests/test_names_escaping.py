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


@pytest.mark.parametrize("invisible", ["\ufe0f", "\U000e0101", "\u034f", "\u3164", "\u115f", "\u180b", "\u00a0",
                                       "\u3000", "\u2009"])
def test_characters_that_show_as_nothing_or_as_a_space_are_escaped(invisible):
    # `photo\ufe0f.jpg` (a variation selector) or `a\u00a0b.jpg` (a no-break space) looked like another file
    name = f"a{invisible}b.jpg"
    shown = printable(name)
    assert invisible not in shown and shown.isascii() and unprintable(shown) == name
    assert printable(name) != printable("ab.jpg") and printable(name) != printable("a b.jpg")
    assert invisible not in visible(name) and invisible not in json_visible(json.dumps(name, ensure_ascii=False))


def test_spaces_that_begin_or_end_a_name_are_shown():
    names = ["a.png", "a.png ", " a.png", "  ", "a b.png"]
    shown = [printable(n) for n in names]
    assert shown == ["a.png", "a.png\\x20", "\\x20a.png", "\\x20\\x20", "a b.png"]
    assert [unprintable(s) for s in shown] == names
