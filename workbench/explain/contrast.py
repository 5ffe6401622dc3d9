"""The change a reader asks about: each forecast against the area's own reference (its last few
periods, or the same period last year), decomposed exactly.

SHAP values are linear in the model's output for a fixed background, so the values of the forecast
row minus the mean values of the area's reference rows add up to the model's output for the
forecast minus its mean output for the reference rows (contrastive SHAP). Translated into the
target's units, these amounts explain the forecast minus the model's view of the reference; what
is left, the gap between that view and the actual reference level, is named as the reference
periods' ups and downs. The amounts then add up exactly to forecast minus actual reference level.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.data.contract import AREA, HORIZON, TARGET_PERIOD
from workbench.explain.units import by_concept, households
from workbench.explain.values import AdditiveExplanation
from workbench.explain.wording import RESIDUAL

KEYS = [AREA, HORIZON, TARGET_PERIOD]


@dataclass(frozen=True)
class Contrast:
    """Per forecast row: the actual reference level and the change's amounts by concept, in the
    target's units (columns add up to forecast minus reference)."""

    reference: np.ndarray
    amounts: pd.DataFrame
    explanation: AdditiveExplanation | None = None

    @property
    def change(self) -> np.ndarray:
        return np.asarray(self.amounts.sum(axis=1, min_count=1), dtype=float)


def reference_rows(
    frame: pd.DataFrame, rows: pd.DataFrame, *, reference: str, periods: int, periods_per_year: int
) -> tuple[pd.DataFrame, np.ndarray]:
    """Feature-table rows of each forecast row's reference periods (same area and horizon, actual
    known), and the position of the forecast row each belongs to."""
    observed = frame[frame["actual"].notna()]
    owner = np.arange(len(rows))
    wanted = rows[KEYS].reset_index(drop=True).assign(owner=owner)
    if reference == "same_period_last_year":
        wanted[TARGET_PERIOD] = wanted[TARGET_PERIOD] - periods_per_year
    else:
        latest = observed.groupby(AREA, observed=True)[TARGET_PERIOD].max()
        last = wanted[AREA].map(latest)
        wanted = pd.concat([wanted.assign(**{TARGET_PERIOD: last - k}) for k in range(periods)], ignore_index=True)
        wanted = wanted[wanted[TARGET_PERIOD].notna()]
    matched = wanted.merge(observed, on=KEYS, how="inner", validate="many_to_one")
    return matched.drop(columns="owner"), matched["owner"].to_numpy(int)


def _mean_by_owner(values: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
    counts = np.bincount(owner, minlength=n).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.bincount(owner, weights=values, minlength=n) / np.where(counts > 0, counts, np.nan)


def contrast(
    forecast: AdditiveExplanation, references: AdditiveExplanation, *, owner: np.ndarray, actual: np.ndarray
) -> Contrast:
    """Forecast rows against the mean of their reference rows (see the module docstring)."""
    n = len(forecast.keys)
    mean_values = references.values.groupby(owner).mean().reindex(range(n))
    mean_output = _mean_by_owner(references.output, owner, n)
    mean_base = _mean_by_owner(references.base, owner, n)
    explanation = AdditiveExplanation(
        forecast.keys,
        forecast.scale,
        mean_output + forecast.base - mean_base,
        forecast.values - mean_values.to_numpy(),
        forecast.data,
        forecast.output,
        forecast.forecast,
        forecast.concepts,
        forecast.method,
    )
    level = _mean_by_owner(np.asarray(actual, float), owner, n)
    amounts = households(explanation, by_concept(explanation))
    # The model's view of the reference minus the actual level, and whatever separates the model's raw
    # output from the published forecast (clipping at zero): the amounts add up to forecast - reference.
    amounts[RESIDUAL] = forecast.forecast - level - amounts.sum(axis=1).to_numpy()
    amounts.loc[~np.isfinite(level)] = np.nan
    return Contrast(level, amounts, explanation)
