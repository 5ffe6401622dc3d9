"""Making data safe to publish: element ids, CSV cells and Markdown table cells.

Area codes and names come from the user's panel and may hold anything, including markup or a
spreadsheet formula. Everything published goes through one of these functions, so a hostile
value renders as inert text wherever it appears. This module imports nothing from the
workbench, so any writer of published files may use it.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pandas as pd

_UNSAFE_ID = re.compile(r"[^A-Za-z0-9_-]")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""OWASP's CSV-injection rule: a cell starting with one of these is read as a formula by spreadsheets."""
_PLAIN_NUMBER = re.compile(r"[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?%?")  # "-5%", "+12%", "-1,234.5": data, not formulas


def slug(text: object) -> str:
    """An element id fragment made of letters, digits, '_' and '-' only.

    A value that is already safe is kept as it is (so `#area-E06000001` stays readable); any other
    value has its unsafe characters replaced and a short digest of the original appended, so two
    different values never share an id."""
    value = str(text)
    safe = _UNSAFE_ID.sub("-", value)
    if safe == value and value:
        return value
    return f"{safe[:40]}-{hashlib.sha256(value.encode()).hexdigest()[:10]}"


def guard_cell(value: object) -> object:
    """A CSV cell that a spreadsheet shows as text: a leading quote before a formula character.

    Numbers, and text that is only a number (such as '-5%' or '+12%'), are left as they are."""
    if not isinstance(value, str) or not value.startswith(FORMULA_START) or _PLAIN_NUMBER.fullmatch(value):
        return value
    return "'" + value


def _guard_column(values: pd.Series) -> pd.Series:
    """`guard_cell` on the cells that start like a formula; the rest are left as they are."""
    try:
        risky = values.str.startswith(FORMULA_START, na=False).to_numpy(bool)
    except AttributeError:  # no text in the column
        return values
    if not risky.any():
        return values
    guarded = values.copy()
    guarded[risky] = values[risky].map(guard_cell)
    return guarded


def guard_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` with every text cell guarded; numeric columns are untouched."""
    guarded = frame.copy()
    for i in range(frame.shape[1]):
        values = frame.iloc[:, i]
        if values.dtype == object or isinstance(values.dtype, pd.StringDtype):
            guarded.iloc[:, i] = _guard_column(values)
    guarded.columns = [guard_cell(str(c)) for c in frame.columns]
    return guarded


def write_published_csv(frame: pd.DataFrame, path: Path, **options: object) -> Path:
    """Write a CSV for people to open in a spreadsheet, every text cell guarded against formulas."""
    guard_frame(frame).to_csv(path, **{"index": False, **options})
    return path


def md_cell(value: object) -> str:
    """Text safe inside a Markdown table cell or list item: no raw HTML, no column breaks, one line."""
    text = str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("|", "\\|").replace("\r", " ").replace("\n", " ")
