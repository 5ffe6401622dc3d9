"""The peer comparison's coverage by size quintile: quintiles of each row's size as known at its
origin (as the backtest summary and the interval calibration have them), on the calibrated folds
only, and never of the actual being forecast."""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.compare import score
from workbench.metrics import size_band_coverage


def rows() -> pd.DataFrame:
    size = np.tile(np.arange(1.0, 51.0), 3)  # 50 areas, 3 folds
    fold = np.repeat([0, 1, 2], 50)
    inside = size <= 20  # the two smallest quintiles covered, the others missed
    return pd.DataFrame(
        {
            "area_code": np.tile(np.arange(50), 3),
            "fold": fold,
            "horizon": 1,
            "actual": np.where(inside, size, 1000.0 - size),  # the missed actuals are the largest
            "forecast": size,
            "scale": 1.0,
            "size": size,
            "lower": size - 1,
            "upper": size + 1,
        }
    )


def test_coverage_by_quintile_of_size_at_the_origin_on_the_calibrated_folds() -> None:
    values = score(rows(), calibrated_folds={1, 2})
    np.testing.assert_allclose(values["by_band"], [1.0, 1.0, 0.0, 0.0, 0.0])
    assert values["coverage"] == 0.4
    # the same figures as the backtest summary's coverage_q1..q5 on those rows
    summary = size_band_coverage(rows()[lambda r: r["fold"] > 0], level=0.8, bands=5)
    np.testing.assert_allclose(values["by_band"], [summary[f"coverage_q{b}"] for b in range(1, 6)])


def test_the_actual_being_forecast_does_not_move_a_row_between_quintiles() -> None:
    before = score(rows(), calibrated_folds={1, 2})
    # the smallest areas' actuals become the largest of all, still inside their intervals
    changed = rows().assign(lower=lambda r: np.where(r["size"] <= 20, 0.0, r["lower"]))
    changed["upper"] = np.where(changed["size"] <= 20, 1e6, changed["upper"])
    changed["actual"] = np.where(changed["size"] <= 20, 1e5, changed["actual"])
    after = score(changed, calibrated_folds={1, 2})
    np.testing.assert_allclose(after["by_band"], before["by_band"])
