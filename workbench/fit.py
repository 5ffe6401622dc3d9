"""Final fits: every candidate refitted on all observed data, forecasting from the latest origin
with intervals from its backtest residuals, each row in the size band that the band's stored edges
give its size at the origin."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from features.base import FeatureInfo
from models.base import Forecaster, ModelSpec
from workbench.data.contract import ACTUAL, AREA, HORIZON, ORIGIN, TARGET_PERIOD
from workbench.engine import Engine
from workbench.featurize import FeatureTable
from workbench.intervals import SIZE, MondrianBand


@dataclass(frozen=True)
class FinalFit:
    spec: ModelSpec
    forecaster: Forecaster
    bands: dict[int, MondrianBand]
    forecast_rows: pd.DataFrame  # feature-table rows at the latest origin
    forecast: pd.DataFrame  # area_code, origin, horizon, target_period, forecast, lower, upper
    training_rows: int


def latest_rows(table: FeatureTable) -> pd.DataFrame:
    frame = table.frame
    return frame[frame[ORIGIN] == frame[ORIGIN].max()].reset_index(drop=True)


@dataclass(frozen=True)
class FinalTask:
    spec: ModelSpec
    features: tuple[FeatureInfo, ...]
    seed: int
    train: pd.DataFrame
    rows: pd.DataFrame
    bands: dict[int, MondrianBand]


def fit_one(task: FinalTask) -> FinalFit:
    """Refit one candidate on every observed row and forecast from the latest origin, with its bands."""
    train, rows = task.train, task.rows
    forecaster = task.spec.make(features=task.features, seed=task.seed).fit(train, train[ACTUAL].to_numpy(float))
    return FinalFit(task.spec, forecaster, task.bands, rows, forecast_frame(forecaster, rows, task.bands), len(train))


def forecast_frame(forecaster: Forecaster, rows: pd.DataFrame, bands: dict[int, MondrianBand]) -> pd.DataFrame:
    """The forecast of `rows` (from the latest origin) with each horizon's band around it."""
    forecast = rows[[AREA, ORIGIN, HORIZON, TARGET_PERIOD]].copy()
    forecast["forecast"] = forecaster.predict(rows)
    forecast["lower"], forecast["upper"] = float("nan"), float("nan")
    for horizon, band in bands.items():
        mask = (forecast[HORIZON] == horizon).to_numpy()
        forecast.loc[mask, "lower"], forecast.loc[mask, "upper"] = band.apply(
            forecast.loc[mask, "forecast"].to_numpy(float), rows.loc[mask, SIZE].to_numpy(float)
        )
    return forecast


def fit_final(
    table: FeatureTable,
    candidates: Sequence[ModelSpec],
    *,
    bands: dict[str, dict[int, MondrianBand]],
    seed: int,
    engine: Engine | None = None,
) -> dict[str, FinalFit]:
    """Every candidate refitted on all observed data, one task each."""
    train = table.frame[table.frame[ACTUAL].notna()]
    rows = latest_rows(table)
    tasks = [FinalTask(spec, table.features, seed, train, rows, bands[spec.candidate]) for spec in candidates]
    fits = (engine or Engine()).map(fit_one, tasks)
    return {spec.candidate: fit for spec, fit in zip(candidates, fits, strict=True)}
