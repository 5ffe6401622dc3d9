"""Rolling-origin arithmetic, fold contents, refitting, metrics, intervals and the selection rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features import BUILDERS
from models.base import ModelSpec
from tests.unit.panels import PERIODS, panel
from workbench.backtest import rolling_origins, run_backtest, split
from workbench.errors import ConfigError
from workbench.featurize import build_feature_table
from workbench.intervals import ConformalBand
from workbench.metrics import interval_metrics, point_metrics

Q = lambda text: pd.Period(text, freq="Q")  # noqa: E731


def test_origins_end_where_the_longest_horizon_still_has_actuals() -> None:
    folds = rolling_origins(
        first_period=Q("2019Q1"), last_period=Q("2022Q4"), origins=3, step=2, max_horizon=4, min_train_periods=4
    )
    assert [str(f.origin) for f in folds] == ["2020Q4", "2021Q2", "2021Q4"]
    assert [f.index for f in folds] == [0, 1, 2]


def test_a_panel_too_short_for_the_backtest_is_refused_with_the_arithmetic() -> None:
    with pytest.raises(ConfigError) as caught:
        rolling_origins(
            first_period=Q("2019Q1"), last_period=Q("2020Q4"), origins=4, step=1, max_horizon=2, min_train_periods=4
        )
    assert str(caught.value) == (
        "the backtest needs 9 periods (4 to train on before the first origin, 4 origins 1 apart, horizons up to 2) "
        "but the panel has 8 (2019Q1 to 2020Q4); lower backtest.origins, backtest.min_train_periods or the horizon"
    )


def test_training_rows_were_all_observed_at_the_origin_and_test_rows_start_there() -> None:
    table = build_feature_table(panel(), target="y", builders=[BUILDERS["lag"](lags=[1, 2])], horizons=[1, 2, 3])
    folds = rolling_origins(
        first_period=PERIODS[0], last_period=PERIODS[-1], origins=4, step=1, max_horizon=3, min_train_periods=4
    )
    for fold in folds:
        train, test = split(table, fold)
        assert train["target_period"].max() == fold.origin
        assert (train["origin"] + train["horizon"] == train["target_period"]).all()
        assert set(test["origin"]) == {fold.origin}
        assert sorted(test["horizon"].unique()) == [1, 2, 3]
        assert len(test) == 6 * 3


FIT_CALLS: list[pd.Period] = []


class _Counting(ModelSpec):
    model = "counting"
    kind = "tree"
    explainer = "tree"

    def make(self, *, features, seed):
        calls = FIT_CALLS

        class Fitted:
            def fit(self, rows, y):
                calls.append(rows["target_period"].max())
                self.mean = float(np.mean(y))
                return self

            def predict(self, rows):
                return np.full(len(rows), self.mean)

        return Fitted()


def test_every_candidate_is_refitted_at_every_origin_on_data_up_to_it() -> None:
    table = build_feature_table(panel(), target="y", builders=[BUILDERS["lag"](lags=[1])], horizons=[1])
    folds = rolling_origins(
        first_period=PERIODS[0], last_period=PERIODS[-1], origins=5, step=1, max_horizon=1, min_train_periods=4
    )
    FIT_CALLS.clear()
    result = run_backtest(table, [_Counting()], folds, level=0.8, min_calibration_folds=2, seed=0)
    assert sorted(FIT_CALLS) == [f.origin for f in folds]  # once per origin (the largest are handed out first)
    assert set(result.fold_metrics["fold"]) == {0, 1, 2, 3, 4}
    # intervals only where at least two earlier folds' actuals were known at the origin
    calibrated = result.predictions.groupby("fold")["lower"].apply(lambda s: s.notna().all())
    assert calibrated.to_dict() == {0: False, 1: False, 2: True, 3: True, 4: True}
    # each candidate's summary has coverage by size quintile and the weighted interval score
    summary = result.summary.iloc[0]
    quintiles = [summary[f"coverage_q{q}"] for q in range(1, 6)]
    assert summary["coverage_gap"] == pytest.approx(max(abs(c - 0.8) for c in quintiles))
    assert np.isfinite(summary["wis"])
    # the size each row is banded by is its area's recent level at the origin, from the feature table
    keys = ["area_code", "origin", "horizon"]
    sizes = result.predictions.merge(table.frame[[*keys, "ref_recent_mean_w4"]], on=keys, how="left")
    np.testing.assert_array_equal(sizes["size"], sizes["ref_recent_mean_w4"])


def test_point_metrics_by_hand() -> None:
    actual = np.array([10.0, 20.0, 30.0])
    forecast = np.array([12.0, 18.0, 33.0])
    scale = np.array([2.0, 4.0, 0.0])  # the last series never changed: left out of MASE
    m = point_metrics(actual, forecast, scale)
    assert m["mae"] == pytest.approx(7 / 3)
    assert m["rmse"] == pytest.approx(np.sqrt((4 + 4 + 9) / 3))
    assert m["wape"] == pytest.approx(7 / 60)
    assert m["mase"] == pytest.approx((2 / 2 + 2 / 4) / 2)
    assert m["bias"] == pytest.approx((3 / 3) / 20)


def test_interval_metrics_by_hand() -> None:
    m = interval_metrics(np.array([5.0, 15.0]), np.array([4.0, 4.0]), np.array([10.0, 10.0]), level=0.8)
    assert m["coverage"] == 0.5
    assert m["winkler"] == pytest.approx(((6 + 0) + (6 + 2 / 0.2 * 5)) / 2)


def test_conformal_band_covers_about_its_level_on_new_draws() -> None:
    rng = np.random.default_rng(3)
    forecast = rng.uniform(5, 500, 4000)
    actual = rng.poisson(forecast)
    band = ConformalBand.fit(np.log1p(actual[:2000]) - np.log1p(forecast[:2000]), level=0.8)
    lower, upper = band.apply(forecast[2000:])
    coverage = np.mean((actual[2000:] >= lower) & (actual[2000:] <= upper))
    assert 0.76 <= coverage <= 0.84
