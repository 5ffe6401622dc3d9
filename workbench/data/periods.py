"""Turning the many ways people write periods into pandas Periods.

Accepted: years (`2021`), quarters (`2021Q3`, `2021-Q3`, `2021 Q3`, `Q3 2021`, `Jul-Sep 2021`,
`July to September 2021`), months (`2021-07`, `2021M07`, `Jul 2021`, `July 2021`), and ISO dates
(`2021-07-01`), which fall into the period that contains them. A column whose values imply
different frequencies is refused rather than guessed at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from workbench.data.contract import Frequency

_MONTHS = {
    m: i
    for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)
}
_MONTH = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*"

_PATTERNS: list[tuple[re.Pattern[str], Frequency | None]] = [
    (re.compile(r"^(?P<y>\d{4})$"), Frequency.YEAR),
    (re.compile(r"^(?P<y>\d{4})\s*[-/ ]?\s*q(?P<q>[1-4])$"), Frequency.QUARTER),
    (re.compile(r"^q(?P<q>[1-4])\s*[-/ ]?\s*(?P<y>\d{4})$"), Frequency.QUARTER),
    (re.compile(rf"^(?P<m1>{_MONTH})\s*(?:-|to|–)\s*(?P<m2>{_MONTH})\s+(?P<y>\d{{4}})$"), Frequency.QUARTER),
    (re.compile(r"^(?P<y>\d{4})\s*[-/m]\s*(?P<m>\d{1,2})$"), Frequency.MONTH),
    (re.compile(rf"^(?P<mn>{_MONTH})[\s-]+(?P<y>\d{{4}})$"), Frequency.MONTH),
    (re.compile(r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?:[ t].*)?$"), None),  # a date
]


@dataclass(frozen=True)
class ParsedPeriods:
    periods: pd.Series  # Period values (NaT where unparseable)
    frequency: Frequency | None  # None when nothing parsed
    unparseable: pd.Series  # boolean mask
    mixed: dict[Frequency, str]  # frequency -> an example value, when more than one was seen


def _parse_one(text: str) -> tuple[Frequency | None, pd.Period | None, str | None]:
    """Return (natural frequency or None for a date, the finest period it names, 'date' marker)."""
    lowered = text.strip().lower()
    for pattern, freq in _PATTERNS:
        match = pattern.match(lowered)
        if not match:
            continue
        parts = match.groupdict()
        year = int(parts["y"])
        if freq is Frequency.YEAR:
            return freq, pd.Period(year=year, freq=freq.value), None
        if freq is Frequency.QUARTER:
            if parts.get("q"):
                return freq, pd.Period(year=year, quarter=int(parts["q"]), freq=freq.value), None
            first, last = _MONTHS[parts["m1"][:3]], _MONTHS[parts["m2"][:3]]
            if (last - first) % 12 != 2 or first % 3 != 1:
                return None, None, None
            return freq, pd.Period(year=year, month=first, freq="M").asfreq(freq.value), None
        month = int(parts["m"]) if parts.get("m") else _MONTHS.get((parts.get("mn") or "")[:3])
        if month is None or not 1 <= month <= 12:
            return None, None, None
        if freq is Frequency.MONTH:
            return freq, pd.Period(year=year, month=month, freq="M"), None
        try:
            day = pd.Timestamp(year=year, month=month, day=int(parts["d"]))
        except ValueError:
            return None, None, None
        return None, day.to_period("M"), "date"
    return None, None, None


def parse_periods(values: pd.Series, *, frequency: Frequency | None = None) -> ParsedPeriods:
    """Parse a column of period labels. Dates take the declared (or otherwise inferred) frequency."""
    text = values.astype("string").str.strip()
    uniques = text.dropna().unique()
    parsed: dict[str, tuple[Frequency | None, pd.Period | None, str | None]] = {
        value: _parse_one(value) for value in uniques
    }
    seen: dict[Frequency, str] = {}
    for value, (freq, _, _) in parsed.items():
        if freq is not None:
            seen.setdefault(freq, value)
    natural = next(iter(seen)) if len(seen) == 1 else None
    target = frequency or natural or Frequency.MONTH
    mixed = seen if len(seen) > 1 or (natural and frequency and natural != frequency) else {}

    def convert(value: str | None) -> pd.Period | None:
        if value is None or pd.isna(value):
            return None
        freq, period, _ = parsed[value]
        if period is None:
            return None
        if freq is not None and freq != target:
            return None
        return period.asfreq(target.value) if period.freqstr != target.value else period

    periods = pd.Series([convert(v) for v in text.tolist()], index=values.index, dtype=target.dtype)
    unparseable = text.notna() & periods.isna() & ~text.map(lambda v: parsed.get(v, (None,))[0] is not None)
    return ParsedPeriods(
        periods=periods,
        frequency=target if len(parsed) else None,
        unparseable=unparseable.fillna(False).astype(bool),
        mixed=dict(mixed),
    )
