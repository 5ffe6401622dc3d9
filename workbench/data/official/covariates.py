"""Covariates from their official files, each with the date it would have been published.

- English Indices of Deprivation 2019, local authority summaries (published 26 September 2019, on
  2019 boundaries; header cells carry trailing spaces): average score, rebuilt for authorities
  created after 2019 as the household-weighted mean of their predecessors, and a quintile
  (1 = most deprived) used to group areas in audits.
- Claimant count (monthly; each month published about three weeks after it ends): averaged to
  quarters, so a quarter is published in the following quarter (publication lag 1).
- Landlord possession claims (quarterly counts; published about ten weeks after the quarter):
  summed onto current boundaries and expressed per 100,000 households (publication lag 1).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from workbench.data.contract import AREA, PERIOD, Frequency
from workbench.data.official.boundaries import current_codes, load_mapping
from workbench.data.periods import parse_periods

IOD_PUBLISHED = pd.Period("2019Q3", freq="Q")


def _read(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype=str) if path.suffix.lower() == ".csv" else pd.read_excel(path, dtype=str)
    frame.columns = [str(c).strip() for c in frame.columns]  # official headers carry trailing spaces
    return frame


def _column(frame: pd.DataFrame, path: Path, *words: str) -> str:
    for column in frame.columns:
        if all(w in column.lower() for w in words):
            return str(column)
    from workbench.data import messages as msg
    from workbench.data.findings import from_message
    from workbench.errors import DataError

    raise DataError(
        [
            from_message(
                msg.COLUMNS_MISSING,
                sheet="(first)",
                path=path.name,
                measure=" ".join(words),
                looked="'" + "' and '".join(words) + "'",
                found="; ".join(frame.columns),
            )
        ],
        source=str(path),
    )


def _current(codes: pd.Series) -> pd.Series:
    final = current_codes(load_mapping())
    return codes.map(lambda c: final.get(c, (c, ""))[0])


def deprivation(path: Path, *, households: pd.Series) -> pd.DataFrame:
    """Per current area: imd_average_score and deprivation_quintile (1 = most deprived)."""
    raw = _read(path)
    code = _column(raw, path, "code")
    score = _column(raw, path, "average score")
    frame = pd.DataFrame({AREA: raw[code].str.strip(), "score": pd.to_numeric(raw[score], errors="coerce")})
    frame["current"] = _current(frame[AREA])
    frame["weight"] = frame[AREA].map(households).fillna(frame["current"].map(households)).fillna(1.0)
    rebuilt = frame.groupby("current").apply(
        lambda g: np.average(g["score"], weights=g["weight"]), include_groups=False
    )
    out = rebuilt.rename("imd_average_score").rename_axis(AREA).reset_index()
    rank = out["imd_average_score"].rank(ascending=False, method="first")
    out["deprivation_quintile"] = np.ceil(rank * 5 / len(out)).astype(int)
    return out


def claimant_count(path: Path) -> pd.DataFrame:
    """Quarterly mean claimant rate per current area (period = the quarter the months belong to)."""
    raw = _read(path)
    code, date, value = _column(raw, path, "code"), _column(raw, path, "date"), _column(raw, path, "value")
    months = parse_periods(raw[date], frequency=Frequency.MONTH).periods
    frame = pd.DataFrame(
        {
            AREA: _current(raw[code].str.strip()),
            PERIOD: months.dt.asfreq("Q"),
            "claimant_rate": pd.to_numeric(raw[value].str.replace(",", ""), errors="coerce"),
        }
    )
    return frame.groupby([AREA, PERIOD], as_index=False)["claimant_rate"].mean()


def possession_claims(path: Path, *, households: pd.DataFrame) -> pd.DataFrame:
    """Landlord possession claims per 100,000 households, per current area and quarter."""
    raw = _read(path)
    code, quarter, claims = (_column(raw, path, "code"), _column(raw, path, "quarter"), _column(raw, path, "claims"))
    frame = pd.DataFrame(
        {
            AREA: _current(raw[code].str.strip()),
            PERIOD: parse_periods(raw[quarter], frequency=Frequency.QUARTER).periods,
            "claims": pd.to_numeric(raw[claims].str.replace(",", ""), errors="coerce"),
        }
    )
    summed = frame.groupby([AREA, PERIOD], as_index=False)["claims"].sum(min_count=1)
    summed = summed.merge(households, on=[AREA, PERIOD], how="left")
    summed["possession_claims_rate"] = summed["claims"] / summed["households"] * 1e5
    return summed[[AREA, PERIOD, "possession_claims_rate"]]
