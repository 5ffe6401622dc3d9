"""Intervals calibrated on the latest origins only: a fold's intervals, and the final bands, come
from the residuals of the latest `window` origins known at its origin; older ones change nothing.
Where noise drifts over the years, every earlier origin keeps intervals at their old width and
over-covers; the window follows the drift."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

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
    assert calibrated.dropna(subset=["lower"])["fold"].min() == 2  # the first with two earlier origins
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
    # and the folds' own intervals are calibrated with the result's window
    for window in (3, None):
        rows = with_candidates(replace_window(empty, window), base, {}).predictions
        alone = calibrate_folds(base, folds(6), level=LEVEL, min_folds=2, window=window)
        np.testing.assert_allclose(rows["upper"].to_numpy(), alone["upper"].to_numpy())


def coverage_gap(calibrated: pd.DataFrame) -> dict[str, float]:
    return size_band_coverage(calibrated.dropna(subset=["lower"]), level=LEVEL, bands=5)


def test_where_noise_drifts_the_window_holds_coverage_in_every_size_quintile_and_every_origin_does_not() -> None:
    # noise shrinks by 3% a year: old residuals are too wide. Over seeds 0-19 every origin's worst gap
    # is 4.4 to 6.0 points (every quintile over nominal), the window's 2.2 to 3.3, at least 2.1 apart
    base = drifting(12, areas=3000, decay=0.97)
    every = coverage_gap(calibrate_folds(base, folds(12), level=LEVEL, min_folds=2, window=None))
    window = coverage_gap(calibrate_folds(base, folds(12), level=LEVEL, min_folds=2, window=3))
    assert every["coverage_gap"] > 0.035, every
    assert all(every[f"coverage_q{b}"] > LEVEL for b in range(1, 6)), every  # over-covers: too wide
    assert window["coverage_gap"] < 0.045 and window["coverage_gap"] < every["coverage_gap"] - 0.01, window


def test_without_drift_the_window_costs_little() -> None:
    # a check on the window's cost, not on the window: over seeds 0-19 both stay within 1.7 points
    base = drifting(12, areas=3000, decay=1.0)
    every = coverage_gap(calibrate_folds(base, folds(12), level=LEVEL, min_folds=2, window=None))
    window = coverage_gap(calibrate_folds(base, folds(12), level=LEVEL, min_folds=2, window=3))
    assert every["coverage_gap"] < 0.03 and window["coverage_gap"] < 0.03, (every, window)


def test_an_experiment_may_ask_for_every_origin_but_not_for_none() -> None:
    assert BacktestConfig(interval_calibration_origins=None).interval_calibration_origins is None
    with pytest.raises(ValidationError, match="interval_calibration_origins"):
        BacktestConfig(interval_calibration_origins=0)


def test_the_published_caveat_names_the_origins_the_intervals_were_calibrated_on() -> None:
    from workbench.report.caveats import _calibration_periods

    eight = BacktestConfig(origins=8)
    assert _calibration_periods(eight, totals=False) == "the latest 3 of 8 backtest forecast origins"
    assert _calibration_periods(eight, totals=True) == "the latest 3 of 8 backtest forecast origins (totals on all 8)"
    every = BacktestConfig(origins=8, interval_calibration_origins=None)
    assert _calibration_periods(every, totals=True) == "8 backtest forecast origins"
    assert _calibration_periods(BacktestConfig(origins=2), totals=False) == "2 backtest forecast origins"


def test_the_window_may_not_be_shorter_than_the_origins_a_fold_waits_for() -> None:
    with pytest.raises(
        ValidationError, match=re.escape("interval_calibration_origins (2) is below min_calibration_folds (3)")
    ):
        BacktestConfig(min_calibration_folds=3, interval_calibration_origins=2)
    assert BacktestConfig(min_calibration_folds=3, interval_calibration_origins=None).min_calibration_folds == 3
    # left unset, the window holds the minimum (an experiment logged before the window still parses)
    assert BacktestConfig(min_calibration_folds=5).interval_calibration_origins == 5
    assert BacktestConfig(min_calibration_folds=2).interval_calibration_origins == 3


def test_a_train_calibrates_with_the_experiments_window(monkeypatch) -> None:
    """`workbench train` hands the experiment's window to the backtest (stopped there)."""
    from rich.console import Console

    from workbench import train as spine
    from workbench.config import parse_experiment
    from workbench.engine import Engine, EngineSettings

    experiment = parse_experiment(
        "name: window_test\ntarget: owed_duty\ndata: {synthetic: {start: 2018Q2, end: 2022Q4}}\n"
        "models: [{model: naive}, {model: poisson_glm}]\nbacktest: {origins: 5, interval_calibration_origins: 4}\n",
        source=Path("window.yaml"),
    )
    asked: dict[str, object] = {}

    class Stop(Exception):
        pass

    def backtest(*args: object, **kwargs: object) -> None:
        asked.update(kwargs)
        raise Stop

    monkeypatch.setattr(spine, "run_backtest", backtest)
    monkeypatch.setattr(spine.tracking, "check_contract", lambda *a, **k: None)
    with pytest.raises(Stop):
        spine.train(experiment, console=Console(quiet=True), engine=Engine(EngineSettings(jobs=1)))
    assert asked["calibration_origins"] == 4
