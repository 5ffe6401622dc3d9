"""Intervals by size band x horizon (Mondrian conformal): coverage in every size band where one
pooled band fails, edges from calibration rows only, no residual from a fold whose actuals were
unknown at the origin, final rows placed by the stored edges, and the weighted interval score."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features import BUILDERS
from models.base import ModelSpec
from tests.unit.panels import panel
from workbench.backtest import Fold, calibrate_folds
from workbench.config import BacktestConfig
from workbench.featurize import build_feature_table
from workbench.fit import FinalTask, fit_one, latest_rows
from workbench.intervals import (
    CALIBRATION_ORIGINS,
    MIN_BAND_RESIDUALS,
    SIZE,
    SIZE_BANDS,
    ConformalBand,
    MondrianBand,
    least_residuals,
    log_residuals,
)
from workbench.metrics import size_band_coverage, summarise, wis

LEVEL = 0.8


def heteroscedastic(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(size, forecast, actual): multiplicative noise that shrinks with size, as with counts."""
    rng = np.random.default_rng(seed)
    size = np.exp(rng.uniform(np.log(2), np.log(2000), n))
    forecast = size * np.exp(rng.normal(0, 0.05, n))
    sigma = 1.2 / np.sqrt(size) + 0.03
    actual = forecast * np.exp(rng.normal(0, sigma))
    return size, forecast, actual


def coverage_by_quintile(band: MondrianBand, size, forecast, actual) -> dict[str, float]:
    lower, upper = band.apply(forecast, size)
    rows = pd.DataFrame({"actual": actual, "lower": lower, "upper": upper, "size": size})
    return size_band_coverage(rows, level=LEVEL, bands=5)


def test_bands_by_size_hold_coverage_in_every_quintile_where_one_pooled_band_does_not() -> None:
    size, forecast, actual = heteroscedastic(20_000, seed=1)
    residuals = log_residuals(actual, forecast)
    pooled = MondrianBand.fit(residuals, size, level=LEVEL, bands=1)
    mondrian = MondrianBand.fit(residuals, size, level=LEVEL, bands=5)
    new = heteroscedastic(20_000, seed=2)
    before = coverage_by_quintile(pooled, *new)
    after = coverage_by_quintile(mondrian, *new)
    assert before["coverage_gap"] > 0.10, before  # pooled: small areas under-covered, big ones over-covered
    assert before["coverage_q1"] < LEVEL - 0.10 and before["coverage_q5"] > LEVEL + 0.10, before
    assert after["coverage_gap"] < 0.03, after
    assert not any(mondrian.fallback)


def test_size_edges_are_quantiles_of_the_calibration_rows_and_stored_with_the_bands() -> None:
    size, forecast, actual = heteroscedastic(500, seed=3)
    band = MondrianBand.fit(log_residuals(actual, forecast), size, level=LEVEL, bands=5)
    np.testing.assert_allclose(band.edges, np.quantile(size, [0.2, 0.4, 0.6, 0.8]))
    assert [b.n for b in band.bands] == [100] * 5


def test_a_size_band_with_too_few_residuals_uses_the_pooled_band() -> None:
    size = np.r_[np.zeros(60), np.linspace(1, 100, 40)]  # ties at zero leave the band just above them small
    residuals = np.random.default_rng(4).normal(0, 1, 100)
    band = MondrianBand.fit(residuals, size, level=LEVEL, bands=5, min_residuals=10)
    counts = np.bincount(np.searchsorted(band.edges, size, side="right"), minlength=len(band.bands))
    assert band.fallback == tuple(bool(c < 10) for c in counts) and any(band.fallback)
    for fell, own in zip(band.fallback, band.bands, strict=True):
        assert (own == band.pooled) == fell
    # a row of unknown size takes the pooled band too
    lower, upper = band.apply(np.array([50.0]), np.array([np.nan]))
    assert (lower[0], upper[0]) == tuple(x[0] for x in band.pooled.apply(np.array([50.0])))


def test_too_few_calibration_rows_for_five_bands_make_fewer_bands() -> None:
    size, forecast, actual = heteroscedastic(60, seed=5)
    band = MondrianBand.fit(log_residuals(actual, forecast), size, level=LEVEL, bands=5, min_residuals=20)
    assert len(band.bands) == 3 and not any(band.fallback)
    assert (
        least_residuals(0.8, 1) == 9 and least_residuals(0.95, 20) == 39 and least_residuals(0.8) == MIN_BAND_RESIDUALS
    )


def _predictions(seed: int = 0, folds: int = 6, areas: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    size = np.exp(rng.uniform(0, 7, areas))
    rows = []
    for k in range(folds):
        for h in (1, 2):
            forecast = size * np.exp(rng.normal(0, 0.05, areas))
            actual = forecast * np.exp(rng.normal(0, 1 / np.sqrt(size) + 0.05))
            rows.append(
                pd.DataFrame(
                    {"fold": k, "origin": pd.Period("2020Q1", "Q") + k, "area_code": np.arange(areas), "horizon": h}
                    | {"actual": actual, "forecast": forecast, "scale": 1.0, "size": size}
                )
            )
    return pd.concat(rows, ignore_index=True)


FOLDS = tuple(Fold(k, pd.Period("2020Q1", "Q") + k) for k in range(6))


@pytest.mark.parametrize(("window", "last_folds"), [(None, [0, 1, 2, 3]), (3, [1, 2, 3])])
def test_a_fold_uses_no_residual_or_size_from_a_fold_whose_actuals_were_unknown_at_its_origin(
    window: int | None, last_folds: list[int]
) -> None:
    """With every earlier fold in the calibration, and with the latest three of them: the window
    is taken from the folds known at the origin, never from later ones."""
    base = _predictions()
    calibrated = calibrate_folds(base, FOLDS, level=LEVEL, min_folds=2, min_band_residuals=20, window=window)
    # the last fold's horizon-2 intervals are a band fitted on `last_folds` alone, edges included
    known = base[base["fold"].isin(last_folds) & (base["horizon"] == 2)]
    band = MondrianBand.fit(
        log_residuals(known["actual"].to_numpy(), known["forecast"].to_numpy()),
        known["size"].to_numpy(),
        level=LEVEL,
        min_residuals=20,
    )
    last = calibrated[(calibrated["fold"] == 5) & (calibrated["horizon"] == 2)]
    np.testing.assert_allclose(last["upper"], band.apply(last["forecast"].to_numpy(), last["size"].to_numpy())[1])
    np.testing.assert_allclose(band.edges, np.quantile(known["size"], [0.2, 0.4, 0.6, 0.8]))
    for fold in FOLDS:
        for h in (1, 2):
            unknown = [f.index for f in FOLDS if f.origin + h > fold.origin]
            changed = base.copy()
            later = changed["fold"].isin(unknown) & (changed["horizon"] == h)
            own = (changed["fold"] == fold.index) & (changed["horizon"] == h)
            changed.loc[later, "actual"] *= 50  # every residual it must not see is wild
            changed.loc[later & ~own, "size"] *= 1000  # and so is the size of every row outside the fold
            again = calibrate_folds(changed, FOLDS, level=LEVEL, min_folds=2, min_band_residuals=20, window=window)
            mine = own.to_numpy()
            pd.testing.assert_frame_equal(calibrated.loc[mine, ["lower", "upper"]], again.loc[mine, ["lower", "upper"]])
    # folds 0-1 have fewer than two known folds at horizon 1, folds 0-2 at horizon 2
    calibrated_folds = calibrated.dropna(subset=["lower"]).groupby("horizon")["fold"].min().to_dict()
    assert calibrated_folds == {1: 2, 2: 3}
    # ...and the same change to a fold it does use moves the fold's intervals (the test can fail)
    changed = base.copy()
    changed.loc[changed["fold"] == last_folds[0], "actual"] *= 50
    again = calibrate_folds(changed, FOLDS, level=LEVEL, min_folds=2, min_band_residuals=20, window=window)
    assert not np.allclose(calibrated.loc[calibrated["fold"] == 5, "upper"], again.loc[again["fold"] == 5, "upper"])


class _Level(ModelSpec):
    """Forecasts the area's recent mean: enough to place final rows into bands."""

    model = "level"
    kind = "baseline"
    explainer = "baseline"

    def make(self, *, features, seed):
        class Fitted:
            def fit(self, rows, y):
                return self

            def predict(self, rows):
                return rows[SIZE].to_numpy(float) + 1.0

        return Fitted()


def test_final_forecast_rows_are_placed_into_bands_by_the_stored_edges() -> None:
    table = build_feature_table(panel(), target="y", builders=[BUILDERS["lag"](lags=[1])], horizons=[1])
    rows = latest_rows(table)
    sizes = np.sort(rows[SIZE].to_numpy(float))
    edges = ((sizes[1] + sizes[2]) / 2, (sizes[3] + sizes[4]) / 2)  # two areas in each band
    bands = tuple(ConformalBand(LEVEL, -0.1 * (i + 1), 0.1 * (i + 1), 100) for i in range(3))
    pooled = ConformalBand(LEVEL, -1.0, 1.0, 300)
    band = MondrianBand(level=LEVEL, edges=edges, bands=bands, fallback=(False,) * 3, pooled=pooled)
    train = table.frame[table.frame["actual"].notna()]
    fit = fit_one(FinalTask(_Level(), table.features, 0, train, rows, {1: band}))
    forecast = fit.forecast.assign(size=rows[SIZE].to_numpy(float))
    expected_band = np.searchsorted(np.asarray(edges), forecast["size"], side="right")
    assert sorted(np.bincount(expected_band)) == [2, 2, 2]
    for i, own in enumerate(bands):
        part = forecast[expected_band == i]
        lower, upper = own.apply(part["forecast"].to_numpy(float))
        np.testing.assert_allclose(part["lower"], lower)
        np.testing.assert_allclose(part["upper"], upper)
        np.testing.assert_allclose(np.log1p(part["upper"]) - np.log1p(part["forecast"]), 0.1 * (i + 1))


def test_the_logged_model_places_rows_into_bands_by_the_stored_edges() -> None:
    from workbench.tracking.pyfunc import ForecastModel

    bands = tuple(ConformalBand(LEVEL, -0.1 * (i + 1), 0.1 * (i + 1), 100) for i in range(2))
    band = MondrianBand(LEVEL, (10.0,), bands, (False, False), ConformalBand(LEVEL, -1.0, 1.0, 200))

    class Five:
        def predict(self, rows):
            return np.full(len(rows), 5.0)

    model = ForecastModel(forecaster=Five(), categories={}, bands={1: band})
    frame = pd.DataFrame({"horizon": [1.0, 1.0, 1.0], SIZE: [3.0, 30.0, np.nan]})
    out = model.predict(None, frame)
    np.testing.assert_allclose(np.log1p(out["upper"]) - np.log1p(out["forecast"]), [0.1, 0.2, 1.0])


def test_the_weighted_interval_score_by_hand() -> None:
    actual, median = np.array([5.0, 15.0]), np.array([6.0, 8.0])
    lower, upper = np.array([4.0, 4.0]), np.array([10.0, 10.0])
    # alpha = 0.2; interval scores 6 and 6 + 10 * 5 = 56; WIS = (0.5 |y - m| + 0.1 IS) / 1.5
    np.testing.assert_allclose(wis(actual, median, lower, upper, level=0.8), [(0.5 + 0.6) / 1.5, (3.5 + 5.6) / 1.5])
    frame = pd.DataFrame(
        {"g": 1, "actual": actual, "forecast": median, "scale": 1.0, "lower": lower, "upper": upper, "size": [1, 2]}
    )
    summary = summarise(frame, by=["g"], level=0.8, size_bands=2).iloc[0]
    assert summary["wis"] == pytest.approx(((0.5 + 0.6) / 1.5 + (3.5 + 5.6) / 1.5) / 2)
    assert (summary["coverage_q1"], summary["coverage_q2"]) == (1.0, 0.0)
    assert summary["coverage_gap"] == pytest.approx(0.8)


def test_the_experiment_defaults_are_the_interval_constants() -> None:
    config = BacktestConfig()
    assert (config.interval_size_bands, config.interval_min_band_residuals, config.interval_calibration_origins) == (
        SIZE_BANDS,
        MIN_BAND_RESIDUALS,
        CALIBRATION_ORIGINS,
    )
