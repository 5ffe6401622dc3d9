"""The peer comparison's coverage by size quintile: quintiles of each row's size as known at its
origin (as the backtest summary and the interval calibration have them), on the calibrated folds
only, and never of the actual being forecast."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from tests.unit.drifting import drifting, folds
from workbench import calibration_study
from workbench.backtest import BacktestResult, calibrate_folds, with_candidates
from workbench.compare import TASKS, TaskBacktest, score
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


def test_the_calibration_study_recalibrates_the_same_forecasts_with_each_window(monkeypatch, tmp_path) -> None:
    """Each window's gap is the gap of the same backtest rows calibrated on that window; where noise
    drifts the latest three origins come closer to nominal than every origin, and the table has a
    cell for each window."""
    predictions = pd.concat(
        [drifting(12, areas=3000, decay=0.97), drifting(12, areas=3000, decay=0.97, seed=1, candidate="other")]
    )
    done = TaskBacktest(
        panel=None,  # type: ignore[arg-type]
        folds=list(folds(12)),
        result=with_candidates(BacktestResult(*[pd.DataFrame()] * 4, {}, folds(12), 0.8), predictions, {}),
        selection=SimpleNamespace(winner="m"),  # type: ignore[arg-type]
        seconds={},
        total_seconds=0.0,
    )
    monkeypatch.setattr(calibration_study, "backtest_task", lambda *args: done)
    row = calibration_study.study(TASKS[0], 12, tmp_path)
    mine = predictions[predictions["candidate"] == "m"]
    for window in calibration_study.WINDOWS:
        expected = calibration_study.worst_gap(calibrate_folds(mine, folds(12), level=0.8, min_folds=2, window=window))
        assert row["selected"][window] == expected  # type: ignore[index]
    assert row["selected"][3] < row["selected"][None] - 0.01  # type: ignore[index]
    assert row["rows_per_quintile"] == 10 * 3000 // 5
    table = calibration_study.markdown([row]).splitlines()
    assert len(table[-1].split("|")) == len(table[-3].split("|")) == 4 + 2 * len(calibration_study.WINDOWS) + 2
