"""CSV cells that a spreadsheet shows as text, never runs as a formula (OWASP "CSV injection").

Excel, LibreOffice and Google Sheets evaluate a cell starting with = + - @ (or their full-width
forms), tab or carriage return: `=HYPERLINK(...)` leaks data, `=cmd|...` runs programs. Such a
cell is written with a leading apostrophe, which spreadsheets show as text. A cell that already
starts with apostrophes before such a character gets one more, so `restore` (used on import)
gives back exactly what was written: restore(neutralize(v)) == v for every v.
"""

from __future__ import annotations

import re

_FORMULA = re.compile("^'*[=+\\-@\t\r\uff1d\uff0b\uff0d\uff20]")


def neutralize(cell: str) -> str:
    """The cell as written to a CSV file."""
    return "'" + cell if _FORMULA.match(cell) else cell


def restore(cell: str) -> str:
    """The value a cell written by `neutralize` stands for."""
    return cell[1:] if cell.startswith("'") and _FORMULA.match(cell) else cell
