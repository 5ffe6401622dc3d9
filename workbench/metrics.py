"""Forecast accuracy and interval metrics. Lower is better for all but coverage.

- MAE, RMSE: in the target's units.
- WAPE: total absolute error over total actual, so large areas weigh more.
- MASE: absolute error scaled by the series' in-sample naive error (mean absolute one-step change
  up to the origin), averaged over rows, so every area counts alike whatever its size. Rows whose
  series never changed (scale 0) are left out.
- bias: mean (forecast - actual) over mean actual; negative means under-forecasting.
- coverage: share of actuals inside the interval.
- winkler: interval width plus 2/alpha times any miss (the interval score; alpha = 1 - level).
- wis: the weighted interval score of the central interval with the point forecast as its median,
  (0.5 * |actual - median| + alpha / 2 * interval score) / 1.5 (Bracher et al. 2021, one interval),
  a probabilistic score in the target's units.
- coverage_q1 .. coverage_q5 (COVERAGE_BANDS): coverage among the rows of each
  quintile of area size as known at the origin (the `size` column; q1 smallest), and coverage_gap,
  the largest distance of any of them from the nominal level.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.data.contract import ACTUAL

COVERAGE_BANDS = 5  # coverage is reported by quintile of area size, whatever bands calibrate the intervals


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


def wis(actual: np.ndarray, median: np.ndarray, lower: np.ndarray, upper: np.ndarray, *, level: float) -> np.ndarray:
    """The weighted interval score of each row (one central interval plus the median)."""
    alpha = 1 - level
    interval = (upper - lower) + 2 / alpha * (np.clip(lower - actual, 0, None) + np.clip(actual - upper, 0, None))
    return np.asarray((0.5 * np.abs(actual - median) + alpha / 2 * interval) / 1.5, dtype=float)


def size_band_coverage(rows: pd.DataFrame, *, level: float, bands: int) -> dict[str, float]:
    """Coverage in each of `bands` equal-count bands of the rows' size (ties split in row order),
    and the largest gap to the nominal level."""
    rows = rows[np.isfinite(rows["size"].to_numpy(float))]
    if len(rows) < bands:
        return {}
    band = pd.qcut(rows["size"].rank(method="first"), bands, labels=False).to_numpy()
    inside = ((rows[ACTUAL] >= rows["lower"]) & (rows[ACTUAL] <= rows["upper"])).to_numpy()
    out = {f"coverage_q{b + 1}": float(inside[band == b].mean()) for b in range(bands)}
    out["coverage_gap"] = max(abs(v - level) for v in out.values())
    return out


def _interval_values(rows: pd.DataFrame, *, level: float, size_bands: int) -> dict[str, float]:
    if not len(rows):
        return {"coverage": float("nan"), "winkler": float("nan"), "wis": float("nan")}
    actual, lower, upper = (rows[c].to_numpy(float) for c in (ACTUAL, "lower", "upper"))
    values = interval_metrics(actual, lower, upper, level=level)
    values["wis"] = float(np.mean(wis(actual, rows["forecast"].to_numpy(float), lower, upper, level=level)))
    if size_bands:
        values |= size_band_coverage(rows, level=level, bands=size_bands)
    return values


def summarise(predictions: pd.DataFrame, *, by: list[str], level: float, size_bands: int = 0) -> pd.DataFrame:
    """Metrics for each group of `predictions` (columns actual, forecast, scale, lower, upper; and
    size when `size_bands` asks for coverage by size band). Interval metrics are taken over the
    rows that have an interval."""
    rows = []
    for key, group in predictions.groupby(by, sort=True, observed=True):
        key = key if isinstance(key, tuple) else (key,)
        values = point_metrics(
            group[ACTUAL].to_numpy(float), group["forecast"].to_numpy(float), group["scale"].to_numpy(float)
        )
        values |= _interval_values(group.dropna(subset=["lower", "upper"]), level=level, size_bands=size_bands)
        values["rows"] = len(group)
        rows.append(dict(zip(by, key, strict=True)) | values)
    return pd.DataFrame(rows)
