"""What the audit measures, from backtest predictions: per-row sums by resampling unit, size bands,
the bootstrap of group sums, and fairlearn's MetricFrame for the context tables.

Every judged quantity is a ratio of sums over rows (area x period), so a unit's contribution can be
summed once and the bootstrap only re-weights units. A unit is an area (rows of one area are not
independent) or, for groups of few areas, a block of consecutive backtest origins of one area.

Row sums kept per unit (model = the audited candidate, base = the status quo it is judged against):
- actual, signed (forecast - actual), abs (|forecast - actual|)
- under (actual above the interval's upper bound) and cal (rows with an interval)
- short (actual above forecast, the shortfall)
- base_signed, base_abs, base_under, base_cal, base_short: the same for the status quo on the same rows
- context only: below (forecast below actual), covered (actual inside the interval), scaled, scaled_rows
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from workbench.data.contract import ACTUAL, AREA, HORIZON

if TYPE_CHECKING:
    from fairlearn.metrics import MetricFrame

KEYS = [AREA, "fold", HORIZON]
STATS = (
    "actual",
    "signed",
    "abs",
    "under",
    "cal",
    "base_signed",
    "base_abs",
    "base_under",
    "base_cal",
    "short",
    "base_short",
    "below",
    "covered",
    "scaled",
    "scaled_rows",
    "rows",
)
# context metric -> (numerator, denominator): shown in the groups table, never judged
CONTEXT: dict[str, tuple[str, str]] = {
    "wape": ("abs", ACTUAL),
    "mase": ("scaled", "scaled_rows"),
    "bias": ("signed", ACTUAL),
    "under_share": ("below", "rows"),
    "under_upper_share": ("under", "cal"),
    "coverage": ("covered", "cal"),
    "skill": ("short", "base_short"),
}


def row_stats(predictions: pd.DataFrame, baseline: pd.DataFrame | None) -> pd.DataFrame:
    """One row per prediction with the sums the audit needs; the status quo joined on the same rows."""
    p = predictions.reset_index(drop=True)
    if baseline is not None:
        base = baseline[[*KEYS, "forecast", "upper"]].rename(columns={"forecast": "base_f", "upper": "base_u"})
        p = p.merge(base, on=KEYS, how="inner", validate="one_to_one")
    else:  # without a status quo the model is compared with a perfectly unbiased, perfectly covered one
        p = p.assign(base_f=p[ACTUAL], base_u=np.inf)
    a, f, base_f = (p[c].to_numpy(float) for c in (ACTUAL, "forecast", "base_f"))
    cal = p["lower"].notna().to_numpy() & p["upper"].notna().to_numpy()
    base_cal = np.isfinite(p["base_u"].to_numpy(float)) | (baseline is None)
    upper, base_u = p["upper"].to_numpy(float), p["base_u"].to_numpy(float)
    scale = p["scale"].to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        scaled = np.where(scale > 0, np.abs(f - a) / scale, 0.0)
    return pd.DataFrame(
        {
            AREA: p[AREA].to_numpy(),
            "fold": p["fold"].to_numpy(),
            "actual": a,
            "signed": f - a,
            "abs": np.abs(f - a),
            "under": ((a > upper) & cal).astype(float),
            "cal": cal.astype(float),
            "base_signed": base_f - a,
            "base_abs": np.abs(base_f - a),
            "base_under": ((a > base_u) & base_cal).astype(float),
            "base_cal": base_cal.astype(float),
            "short": np.maximum(a - f, 0.0),
            "base_short": np.maximum(a - base_f, 0.0),
            "below": (a > f).astype(float),
            "covered": ((a >= p["lower"].to_numpy(float)) & (a <= upper) & cal).astype(float),
            "scaled": scaled,
            "scaled_rows": (scale > 0).astype(float),
            "rows": 1.0,
        }
    )


def unit_stats(rows: pd.DataFrame, *, block_length: int | None) -> pd.DataFrame:
    """Sums per resampling unit: per area, or per area and block of `block_length` consecutive folds."""
    if block_length is None:
        units = rows.groupby(AREA, sort=True)[list(STATS)].sum()
        return units.assign(area=units.index.to_numpy())
    order = rows["fold"].rank(method="dense").astype(int) - 1
    block = (order // block_length).astype(str)
    units = rows.assign(_unit=rows[AREA].astype(str) + "#" + block).groupby("_unit", sort=True)
    out = units[list(STATS)].sum()
    return out.assign(area=units[AREA].first().to_numpy())


def size_bands(rows: pd.DataFrame, bands: int) -> pd.Series:
    """Each area's band of size (mean actual over its backtest rows), 1 = smallest, equal-count bands."""
    size = rows.groupby(AREA, sort=True)[ACTUAL].mean()
    if bands <= 1 or size.nunique() < bands:
        return pd.Series(1, index=size.index, name="size_band")
    ranks = size.rank(method="first")
    return pd.Series(pd.qcut(ranks, bands, labels=False).astype(int) + 1, index=size.index, name="size_band")


def bootstrap_sums(
    units: pd.DataFrame, cells: np.ndarray, n_cells: int, *, replicates: int, seed: int
) -> dict[str, np.ndarray]:
    """Sums of every stat per cell: the point (first row, every unit once) then `replicates` resamples
    of units with replacement. Arrays of shape (1 + replicates, n_cells).

    Each resample is a count of how often it drew each unit, so every stat of every cell comes from
    one product: counts (resamples x units) times a sparse (units x cells*stats) matrix that holds
    each unit's stats in its cell's columns."""
    from scipy import sparse

    n, width = len(units), len(STATS)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, n, size=(replicates, n))
    counts = np.ones((replicates + 1, n))
    counts[1:] = np.bincount((np.arange(replicates)[:, None] * n + picks).ravel(), minlength=replicates * n).reshape(
        replicates, n
    )
    values = units[list(STATS)].to_numpy(float)
    by_cell = sparse.csr_matrix(
        (values.ravel(), (np.repeat(np.arange(n), width), (cells[:, None] * width + np.arange(width)).ravel())),
        shape=(n, n_cells * width),
    )
    sums = np.asarray((by_cell.T @ counts.T).T).reshape(replicates + 1, n_cells, width)
    return {s: sums[:, :, j] for j, s in enumerate(STATS)}


def _ratio_of_sums(units: pd.DataFrame, numerator: str, denominator: str) -> Callable[..., float]:
    """A fairlearn metric over unit positions: sum of `numerator` over sum of `denominator`. The
    positions come in as y_true, so fairlearn slices one integer array per group instead of every
    column through `sample_params` (which made the context tables cost seconds per run)."""
    top, bottom = units[numerator].to_numpy(float), units[denominator].to_numpy(float)

    def metric(y_true: np.ndarray, y_pred: np.ndarray) -> float:
        below = float(bottom[y_true].sum())
        return float(top[y_true].sum() / below) if below else float("nan")

    metric.__name__ = f"{numerator}_over_{denominator}"
    return metric


def metric_frame(units: pd.DataFrame, groups: pd.Series, *, control: pd.Series | None = None) -> MetricFrame:
    """fairlearn's MetricFrame of the context metrics by group (rows are units), optionally within
    size bands (`control_features`)."""
    from fairlearn.metrics import MetricFrame  # imported where it is used: a quick train runs no audit

    positions = np.arange(len(units))
    return MetricFrame(
        metrics={name: _ratio_of_sums(units, num, den) for name, (num, den) in CONTEXT.items()},
        y_true=positions,
        y_pred=positions,
        sensitive_features=groups.rename(groups.name),
        control_features=None if control is None else control.rename("size_band"),
    )
