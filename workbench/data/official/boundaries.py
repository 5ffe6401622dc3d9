"""Local government reorganisations: putting a long series on current boundaries.

The mapping is data (`boundary_changes.csv`: predecessor, successor, year); chains such as Taunton
Deane -> Somerset West and Taunton (2019) -> Somerset (2023) are followed to the end. Counts of
predecessors are summed into their successor for each period; rates must be recomputed afterwards
from the summed counts and households, never averaged.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import pandas as pd

from workbench.data.contract import AREA, AREA_NAME, PERIOD

MAPPING = files("workbench.data.official") / "boundary_changes.csv"


def load_mapping(path: Path | None = None) -> pd.DataFrame:
    return pd.read_csv(path or MAPPING, dtype=str)


def current_codes(mapping: pd.DataFrame) -> dict[str, tuple[str, str]]:
    """predecessor code -> (final successor code, its name), following chains."""
    step = dict(
        zip(
            mapping["predecessor_code"],
            zip(mapping["successor_code"], mapping["successor_name"], strict=True),
            strict=True,
        )
    )
    final = {}
    for code in step:
        target, name, seen = step[code][0], step[code][1], {code}
        while target in step and target not in seen:
            seen.add(target)
            target, name = step[target]
        final[code] = (target, name)
    return final


@dataclass(frozen=True)
class Merge:
    successor: str
    successor_name: str
    predecessors: tuple[str, ...]
    periods: tuple[str, ...]

    def describe(self) -> str:
        span = f"{self.periods[0]} to {self.periods[-1]}" if len(self.periods) > 1 else self.periods[0]
        return f"{self.successor} {self.successor_name}: summed {', '.join(self.predecessors)} ({span})"


def to_current_boundaries(
    frame: pd.DataFrame,
    *,
    counts: list[str],
    mapping: pd.DataFrame | None = None,
    keep: tuple[str, ...] | list[str] = (),
) -> tuple[pd.DataFrame, list[Merge]]:
    """Rows of predecessor areas folded into their current successor; counts summed per period.
    Columns in `keep` take the successor's own value where it has one, else the first predecessor's."""
    final = current_codes(load_mapping() if mapping is None else mapping)
    moved = frame[AREA].isin(final)
    mapped = frame.copy()
    mapped.loc[moved, AREA_NAME] = mapped.loc[moved, AREA].map(lambda c: final[c][1])
    mapped.loc[moved, AREA] = mapped.loc[moved, AREA].map(lambda c: final[c][0])
    merges = []
    for successor, rows in frame[moved].groupby(mapped.loc[moved, AREA]):
        merges.append(
            Merge(
                successor,
                final[rows[AREA].iloc[0]][1],
                tuple(sorted(rows[AREA].unique())),
                tuple(sorted(str(p) for p in rows[PERIOD].unique())),
            )
        )
    agg: dict[str, object] = {c: (lambda s: s.sum(min_count=1)) for c in counts}
    agg |= {c: "first" for c in [AREA_NAME, *keep] if c in mapped}
    combined = mapped.groupby([AREA, PERIOD], sort=True).agg(agg).reset_index()
    return combined, merges
