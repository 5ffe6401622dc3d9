"""Scale-free metrics by group of areas, with fairlearn's MetricFrame, and area-bootstrap intervals.

Backtest predictions are first summed per area (over folds and horizons), so every metric is a
ratio of sums over the areas in a group:

- wape: absolute error over actual (relative error; large areas weigh more within a group)
- mase: mean scaled error (each area's errors scaled by its own naive error)
- bias: (forecast - actual) over actual; negative means the group is under-forecast
- under_share: share of forecasts below the actual (missed need)
- under_upper_share: share of actuals above the upper interval bound
- coverage: share of actuals inside the interval

Confidence intervals come from a bootstrap that resamples whole areas (rows of one area are not
independent), computed for every replicate at once with sums per group.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from fairlearn.metrics import MetricFrame

# metric -> (numerator column, denominator column, kind of comparison with the reference group)
METRICS: dict[str, tuple[str, str, str]] = {
    "wape": ("abs_error", "actual", "ratio"),
    "mase": ("scaled_error", "scaled_rows", "ratio"),
    "bias": ("signed_error", "actual", "difference"),
    "under_share": ("under", "rows", "difference"),
    "under_upper_share": ("under_upper", "calibrated", "difference"),
    "coverage": ("covered", "calibrated", "difference"),
}
STATS = (
    "actual",
    "abs_error",
    "signed_error",
    "scaled_error",
    "scaled_rows",
    "under",
    "under_upper",
    "covered",
    "calibrated",
    "rows",
)


def area_stats(predictions: pd.DataFrame) -> pd.DataFrame:
    """Per-area sums of what the group metrics need, from backtest predictions of one candidate."""
    p = predictions
    error = p["forecast"] - p["actual"]
    scaled = p["scale"] > 0
    calibrated = p["lower"].notna() & p["upper"].notna()
    frame = pd.DataFrame(
        {
            "area_code": p["area_code"],
            "actual": p["actual"],
            "abs_error": error.abs(),
            "signed_error": error,
            "scaled_error": (error.abs() / p["scale"]).where(scaled, 0.0),
            "scaled_rows": scaled.astype(float),
            "under": (p["actual"] > p["forecast"]).astype(float),
            "under_upper": ((p["actual"] > p["upper"]) & calibrated).astype(float),
            "covered": ((p["actual"] >= p["lower"]) & (p["actual"] <= p["upper"]) & calibrated).astype(float),
            "calibrated": calibrated.astype(float),
            "rows": 1.0,
        }
    )
    return frame.groupby("area_code", sort=True)[list(STATS)].sum()


def _ratio_of_sums(numerator: str, denominator: str):
    def metric(y_true, y_pred, **columns) -> float:
        bottom = float(np.sum(columns[denominator]))
        return float(np.sum(columns[numerator]) / bottom) if bottom else float("nan")

    metric.__name__ = f"{numerator}_over_{denominator}"
    return metric


def metric_frame(stats: pd.DataFrame, groups: pd.Series) -> MetricFrame:
    """fairlearn's MetricFrame of every metric by group (rows are areas)."""
    metrics = {name: _ratio_of_sums(num, den) for name, (num, den, _) in METRICS.items()}
    params = {name: {num: stats[num].to_numpy(), den: stats[den].to_numpy()} for name, (num, den, _) in METRICS.items()}
    return MetricFrame(
        metrics=metrics,
        y_true=stats["actual"].to_numpy(),
        y_pred=stats["actual"].to_numpy(),
        sensitive_features=groups.rename(groups.name),
        sample_params=params,
    )


def bootstrap(stats: pd.DataFrame, groups: pd.Series, *, replicates: int, seed: int) -> dict[str, np.ndarray]:
    """Each metric for each (replicate, group): arrays of shape (replicates, groups), groups in sorted order."""
    codes, levels = pd.factorize(groups, sort=True)
    n, g = len(stats), len(levels)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, n, size=(replicates, n))
    bins = (np.arange(replicates)[:, None] * g + codes[picks]).ravel()
    sums = {
        s: np.bincount(bins, weights=stats[s].to_numpy()[picks].ravel(), minlength=replicates * g).reshape(
            replicates, g
        )
        for s in STATS
    }
    with np.errstate(divide="ignore", invalid="ignore"):
        return {name: np.where(sums[den] > 0, sums[num] / sums[den], np.nan) for name, (num, den, _) in METRICS.items()}
