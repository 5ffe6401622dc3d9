"""Reading a panel file (CSV or parquet) into a raw frame, with clear errors for files that
cannot be read. Row labels are kept in the index as the user would find them: line numbers for
CSV (the header is line 1) and 1-based row positions for parquet."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from workbench.data import messages as msg
from workbench.data.findings import from_message
from workbench.errors import DataError

READERS = {".csv": "CSV", ".parquet": "parquet", ".pq": "parquet"}


def _fail(entry: tuple[str, str], *, source: str, **values: object) -> DataError:
    return DataError([from_message(entry, **values)], source=source)


def read_table(path: Path, *, na_values: list[str] | None = None) -> pd.DataFrame:
    """The file's rows as read, every CSV cell as text so codes keep their leading zeros."""
    source = str(path)
    if not path.exists():
        raise _fail(msg.FILE_NOT_FOUND, source=source, path=path)
    kind = READERS.get(path.suffix.lower())
    if kind is None:
        raise _fail(msg.WRONG_FILE_TYPE, source=source, path=path, suffix=path.suffix or "(none)")
    try:
        if kind == "CSV":
            frame = pd.read_csv(
                path, dtype=str, na_values=na_values or None, keep_default_na=True, skipinitialspace=True
            )
            frame.index = frame.index + 2
        else:
            frame = pd.read_parquet(path)
            frame.index = pd.RangeIndex(1, len(frame) + 1)
            if na_values:
                frame = frame.replace(na_values, pd.NA)
    except pd.errors.EmptyDataError:
        raise _fail(msg.EMPTY_FILE, source=source, path=path) from None
    except (UnicodeDecodeError, pd.errors.ParserError, OSError, ValueError) as error:
        reason = str(error).splitlines()[0][:200]
        raise _fail(msg.UNREADABLE_FILE, source=source, path=path, kind=kind, reason=reason) from None
    if frame.empty:
        raise _fail(msg.EMPTY_FILE, source=source, path=path)
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame
