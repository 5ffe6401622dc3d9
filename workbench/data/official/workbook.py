"""Reading one sheet of an official workbook (xlsx or ods) as it really is: titles above the table,
one or several header rows (merged cells, footnote digits glued to the text, `[note N]` suffixes),
summary rows among the areas, and markers for missing values."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.data import messages as msg
from workbench.data.findings import from_message
from workbench.errors import DataError

MARKERS = {"[x]", "[z]", "[c]", "[n]", "..", "-", "–", ""}
CODE = re.compile(r"^E(92|12|0[6-9])\d{6}$")
ENGINES = {".xlsx": "openpyxl", ".xlsm": "openpyxl", ".ods": "odf"}


def clean_header(text: object) -> str:
    """Lower case, without `[note N]`, footnote digits glued to words, or extra spaces."""
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return ""
    value = str(text)
    value = re.sub(r"\[\s*note\s*\d+\s*\]", " ", value, flags=re.IGNORECASE)
    value = re.sub(r"(?<=[A-Za-z)])\d+(?:\s*,\s*\d+)*(?=\s|$|[^\w,])", "", value)
    return re.sub(r"\s+", " ", value).strip().lower()


def to_number(values: pd.Series) -> pd.Series:
    """Numbers from cells that may hold markers ([x], [c], .., -) or commas: markers become missing, never 0."""
    text = values.map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip())
    text = text.where(~text.str.lower().isin(MARKERS), "")
    return pd.to_numeric(text.str.replace(",", "", regex=False).replace("", np.nan), errors="coerce")


def _sheet_name(wanted: str, names: list[str]) -> str | None:
    key = wanted.strip().strip("_").lower()
    for name in names:
        if name.strip().strip("_").lower() == key:
            return name
    return None


@dataclass(frozen=True)
class Sheet:
    path: Path
    sheet: str
    title: str  # text above the table
    headers: list[str]  # cleaned header per column, all header rows joined
    bottom: list[str]  # cleaned text of the last header row alone
    body: pd.DataFrame  # rows below the header, columns by position


def read_sheet(path: Path, wanted: str) -> Sheet:
    engine = ENGINES.get(path.suffix.lower())
    book = pd.ExcelFile(path, engine=engine)
    name = _sheet_name(wanted, book.sheet_names)
    if name is None:
        raise DataError(
            [from_message(msg.SHEET_MISSING, path=path.name, wanted=f"'{wanted}'", found=", ".join(book.sheet_names))],
            source=str(path),
        )
    raw = pd.read_excel(book, sheet_name=name, header=None, dtype=object)
    is_code = raw.map(lambda v: bool(CODE.match(str(v).strip())) if v is not None else False)
    rows_with_codes = is_code.any(axis=1)
    if not rows_with_codes.any():
        raise DataError([from_message(msg.HEADER_MISSING, sheet=name, path=path.name)], source=str(path))
    first = int(np.argmax(rows_with_codes.to_numpy()))
    header_rows: list[int] = []
    for r in range(first - 1, max(first - 5, -1), -1):
        cells = [c for c in raw.iloc[r] if isinstance(c, str) and c.strip()]
        if not cells:
            break
        header_rows.insert(0, r)
        if len(cells) == 1 and raw.shape[1] > 2:  # a lone title line, not a header
            header_rows.pop(0)
            break
    blocks = raw.iloc[header_rows].copy()
    if len(blocks) > 1:  # merged cells in the upper rows hold their text in the first cell only
        with pd.option_context("future.no_silent_downcasting", True):
            blocks.iloc[:-1] = blocks.iloc[:-1].ffill(axis=1)
    headers = [" ".join(p for p in (clean_header(v) for v in blocks[c]) if p) for c in blocks.columns]
    bottom = [clean_header(v) for v in blocks.iloc[-1]] if len(blocks) else headers
    title_rows = raw.iloc[: header_rows[0] if header_rows else first]
    title = " ".join(str(v) for v in title_rows.to_numpy().ravel() if isinstance(v, str))
    return Sheet(
        path=path, sheet=name, title=title, headers=headers, bottom=bottom, body=raw.iloc[first:].reset_index(drop=True)
    )


def find_column(
    sheet: Sheet,
    *,
    measure: str,
    alternatives: list[list[str]],
    exclude: list[str] | tuple[str, ...] = (),
    required: bool = True,
) -> int | None:
    """The position of the first column whose header has all the words of one alternative and none excluded.
    The last header row is searched first, since merged group labels above it can carry other words."""
    for words in alternatives:
        for texts in (sheet.bottom, sheet.headers):
            for position, header in enumerate(texts):
                if header and all(w in header for w in words) and not any(x in header for x in exclude):
                    return position
    if not required:
        return None
    looked = " or ".join("'" + "' and '".join(words) + "'" for words in alternatives)
    found = "; ".join(h for h in sheet.headers if h) or "none"
    raise DataError(
        [
            from_message(
                msg.COLUMNS_MISSING,
                sheet=sheet.sheet,
                path=sheet.path.name,
                measure=measure,
                looked=looked,
                found=found,
            )
        ],
        source=str(sheet.path),
    )
