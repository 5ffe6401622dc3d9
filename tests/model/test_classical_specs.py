"""Classical per-series specs: registered, free of leakage, seasonal from the panel's frequency,
single-threaded and picklable, and able to follow a trend that naive cannot."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

import models.classical as classical
from features import BUILDERS
from models import MODELS
from workbench.backtest import Fold, split
from workbench.data.contract import AREA, PERIOD, Frequency, Panel, PanelSpec
from workbench.featurize import ACTUAL, build_feature_table

SPEC = PanelSpec(frequency=Frequency.QUARTER, targets=("y",), area_code_pattern=r"^A\d$")
AREAS = ("A1", "A2", "A3")
PERIODS = pd.period_range("2016Q1", periods=24, freq="Q")
CLASSICAL = {
    "auto_ets": MODELS["auto_ets"](),
    "auto_arima": MODELS["auto_arima"](),
    "auto_theta": MODELS["auto_theta"](),
    "croston": MODELS["croston"](),
    "adida": MODELS["intermittent_aggregated"](variant="adida"),
    "imapa": MODELS["intermittent_aggregated"](variant="imapa"),
    "tsb": MODELS["tsb"](),
}
ORIGIN = PERIODS[15]


def panel(values: np.ndarray) -> Panel:
    frame = pd.DataFrame({AREA: np.repeat(AREAS, len(PERIODS)), PERIOD: pd.PeriodIndex(np.tile(PERIODS, 3), freq="Q")})
    frame["y"] = values
    return Panel(frame=frame, spec=SPEC, source="test")


def series(seed: int = 0, *, zeros: bool = False) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.tile(np.arange(len(PERIODS)), len(AREAS))
    level = 30 + 2 * t + 5 * np.sin(t * np.pi / 2)
    values = rng.poisson(level).astype(float)
    return np.where(rng.uniform(size=len(values)) < 0.5, 0.0, values) if zeros else values


def forecasts(spec, values: np.ndarray, horizons=(1, 2, 3)) -> np.ndarray:
    table = build_feature_table(panel(values), target="y", builders=[BUILDERS["lag"](lags=[1])], horizons=horizons)
    train, test = split(table, Fold(0, ORIGIN))
    forecaster = spec.make(features=table.features, seed=0).fit(train, train[ACTUAL].to_numpy(float))
    return forecaster.predict(test)


def test_every_classical_spec_is_registered() -> None:
    specs = {cls for cls in vars(classical).values() if isinstance(cls, type) and issubclass(cls, classical._Classical)}
    assert specs - {classical._Classical} <= set(MODELS.values())


@pytest.mark.parametrize("name", CLASSICAL)
@pytest.mark.parametrize("zeros", [False, True])
def test_changing_actuals_after_the_origin_leaves_forecasts_unchanged(name: str, zeros: bool) -> None:
    values = series(zeros=zeros)
    changed = values.copy()
    after = np.tile(PERIODS > ORIGIN, len(AREAS))
    changed[after] = changed[after] * 3 + 7
    before = forecasts(CLASSICAL[name], values)
    assert np.isfinite(before).all()
    np.testing.assert_array_equal(before, forecasts(CLASSICAL[name], changed))


@pytest.mark.parametrize("name", CLASSICAL)
def test_changing_actuals_before_the_origin_changes_forecasts(name: str) -> None:
    """The leakage test above can fail: the same change before the origin moves the forecast."""
    values = series()
    changed = values.copy()
    changed[np.tile(PERIODS <= ORIGIN, len(AREAS))] *= 3
    assert not np.allclose(forecasts(CLASSICAL[name], values), forecasts(CLASSICAL[name], changed))


def test_history_is_rebuilt_without_horizon_one_rows() -> None:
    """With horizons 2 to 3 only, the origins' latest values still complete the history."""
    values = series()
    with_h1 = forecasts(CLASSICAL["auto_ets"], values, horizons=(1, 2, 3))
    without = forecasts(CLASSICAL["auto_ets"], values, horizons=(2, 3))
    np.testing.assert_allclose(with_h1[len(AREAS) :], without, rtol=1e-9)  # rows run horizon by horizon


def test_ets_follows_a_trend_that_naive_misses() -> None:
    t = np.tile(np.arange(len(PERIODS)), len(AREAS))
    values = 30 + 5.0 * t + np.random.default_rng(1).normal(0, 2, len(t))
    table = build_feature_table(panel(values), target="y", builders=[BUILDERS["lag"](lags=[1])], horizons=[4])
    _, test = split(table, Fold(0, ORIGIN))
    ets_error = np.abs(forecasts(CLASSICAL["auto_ets"], values, horizons=[4]) - test[ACTUAL]).mean()
    naive_error = np.abs(test["ref_last"] - test[ACTUAL]).mean()
    assert ets_error < naive_error


def test_season_length_follows_the_panel_frequency() -> None:
    assert classical.season_length_of(pd.Series(PERIODS)) == 4
    assert classical.season_length_of(pd.Series(pd.period_range("2020-01", periods=3, freq="M"))) == 12
    assert classical.season_length_of(pd.Series(pd.period_range("2020", periods=3, freq="Y"))) == 1


def test_a_short_series_gets_its_latest_value_and_is_counted() -> None:
    values = series()
    table = build_feature_table(panel(values), target="y", builders=[BUILDERS["lag"](lags=[1])], horizons=[1])
    train, test = split(table, Fold(0, PERIODS[2]))
    forecaster = CLASSICAL["auto_ets"].make(features=table.features, seed=0).fit(train, train[ACTUAL].to_numpy())
    np.testing.assert_array_equal(forecaster.predict(test), test["ref_last"].to_numpy())
    assert forecaster.fallbacks_ == len(AREAS)


def test_fitted_forecasters_pickle_and_predict_the_same() -> None:
    values = series()
    table = build_feature_table(panel(values), target="y", builders=[BUILDERS["lag"](lags=[1])], horizons=[1, 2])
    train, test = split(table, Fold(0, ORIGIN))
    forecaster = CLASSICAL["auto_arima"].make(features=table.features, seed=0).fit(train, train[ACTUAL].to_numpy())
    restored = pickle.loads(pickle.dumps(forecaster))
    np.testing.assert_array_equal(forecaster.predict(test), restored.predict(test))


def test_classical_specs_are_candidates_explained_as_what_they_are() -> None:
    for spec in CLASSICAL.values():
        assert not spec.is_baseline
        assert spec.explainer == "baseline"
        assert "history" in spec.describe()


def test_an_areas_history_is_complete_up_to_the_origin_with_gaps_carried_forward() -> None:
    periods, values = np.array([10, 11, 13, 14]), np.array([1.0, 2.0, 4.0, 5.0])
    np.testing.assert_array_equal(classical._series(periods, values, 13), [1, 2, 2, 4])  # 12 is missing
    np.testing.assert_array_equal(classical._series(periods, values, 16), [1, 2, 2, 4, 5, 5, 5])
    assert len(classical._series(periods, values, 9)) == 0  # nothing observed by the origin
    quarters = pd.Series(pd.period_range("2020Q3", periods=3, freq="Q"))
    np.testing.assert_array_equal(np.diff(classical._ordinals(quarters)), [1, 1])  # next quarter, next ordinal
