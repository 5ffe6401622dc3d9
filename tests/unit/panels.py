"""A small quarterly panel for the unit tests: six areas, 16 quarters, a covariate published at once and
one published two quarters late, a category and a numeric static attribute."""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.data.contract import AREA, PERIOD, Covariate, Frequency, Panel, PanelSpec

SPEC = PanelSpec(
    frequency=Frequency.QUARTER,
    targets=("y",),
    covariates=(Covariate("now", publication_lag=0), Covariate("late", publication_lag=2)),
    static=("region", "score"),
    groups=("region",),
    numeric_static=("score",),
    area_code_pattern=r"^A\d$",
)
AREAS = ("A1", "A2", "A3", "A4", "A5", "A6")
PERIODS = pd.period_range("2019Q1", periods=16, freq="Q")


def panel(seed: int = 0) -> Panel:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({AREA: np.repeat(AREAS, len(PERIODS)), PERIOD: pd.PeriodIndex(np.tile(PERIODS, 6), freq="Q")})
    frame["y"] = rng.poisson(20, len(frame)).astype(float)
    frame["now"] = rng.uniform(1, 5, len(frame))
    frame["late"] = rng.uniform(1, 5, len(frame))
    frame["region"] = np.where(frame[AREA].isin(["A1", "A2", "A3"]), "North", "South")
    frame["score"] = frame[AREA].str[1].astype(float) * 3
    return Panel(frame=frame, spec=SPEC, source="test")
