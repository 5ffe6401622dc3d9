"""Forecast accuracy and interval metrics. Lower is better for all but coverage.

- MAE, RMSE: in the target's units.
- WAPE: total absolute error over total actual, so large areas weigh more.
- MASE: absolute error scaled by the series' in-sample naive error (mean absolute one-step change
  up to the origin), averaged over rows, so every area counts alike whatever its size. Rows whose
  series never changed (scale 0) are left out.
- bias: mean (forecast - actual) over mean actual; negative means under-forecasting.
- coverage: share of actuals inside the interval.
- winkler: interval width plus 2/alpha times any miss (the interval score; alpha = 1 - level).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.data.contract import ACTUAL


def point_metrics(actual: np.ndarray, forecast: np.ndarray, scale: np.ndarray) -> dict[str, float]:
    error = forecast - actual
    total = np.sum(np.abs(actual))
    scaled = np.abs(error)[scale > 0] / scale[scale > 0]
    return {
        "mae": float(np.mean(np.abs(error))),
        "rmse": float(np.sqrt(np.mean(error**2))),
        "wape": float(np.sum(np.abs(error)) / total) if total else float("nan"),
        "mase": float(np.mean(scaled)) if len(scaled) else float("nan"),
        "bias": float(np.mean(error) / np.mean(actual)) if np.mean(actual) else float("nan"),
    }


def interval_metrics(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray, *, level: float) -> dict[str, float]:
    alpha = 1 - level
    below = np.clip(lower - actual, 0, None)
    above = np.clip(actual - upper, 0, None)
    return {
        "coverage": float(np.mean((actual >= lower) & (actual <= upper))),
        "winkler": float(np.mean((upper - lower) + 2 / alpha * (below + above))),
    }


def summarise(predictions: pd.DataFrame, *, by: list[str], level: float) -> pd.DataFrame:
    """Metrics for each group of `predictions` (columns actual, forecast, scale, lower, upper)."""
    rows = []
    for key, group in predictions.groupby(by, sort=True, observed=True):
        key = key if isinstance(key, tuple) else (key,)
        values = point_metrics(
            group[ACTUAL].to_numpy(float), group["forecast"].to_numpy(float), group["scale"].to_numpy(float)
        )
        calibrated = group.dropna(subset=["lower", "upper"])
        if len(calibrated):
            values |= interval_metrics(
                calibrated[ACTUAL].to_numpy(float),
                calibrated["lower"].to_numpy(float),
                calibrated["upper"].to_numpy(float),
                level=level,
            )
        else:
            values |= {"coverage": float("nan"), "winkler": float("nan")}
        values["rows"] = len(group)
        rows.append(dict(zip(by, key, strict=True)) | values)
    return pd.DataFrame(rows)
