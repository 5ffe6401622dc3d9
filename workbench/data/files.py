"""Reading a panel file (CSV or parquet) into a raw frame, with clear errors for files that
cannot be read. Row labels are kept in the index as the user would find them: line numbers for
CSV (the header is line 1) and 1-based row positions for parquet.

Before anything is parsed, the file must be a regular file (not a pipe, a device or a link to
one, which would hang or never end) no larger than the limit, and a CSV's header line must be
comma-separated with distinct column names.
"""

from __future__ import annotations

import csv
import os
import stat
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd

from workbench.data import messages as msg
from workbench.data.findings import from_message
from workbench.errors import DataError

READERS = {".csv": "CSV", ".parquet": "parquet", ".pq": "parquet"}
DEFAULT_MAX_MB = 1024.0
OTHER_SEPARATORS = {";": "semicolon", "\t": "tab", "|": "pipe"}
HEADER_BYTES = 1 << 20  # a header line longer than this is not a panel's


def _fail(entry: tuple[str, str], *, source: str, **values: Any) -> DataError:
    return DataError([from_message(entry, **values)], source=source)


def _kind(mode: int) -> str:
    kinds = {
        stat.S_ISDIR: "a folder",
        stat.S_ISFIFO: "a named pipe (FIFO)",
        stat.S_ISCHR: "a character device",
        stat.S_ISBLK: "a block device",
        stat.S_ISSOCK: "a socket",
    }
    return next((name for test, name in kinds.items() if test(mode)), "not a regular file")


def check_regular_file(path: Path, *, max_mb: float = DEFAULT_MAX_MB) -> float:
    """The file's size in MB; raises DataError unless `path` is a regular file within the limit.

    Links are followed, so a link to a regular file is fine and a link to /dev/zero is not."""
    source = str(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise _fail(msg.FILE_NOT_FOUND, source=source, path=path) from None
    except OSError as error:
        reason = error.strerror or str(error)
        raise _fail(msg.UNREADABLE_FILE, source=source, path=path, kind="a file", reason=reason) from None
    if not stat.S_ISREG(info.st_mode):
        raise _fail(msg.NOT_A_REGULAR_FILE, source=source, path=path, kind=_kind(info.st_mode))
    size_mb = info.st_size / 2**20
    if size_mb > max_mb:
        raise _fail(msg.FILE_TOO_LARGE, source=source, path=path, size_mb=size_mb, limit_mb=max_mb)
    return size_mb


def _header_line(path: Path) -> str:
    with path.open("rb") as handle:
        head = handle.readline(HEADER_BYTES)
    return head.decode("utf-8-sig", errors="replace").rstrip("\r\n")


def check_csv_header(path: Path) -> None:
    """Refuse a CSV whose header is separated by something other than commas, or repeats a name."""
    source = str(path)
    header = _header_line(path)
    commas = header.count(",")
    for separator, name in OTHER_SEPARATORS.items():
        if header.count(separator) > commas:
            shown = header.replace("\t", "\\t")  # a tab shown as a tab would look like spaces
            shown = shown if len(shown) <= 120 else shown[:117] + "..."
            raise _fail(msg.NOT_COMMA_SEPARATED, source=source, path=path, name=name, header=shown)
    names = [n.strip() for n in next(csv.reader([header]), [])]
    repeated = [name for name, count in Counter(names).items() if count > 1 and name]
    if repeated:
        raise _fail(msg.DUPLICATE_COLUMNS, source=source, path=path, names=_names(repeated))


def _names(names: list[str]) -> str:
    quoted = [f"'{n}'" for n in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def read_table(path: Path, *, na_values: list[str] | None = None, max_mb: float = DEFAULT_MAX_MB) -> pd.DataFrame:
    """The file's rows as read, every CSV cell as text so codes keep their leading zeros."""
    source = str(path)
    if not path.exists() and not path.is_symlink():
        raise _fail(msg.FILE_NOT_FOUND, source=source, path=path)
    kind = READERS.get(path.suffix.lower())
    if kind is None:
        raise _fail(msg.WRONG_FILE_TYPE, source=source, path=path, suffix=path.suffix or "(none)")
    size_mb = check_regular_file(path, max_mb=max_mb)
    try:
        if kind == "CSV":
            check_csv_header(path)
            frame = pd.read_csv(
                path, dtype=str, na_values=na_values or None, keep_default_na=True, skipinitialspace=True
            )
            frame.index = frame.index + 2
        else:
            frame = pd.read_parquet(path)
            frame.index = pd.RangeIndex(1, len(frame) + 1)
            if na_values:
                frame = frame.replace(na_values, pd.NA)
    except MemoryError:
        raise _fail(msg.OUT_OF_MEMORY, source=source, path=path, size_mb=size_mb) from None
    except pd.errors.EmptyDataError:
        raise _fail(msg.EMPTY_FILE, source=source, path=path) from None
    except (UnicodeDecodeError, pd.errors.ParserError, OSError, ValueError) as error:
        reason = str(error).splitlines()[0][:200]
        raise _fail(msg.UNREADABLE_FILE, source=source, path=path, kind=kind, reason=reason) from None
    if frame.empty:
        raise _fail(msg.EMPTY_FILE, source=source, path=path)
    frame.columns = [str(c).strip() for c in frame.columns]
    repeated = list(dict.fromkeys(c for c in frame.columns if list(frame.columns).count(c) > 1))
    if repeated:
        raise _fail(msg.DUPLICATE_COLUMNS, source=source, path=path, names=_names(repeated))
    return frame
