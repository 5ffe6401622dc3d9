"""Intervals calibrated on the latest origins only: a fold's intervals, and the final bands, come
from the residuals of the latest `window` origins known at its origin; older ones change nothing.
Where noise drifts over the years, every earlier origin keeps intervals at their old width and
over-covers; the window follows the drift."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from tests.unit.drifting import drifting, folds
from workbench.backtest import BacktestResult, calibrate_folds, with_candidates
from workbench.config import BacktestConfig
from workbench.intervals import MondrianBand, calibrate_by_horizon, latest_origins, log_residuals
from workbench.metrics import size_band_coverage

LEVEL = 0.8


def test_the_window_keeps_the_latest_origins() -> None:
    assert latest_origins([0, 1, 2, 3, 4], 3) == [2, 3, 4]
    assert latest_origins([0, 1], 3) == [0, 1]
    assert latest_origins([0, 1, 2, 3, 4], None) == [0, 1, 2, 3, 4]


def test_a_fold_is_calibrated_on_the_latest_origins_known_at_it_and_on_no_older_one() -> None:
    base = drifting(7, areas=300)
    calibrated = calibrate_folds(base, folds(7), level=LEVEL, min_folds=2, window=3)
    known = base[base["fold"].isin([3, 4, 5])]
    band = MondrianBand.fit(
        log_residuals(known["actual"].to_numpy(), known["forecast"].to_numpy()), known["size"].to_numpy(), level=LEVEL
    )
    last = calibrated[calibrated["fold"] == 6]
    np.testing.assert_allclose(last["upper"], band.apply(last["forecast"].to_numpy(), last["size"].to_numpy())[1])
    # folds 2 and 3 have two and three earlier origins: every one of them is used
    assert calibrated.dropna(subset=["lower"])["fold"].min() == 2
    older = base.copy()
    older.loc[older["fold"].isin([0, 1, 2]), "actual"] *= 50  # wild residuals before fold 6's window
    again = calibrate_folds(older, folds(7), level=LEVEL, min_folds=2, window=3)
    mine = (calibrated["fold"] == 6).to_numpy()
    pd.testing.assert_frame_equal(calibrated.loc[mine, ["lower", "upper"]], again.loc[mine, ["lower", "upper"]])
    # the same change does move fold 6's intervals when every earlier origin is used (the test can fail)
    every = calibrate_folds(base, folds(7), level=LEVEL, min_folds=2, window=None)
    every_again = calibrate_folds(older, folds(7), level=LEVEL, min_folds=2, window=None)
    assert not np.allclose(every.loc[mine, "upper"], every_again.loc[mine, "upper"])


def replace_window(result: BacktestResult, window: int | None) -> BacktestResult:
    return replace(result, calibration_origins=window)


def test_the_final_bands_come_from_the_backtests_latest_origins() -> None:
    base = drifting(6, areas=300)
    empty = BacktestResult(
        pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), {}, folds(6), LEVEL, calibration_origins=3
    )
    result = with_candidates(empty, base, {})
    latest = base[base["fold"].isin([3, 4, 5])]
    expected = calibrate_by_horizon(
        latest.assign(residual=log_residuals(latest["actual"].to_numpy(), latest["forecast"].to_numpy())), level=LEVEL
    )
    assert result.bands["m"] == expected
    older = base.copy()
    older.loc[older["fold"] < 3, "actual"] *= 50
    assert with_candidates(empty, older, {}).bands["m"] == expected
    assert with_candidates(replace_window(empty, None), older, {}).bands["m"] != expected


def coverage_gap(calibrated: pd.DataFrame) -> dict[str, float]:
    return size_band_coverage(calibrated.dropna(subset=["lower"]), level=LEVEL, bands=5)


def test_where_noise_drifts_the_window_holds_coverage_in_every_size_quintile_and_every_origin_does_not() -> None:
    base = drifting(12, decay=0.97)  # noise shrinks by 3% a year: old residuals are too wide
    every = coverage_gap(calibrate_folds(base, folds(12), level=LEVEL, min_folds=2, window=None))
    window = coverage_gap(calibrate_folds(base, folds(12), level=LEVEL, min_folds=2, window=3))
    assert every["coverage_gap"] > 0.055, every
    assert all(every[f"coverage_q{b}"] > LEVEL for b in range(1, 6)), every  # over-covers: too wide
    assert window["coverage_gap"] < 0.045 and window["coverage_gap"] < every["coverage_gap"] - 0.02, window


def test_without_drift_the_window_costs_little() -> None:
    base = drifting(12, decay=1.0)
    every = coverage_gap(calibrate_folds(base, folds(12), level=LEVEL, min_folds=2, window=None))
    window = coverage_gap(calibrate_folds(base, folds(12), level=LEVEL, min_folds=2, window=3))
    assert every["coverage_gap"] < 0.03 and window["coverage_gap"] < 0.03, (every, window)


def test_an_experiment_may_ask_for_every_origin_but_not_for_none() -> None:
    assert BacktestConfig(interval_calibration_origins=None).interval_calibration_origins is None
    with pytest.raises(ValidationError, match="interval_calibration_origins"):
        BacktestConfig(interval_calibration_origins=0)


def test_the_published_caveat_names_the_origins_the_intervals_were_calibrated_on() -> None:
    from workbench.report.caveats import _calibration_periods

    assert _calibration_periods(BacktestConfig(origins=8)) == "the latest 3 of 8 backtest periods"
    assert _calibration_periods(BacktestConfig(origins=8, interval_calibration_origins=None)) == "8 backtest periods"
    assert _calibration_periods(BacktestConfig(origins=2)) == "2 backtest periods"
