"""Final fits: every candidate refitted on all observed data, forecasting from the latest origin
with intervals from its backtest residuals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from models.base import Forecaster, ModelSpec
from workbench.featurize import ACTUAL, HORIZON, ORIGIN, FeatureTable
from workbench.intervals import ConformalBand


@dataclass(frozen=True)
class FinalFit:
    spec: ModelSpec
    forecaster: Forecaster
    bands: dict[int, ConformalBand]
    forecast_rows: pd.DataFrame  # feature-table rows at the latest origin
    forecast: pd.DataFrame  # area_code, origin, horizon, target_period, forecast, lower, upper
    training_rows: int


def latest_rows(table: FeatureTable) -> pd.DataFrame:
    frame = table.frame
    return frame[frame[ORIGIN] == frame[ORIGIN].max()].reset_index(drop=True)


def fit_final(
    table: FeatureTable, candidates: Sequence[ModelSpec], *, bands: dict[str, dict[int, ConformalBand]], seed: int
) -> dict[str, FinalFit]:
    train = table.frame[table.frame[ACTUAL].notna()]
    rows = latest_rows(table)
    fits = {}
    for spec in candidates:
        forecaster = spec.make(features=table.features, seed=seed).fit(train, train[ACTUAL].to_numpy(float))
        forecast = rows[["area_code", ORIGIN, HORIZON, "target_period"]].copy()
        forecast["forecast"] = forecaster.predict(rows)
        forecast["lower"], forecast["upper"] = float("nan"), float("nan")
        for horizon, band in bands[spec.candidate].items():
            mask = forecast[HORIZON] == horizon
            forecast.loc[mask, "lower"], forecast.loc[mask, "upper"] = band.apply(
                forecast.loc[mask, "forecast"].to_numpy(float)
            )
        fits[spec.candidate] = FinalFit(spec, forecaster, bands[spec.candidate], rows, forecast, len(train))
    return fits
