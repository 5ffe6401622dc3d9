"""Rolling-origin backtests: every candidate refitted at every origin on what was known then.

Fold k has an origin O_k. Its training rows are the feature-table rows whose target period is at
or before O_k (so every actual it learns from was observed by O_k); its test rows are the rows
whose origin is O_k, one per area and horizon. Origins end where the longest horizon still has
actuals and step back `step` periods at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from features.base import FeatureInfo
from models.base import Forecaster, ModelSpec
from workbench.data.contract import ACTUAL, AREA, HORIZON, ORIGIN, TARGET_PERIOD
from workbench.data.history import periods_needed
from workbench.engine import Engine
from workbench.errors import ConfigError
from workbench.featurize import FeatureTable
from workbench.intervals import (
    CALIBRATION_ORIGINS,
    MIN_BAND_RESIDUALS,
    SIZE,
    SIZE_BANDS,
    MondrianBand,
    calibrate_by_horizon,
    latest_origins,
    log_residuals,
)
from workbench.metrics import COVERAGE_BANDS, summarise


@dataclass(frozen=True)
class Fold:
    index: int
    origin: pd.Period


def rolling_origins(
    *,
    first_period: pd.Period,
    last_period: pd.Period,
    origins: int,
    step: int,
    max_horizon: int,
    min_train_periods: int,
) -> list[Fold]:
    """The backtest origins, oldest first. Raises ConfigError when the panel is too short."""
    last_origin = last_period - max_horizon
    chosen = [last_origin - step * i for i in range(origins)][::-1]
    needed = periods_needed(origins=origins, step=step, max_horizon=max_horizon, min_train_periods=min_train_periods)
    have = (last_period - first_period).n + 1
    if have < needed:  # the same rule `validate` applies (workbench.data.history)
        raise ConfigError(
            f"the backtest needs {needed} periods ({min_train_periods} to train on before the first origin, "
            f"{origins} origins {step} apart, horizons up to {max_horizon}) but the panel has {have} "
            f"({first_period} to {last_period}); lower backtest.origins, backtest.min_train_periods or the horizon"
        )
    return [Fold(index=i, origin=o) for i, o in enumerate(chosen)]


def split(table: FeatureTable, fold: Fold) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(training rows, test rows) for one fold: nothing in training was unobserved at the origin."""
    frame = table.frame
    train = frame[(frame[TARGET_PERIOD] <= fold.origin) & frame[ACTUAL].notna()]
    test = frame[(frame[ORIGIN] == fold.origin) & frame[HORIZON].isin(table.horizons)]
    return train, test


@dataclass(frozen=True)
class BacktestResult:
    predictions: pd.DataFrame  # candidate, fold, origin, area, horizon, actual, forecast, scale, size, lower, upper
    fold_metrics: pd.DataFrame  # per candidate, fold and horizon
    horizon_metrics: pd.DataFrame  # per candidate and horizon, over all folds
    summary: pd.DataFrame  # per candidate, over all folds and horizons, with coverage by size band
    bands: dict[str, dict[int, MondrianBand]]  # final interval bands per candidate and horizon
    folds: tuple[Fold, ...]
    level: float
    fitted: dict[tuple[str, int], Forecaster] = field(default_factory=dict, repr=False)  # (candidate, fold) -> model
    min_calibration_folds: int = 2  # how intervals were calibrated, so candidates added later match
    size_bands: int = SIZE_BANDS
    min_band_residuals: int = MIN_BAND_RESIDUALS
    calibration_origins: int | None = CALIBRATION_ORIGINS  # the latest origins a fold is calibrated on
    combinations: dict[str, pd.DataFrame] = field(default_factory=dict)  # per combination, its members at each fold

    def summary_over(self, folds: Sequence[Fold]) -> pd.DataFrame:
        """The per-candidate summary over some of the folds (all of them: `summary`)."""
        indexes = {f.index for f in folds}
        return summarise(self.predictions[self.predictions["fold"].isin(indexes)], by=["candidate"], level=self.level)


def calibrate_folds(
    predictions: pd.DataFrame,
    folds: Sequence[Fold],
    *,
    level: float,
    min_folds: int,
    size_bands: int = SIZE_BANDS,
    min_band_residuals: int = MIN_BAND_RESIDUALS,
    window: int | None = CALIBRATION_ORIGINS,
) -> pd.DataFrame:
    """Add lower/upper to each fold from residuals of the latest `window` earlier folds whose actuals
    were known at its origin (every one if `window` is None), by size band and horizon (see
    `workbench.intervals`); the size bands' edges come from those rows only. A fold needs at least
    `min_folds` such earlier folds to be calibrated at all."""
    out = []
    residuals = predictions.assign(
        residual=log_residuals(predictions[ACTUAL].to_numpy(float), predictions["forecast"].to_numpy(float))
    )
    for fold in folds:
        for horizon, rows in residuals[residuals["fold"] == fold.index].groupby(HORIZON):
            earlier = [f.index for f in folds if f.origin + int(horizon) <= fold.origin]
            window_folds = latest_origins(earlier, window)
            known = residuals[(residuals[HORIZON] == horizon) & residuals["fold"].isin(window_folds)]
            rows = rows.copy()
            if len(earlier) >= min_folds:
                band = MondrianBand.fit(
                    known["residual"].to_numpy(float),
                    known["size"].to_numpy(float),
                    level=level,
                    bands=size_bands,
                    min_residuals=min_band_residuals,
                )
                rows["lower"], rows["upper"] = band.apply(
                    rows["forecast"].to_numpy(float), rows["size"].to_numpy(float)
                )
            else:
                rows["lower"], rows["upper"] = np.nan, np.nan
            out.append(rows)
    return pd.concat(out).drop(columns="residual").sort_index()


@dataclass(frozen=True)
class FitTask:
    """One (candidate, origin) fit of the backtest: what a worker needs, and nothing more."""

    spec: ModelSpec
    fold: Fold
    features: tuple[FeatureInfo, ...]
    seed: int
    train: pd.DataFrame
    test: pd.DataFrame


@dataclass(frozen=True)
class FitOutcome:
    predictions: pd.DataFrame
    forecaster: object


def fit_fold(task: FitTask) -> FitOutcome:
    """Fit one candidate on one fold's training rows and forecast its test rows."""
    train, test = task.train, task.test
    forecaster = task.spec.make(features=task.features, seed=task.seed).fit(train, train[ACTUAL].to_numpy(float))
    predictions = pd.DataFrame(
        {
            "candidate": task.spec.candidate,
            "fold": task.fold.index,
            ORIGIN: test[ORIGIN].to_numpy(),
            AREA: test[AREA].to_numpy(),
            HORIZON: test[HORIZON].to_numpy(),
            ACTUAL: test[ACTUAL].to_numpy(float),
            "forecast": forecaster.predict(test),
            "scale": test["ref_mase_scale"].to_numpy(float),
            "size": test[SIZE].to_numpy(float),
        }
    )
    return FitOutcome(predictions, forecaster)


def fit_tasks(
    table: FeatureTable, candidates: Sequence[ModelSpec], folds: Sequence[Fold], *, seed: int
) -> list[FitTask]:
    """Every (candidate, origin) fit; each fold's rows are split once and shared by its candidates."""
    tasks = []
    for fold in folds:
        train, test = split(table, fold)
        tasks += [FitTask(spec, fold, table.features, seed, train, test) for spec in candidates]
    return tasks


def _biggest_first(tasks: Sequence[FitTask]) -> list[int]:
    """Task positions, the most training rows first and baselines last in each fold, so that a pool's
    workers are not left waiting on one late, long fit."""
    return sorted(range(len(tasks)), key=lambda i: (-len(tasks[i].train), tasks[i].spec.kind == "baseline", i))


def run_backtest(
    table: FeatureTable,
    candidates: Sequence[ModelSpec],
    folds: Sequence[Fold],
    *,
    level: float,
    min_calibration_folds: int,
    seed: int,
    size_bands: int = SIZE_BANDS,
    min_band_residuals: int = MIN_BAND_RESIDUALS,
    calibration_origins: int | None = CALIBRATION_ORIGINS,
    engine: Engine | None = None,
    on_step: Callable[[str, Fold], None] | None = None,
    task_order: Sequence[int] | None = None,
) -> BacktestResult:
    """Refit every candidate at every origin through `engine`, with intervals calibrated by
    `size_bands` bands of area size x horizon on the latest `calibration_origins` origins. The result
    does not depend on the number of workers or on `task_order` (a permutation of the tasks, for tests)."""
    tasks = fit_tasks(table, candidates, folds, seed=seed)
    order = list(task_order) if task_order is not None else _biggest_first(tasks)
    ordered = [tasks[i] for i in order]
    outcomes = (engine or Engine()).map(
        fit_fold, ordered, on_done=(lambda i: on_step(ordered[i].spec.candidate, ordered[i].fold)) if on_step else None
    )
    by_task = dict(zip(order, outcomes, strict=True))
    outcomes = [by_task[i] for i in range(len(tasks))]
    fitted = {(t.spec.candidate, t.fold.index): o.forecaster for t, o in zip(tasks, outcomes, strict=True)}
    empty = BacktestResult(
        predictions=pd.DataFrame(),
        fold_metrics=pd.DataFrame(),
        horizon_metrics=pd.DataFrame(),
        summary=pd.DataFrame(),
        bands={},
        folds=tuple(folds),
        level=level,
        min_calibration_folds=min_calibration_folds,
        size_bands=size_bands,
        min_band_residuals=min_band_residuals,
        calibration_origins=calibration_origins,
    )
    return with_candidates(empty, pd.concat([o.predictions for o in outcomes], ignore_index=True), fitted)


def with_candidates(
    result: BacktestResult,
    predictions: pd.DataFrame,
    fitted: Mapping[tuple[str, int], Forecaster],
    combinations: dict[str, pd.DataFrame] | None = None,
) -> BacktestResult:
    """`result` with more candidates' predictions (without intervals) added: each candidate's
    intervals calibrated fold by fold and its final bands, as `result` calibrates, and its metrics
    added to the summaries (in the order `summarise` gives)."""
    level = result.level
    calibrated = pd.concat(
        [
            calibrate_folds(
                p,
                result.folds,
                level=level,
                min_folds=result.min_calibration_folds,
                size_bands=result.size_bands,
                min_band_residuals=result.min_band_residuals,
                window=result.calibration_origins,
            )
            for _, p in predictions.groupby("candidate", sort=False)
        ]
    )
    # the final bands, for forecasts from after the last origin: the latest origins' residuals
    final_folds = latest_origins([f.index for f in result.folds], result.calibration_origins)
    residuals = calibrated[calibrated["fold"].isin(final_folds)]
    residuals = residuals.assign(
        residual=log_residuals(residuals[ACTUAL].to_numpy(float), residuals["forecast"].to_numpy(float))
    )
    bands = {
        c: calibrate_by_horizon(r, level=level, bands=result.size_bands, min_residuals=result.min_band_residuals)
        for c, r in residuals.groupby("candidate", sort=False)
    }

    def added(old: pd.DataFrame, new: pd.DataFrame, by: list[str]) -> pd.DataFrame:
        if not len(old):
            return new
        both = pd.concat([old, new], ignore_index=True)
        return both.sort_values(by, kind="stable", ignore_index=True) if by else both

    by_fold, by_horizon = ["candidate", "fold", HORIZON], ["candidate", HORIZON]
    return replace(
        result,
        predictions=added(result.predictions, calibrated, []),
        fold_metrics=added(result.fold_metrics, summarise(calibrated, by=by_fold, level=level), by_fold),
        horizon_metrics=added(result.horizon_metrics, summarise(calibrated, by=by_horizon, level=level), by_horizon),
        summary=added(
            result.summary,
            summarise(calibrated, by=["candidate"], level=level, size_bands=COVERAGE_BANDS),
            ["candidate"],
        ),
        bands=result.bands | bands,
        fitted={**result.fitted, **fitted},
        combinations=result.combinations | (combinations or {}),
    )
