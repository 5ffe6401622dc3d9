"""Intervals for counts: residuals tie (a forecast of 0 and an actual of 0 give the same residual in
every quiet area), and split conformal's order statistics then over-cover by the weight of the ties
at both ends. The band holds the fewest calibration residuals it must, so each size band stays near
nominal on held-out counts; without ties it is split conformal's interval; an actual on a bound is
inside after the round trip through exp; and a fold's intervals never depend on its own actuals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.backtest import Fold, calibrate_folds
from workbench.intervals import ConformalBand, log_residuals
from workbench.metrics import size_band_coverage

LEVEL = 0.8
TOLERANCE = 0.05  # the promise: within 5 points of nominal in every quintile of size


def test_a_point_mass_of_tied_residuals_is_not_counted_twice() -> None:
    # forecasts of 0 in quiet areas: 84 actuals of 0, 16 of 1
    actual, forecast = np.r_[np.zeros(84), np.ones(16)], np.zeros(100)
    band = ConformalBand.fit(log_residuals(actual, forecast), level=LEVEL)
    # split conformal's 10th and 91st of 100 residuals are 0 and log 2: the interval 0 to 1 holds
    # every actual; 0 to 0 holds 84%, the least at or above the 82 residuals it must hold
    lower, upper = band.apply(np.zeros(1))
    assert lower[0] == 0.0 and 0.0 <= upper[0] < 1.0
    inside = (actual >= lower[0]) & (actual <= upper[0])
    assert inside.mean() == pytest.approx(0.84)


@pytest.mark.parametrize(("n", "first", "last"), [(99, 10, 90), (200, 20, 181), (737, 73, 665)])
def test_without_ties_the_bounds_are_split_conformal_order_statistics(n: int, first: int, last: int) -> None:
    residuals = np.random.default_rng(n).normal(0, 1, n)
    ordered = np.sort(residuals)
    band = ConformalBand.fit(residuals, level=LEVEL)
    # the floor((n + 1) alpha / 2)-th and ceil((n + 1)(1 - alpha / 2))-th, 1-based
    assert band.lower_q == pytest.approx(ordered[first - 1], abs=1e-8)
    assert band.upper_q == pytest.approx(ordered[last - 1], abs=1e-8)
    assert band.n == n


def test_an_actual_on_a_bound_is_inside_after_the_round_trip_through_exp() -> None:
    # log1p(1/3) + (log1p(3) - log1p(1/3)) comes back from expm1 as 2.999999999999999
    forecast, actual = np.full(30, 1 / 3), np.full(30, 3.0)
    band = ConformalBand.fit(log_residuals(actual, forecast), level=LEVEL)
    lower, upper = band.apply(forecast[:1])
    assert lower[0] <= 3.0 <= upper[0]
    assert upper[0] == pytest.approx(3.0, rel=1e-6) and lower[0] == pytest.approx(3.0, rel=1e-6)


FOLDS = tuple(Fold(k, pd.Period("2001", "Y") + k) for k in range(6))


def poisson_folds(areas: int = 4000, seed: int = 11) -> pd.DataFrame:
    """Backtest rows of a recent-mean forecaster on Poisson counts with means from 0.5 to 30 (about
    13% zeros): the forecast is the mean of the last three counts (thirds, so residuals tie), the size
    the mean of the last four."""
    rng = np.random.default_rng(seed)
    mean = np.exp(rng.uniform(np.log(0.5), np.log(30), areas))
    counts = rng.poisson(mean[:, None], size=(areas, len(FOLDS) + 4)).astype(float)
    rows = []
    for fold in FOLDS:
        k = fold.index + 4
        rows.append(
            pd.DataFrame(
                {"fold": fold.index, "origin": fold.origin, "area_code": np.arange(areas), "horizon": 1}
                | {"actual": counts[:, k], "forecast": counts[:, k - 3 : k].mean(axis=1)}
                | {"scale": 1.0, "size": counts[:, k - 4 : k].mean(axis=1)}
            )
        )
    return pd.concat(rows, ignore_index=True)


def test_counts_with_zeros_are_covered_near_nominal_in_every_size_quintile_on_held_out_folds() -> None:
    rows = poisson_folds()
    calibrated = calibrate_folds(rows, FOLDS, level=LEVEL, min_folds=2)
    held_out = calibrated.dropna(subset=["lower"])
    assert set(held_out["fold"]) == {2, 3, 4, 5} and (rows["actual"] == 0).mean() > 0.1
    coverage = size_band_coverage(held_out, level=LEVEL, bands=5)
    assert coverage["coverage_gap"] <= TOLERANCE, coverage
    # the intervals are deterministic and the held-out fold's own actuals play no part in them
    changed = rows.assign(actual=np.where(rows["fold"] == 5, rows["actual"] * 7 + 3, rows["actual"]))
    again = calibrate_folds(changed, FOLDS, level=LEVEL, min_folds=2)
    last = (calibrated["fold"] == 5).to_numpy()
    pd.testing.assert_frame_equal(calibrated.loc[last, ["lower", "upper"]], again.loc[last, ["lower", "upper"]])


def test_the_interval_never_leaves_out_the_forecast_where_split_conformal_holds_it() -> None:
    # 15 actuals equal to the forecast and 85 above it: an interval of positive residuals alone
    # would hold the 82 it must with misses better balanced, but would leave the forecast out
    residuals = np.r_[np.zeros(15), np.linspace(0.1, 2.0, 85)]
    band = ConformalBand.fit(residuals, level=LEVEL)
    assert band.lower_q <= 0.0 <= band.upper_q
    assert np.mean((residuals >= band.lower_q) & (residuals <= band.upper_q)) >= 0.82
    # ...and where split conformal's interval is above the forecast (every residual positive), so is this one
    shifted = ConformalBand.fit(residuals + 1.0, level=LEVEL)
    assert shifted.lower_q == pytest.approx(np.sort(residuals + 1.0)[9], abs=1e-8)
