"""Interval coverage by area size on a simulated panel whose log-scale noise shrinks with size
(Poisson counts from 20 to 5,000 a quarter): one pooled band per horizon under-covers the small
areas and over-covers the big ones; bands by size x horizon hold every quintile near nominal."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features import BUILDERS
from models import MODELS
from workbench.backtest import rolling_origins, run_backtest
from workbench.data.contract import AREA, PERIOD, Frequency, Panel, PanelSpec
from workbench.featurize import build_feature_table

LEVEL = 0.8
TOLERANCE = 0.05  # the promise: within 5 points of nominal in every quintile of size
PERIODS = pd.period_range("2019Q1", periods=20, freq="Q")


def heteroscedastic_panel(areas: int = 400, seed: int = 7) -> Panel:
    rng = np.random.default_rng(seed)
    level = np.exp(rng.uniform(np.log(20), np.log(5000), areas))
    codes = [f"X{i:04d}" for i in range(areas)]
    frame = pd.DataFrame(
        {AREA: np.repeat(codes, len(PERIODS)), PERIOD: pd.PeriodIndex(np.tile(PERIODS, areas), freq="Q")}
    )
    frame["y"] = rng.poisson(np.repeat(level, len(PERIODS))).astype(float)
    return Panel(frame=frame, spec=PanelSpec(frequency=Frequency.QUARTER, targets=("y",)), source="simulated")


@pytest.fixture(scope="module")
def summaries() -> dict[int, pd.Series]:
    table = build_feature_table(
        heteroscedastic_panel(), target="y", builders=[BUILDERS["lag"](lags=[1])], horizons=[1, 2]
    )
    folds = rolling_origins(
        first_period=PERIODS[0], last_period=PERIODS[-1], origins=8, step=1, max_horizon=2, min_train_periods=8
    )
    return {
        bands: run_backtest(
            table,
            [MODELS["recent_mean"](window=4)],
            folds,
            level=LEVEL,
            min_calibration_folds=2,
            seed=1,
            size_bands=bands,
        ).summary.iloc[0]
        for bands in (1, 5)
    }


def test_one_pooled_band_misses_nominal_coverage_in_the_smallest_and_largest_areas(summaries) -> None:
    pooled = summaries[1]
    assert pooled["coverage_q1"] < LEVEL - 2 * TOLERANCE, pooled.to_dict()
    assert pooled["coverage_q5"] > LEVEL + 2 * TOLERANCE, pooled.to_dict()


def test_bands_by_size_hold_every_quintile_within_five_points_of_nominal(summaries) -> None:
    mondrian = summaries[5]
    quintiles = {q: mondrian[f"coverage_q{q}"] for q in range(1, 6)}
    assert all(abs(c - LEVEL) <= TOLERANCE for c in quintiles.values()), quintiles
    assert mondrian["coverage_gap"] < summaries[1]["coverage_gap"]
    assert mondrian["wis"] < summaries[1]["wis"]  # narrower where the noise is small, wider where it is large
