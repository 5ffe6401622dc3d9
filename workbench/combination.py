"""Forecast combination as a post-backtest candidate: the mean of the best k candidates, chosen
for each fold only from folds whose actuals were all observed by that fold's origin.

A fold with no such earlier fold takes the plain mean of every member, a choice that uses no
data. Intervals are calibrated the way the backtest calibrates every candidate: each fold from
log residuals of earlier folds whose actuals were known at its origin, by size band x horizon.

This runs after `run_backtest`, on its predictions, so it needs no change to the backtest. The
combined candidate is scored, ranked and selected like any other; to forecast with it, refit its
members (the last fold's `members` column) and average them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.backtest import BacktestResult, Fold, calibrate_folds
from workbench.data.contract import ACTUAL, AREA, HORIZON, ORIGIN
from workbench.intervals import MIN_BAND_RESIDUALS, SIZE_BANDS
from workbench.metrics import COVERAGE_BANDS, point_metrics, summarise


@dataclass(frozen=True)
class Combined:
    predictions: pd.DataFrame  # the backtest's predictions plus the combination's rows
    summary: pd.DataFrame  # per candidate, over all folds and horizons
    choices: pd.DataFrame  # fold, members (comma-separated), scored_on (comma-separated fold indices)
    candidate: str


def _known_before(folds: Sequence[Fold], fold: Fold, max_horizon: int) -> list[int]:
    """Folds whose every actual (up to the longest horizon) was observed by `fold`'s origin."""
    return [f.index for f in folds if f.origin + max_horizon <= fold.origin]


def choose(predictions: pd.DataFrame, members: Sequence[str], folds: Sequence[Fold], *, k: int) -> pd.DataFrame:
    """For each fold, the k members with the lowest MASE on the folds known by its origin."""
    max_horizon = int(predictions[HORIZON].max())
    rows = []
    for fold in folds:
        earlier = _known_before(folds, fold, max_horizon)
        if earlier:
            seen = predictions[predictions["fold"].isin(earlier) & predictions["candidate"].isin(members)]
            mase = {
                c: point_metrics(g[ACTUAL].to_numpy(float), g["forecast"].to_numpy(float), g["scale"].to_numpy(float))[
                    "mase"
                ]
                for c, g in seen.groupby("candidate", sort=False)
            }
            chosen = sorted(members, key=lambda c: (mase.get(c, np.inf), list(members).index(c)))[:k]
        else:
            chosen = list(members)
        rows.append({"fold": fold.index, "members": ",".join(chosen), "scored_on": ",".join(map(str, earlier))})
    return pd.DataFrame(rows)


def combine(
    result: BacktestResult,
    *,
    members: Sequence[str],
    k: int = 3,
    level: float,
    min_calibration_folds: int = 2,
    size_bands: int = SIZE_BANDS,
    min_band_residuals: int = MIN_BAND_RESIDUALS,
) -> Combined:
    """Add the candidate `combination_best{k}` to a backtest's predictions and summary."""
    name = f"combination_best{k}"
    predictions = result.predictions
    choices = choose(predictions, members, result.folds, k=k)
    keys = ["fold", ORIGIN, AREA, HORIZON]
    parts = []
    for choice in choices.itertuples(index=False):
        chosen = predictions[
            (predictions["fold"] == choice.fold) & predictions["candidate"].isin(choice.members.split(","))
        ]
        parts.append(
            chosen.groupby(keys, sort=False)
            .agg(
                actual=(ACTUAL, "first"),
                scale=("scale", "first"),
                size=("size", "first"),
                forecast=("forecast", "mean"),
            )
            .reset_index()
        )
    rows = pd.concat(parts, ignore_index=True).assign(candidate=name)
    rows = calibrate_folds(
        rows,
        result.folds,
        level=level,
        min_folds=min_calibration_folds,
        size_bands=size_bands,
        min_band_residuals=min_band_residuals,
    )
    everything = pd.concat([predictions, rows[predictions.columns]], ignore_index=True)
    summary = summarise(everything, by=["candidate"], level=level, size_bands=COVERAGE_BANDS)
    return Combined(everything, summary, choices, name)
