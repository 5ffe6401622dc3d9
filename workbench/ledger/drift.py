"""Drift: are the inputs still like the training window, and are live errors still like the backtest's?

Input drift is the population stability index (PSI) of each numeric feature, live rows against the
training window, over ten bins cut at the training window's deciles:

    PSI = Σ (live_share - train_share) * ln(live_share / train_share)

A share of zero is floored at 1e-4 so an empty bin counts without dividing by zero. Conventional
reading: below 0.1 stable, 0.1 to 0.25 some shift, above 0.25 a major shift.

Performance drift compares a period's live WAPE with a 95% prediction interval from the backtest's
per-origin WAPE (mean ± t * sd * sqrt(1 + 1/n)), and the live interval coverage with a 95% binomial
interval around the backtest coverage for that many areas (normal approximation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from workbench.data.contract import TARGET_PERIOD

FLOOR = 1e-4
BINS = 10


def psi(reference: np.ndarray, live: np.ndarray, *, bins: int = BINS) -> float:
    reference = reference[np.isfinite(reference)]
    live = live[np.isfinite(live)]
    if len(reference) == 0 or len(live) == 0:
        return float("nan")
    edges = np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)[1:-1]))
    ref_share = np.bincount(np.searchsorted(edges, reference, side="right"), minlength=len(edges) + 1) / len(reference)
    live_share = np.bincount(np.searchsorted(edges, live, side="right"), minlength=len(edges) + 1) / len(live)
    ref_share, live_share = np.clip(ref_share, FLOOR, None), np.clip(live_share, FLOOR, None)
    return float(np.sum((live_share - ref_share) * np.log(live_share / ref_share)))


def psi_table(reference: pd.DataFrame, live: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    """PSI of each numeric feature; non-numeric features (categories such as region) are left out."""
    rows = []
    for name in features:
        if name in reference and pd.api.types.is_numeric_dtype(reference[name]):
            rows.append(
                {
                    "feature": name,
                    "psi": psi(reference[name].to_numpy(float), live[name].to_numpy(float)),
                    "train_rows": len(reference),
                    "live_rows": len(live),
                }
            )
    return pd.DataFrame(rows, columns=["feature", "psi", "train_rows", "live_rows"])


@dataclass(frozen=True)
class DriftCheck:
    """A live figure, the range the backtest leads us to expect, and whether it is outside."""

    measure: str
    period: str
    live: float
    expected: float
    low: float
    high: float

    @property
    def outside(self) -> bool:
        return bool(self.live > self.high or self.live < self.low)

    def sentence(self) -> str:
        return (
            f"{self.measure} in {self.period} was {self.live:.3f}; the backtest leads us to expect "
            f"{self.expected:.3f} (95% range {self.low:.3f} to {self.high:.3f})"
        )


def wape_check(period: str, live: float, fold_wapes: list[float]) -> DriftCheck | None:
    folds = np.asarray([w for w in fold_wapes if np.isfinite(w)], dtype=float)
    if len(folds) < 2:
        return None
    mean, sd, n = folds.mean(), folds.std(ddof=1), len(folds)
    half = stats.t.ppf(0.975, n - 1) * sd * np.sqrt(1 + 1 / n)
    return DriftCheck("WAPE", period, live, float(mean), float(max(mean - half, 0.0)), float(mean + half))


def coverage_check(period: str, live: float, expected: float, areas: int) -> DriftCheck | None:
    if not np.isfinite(expected) or areas < 1:
        return None
    half = 1.96 * np.sqrt(expected * (1 - expected) / areas)
    return DriftCheck(
        "Interval coverage", period, live, expected, float(max(expected - half, 0.0)), float(min(expected + half, 1.0))
    )


def performance_check(metrics: pd.DataFrame, *, fold_wapes: list[float], backtest_coverage: float) -> list[DriftCheck]:
    """Checks for the latest scored period. Coverage above its range is no harm, so only a shortfall counts."""
    if metrics.empty:
        return []
    last = metrics.sort_values(TARGET_PERIOD).iloc[-1]
    period = str(last[TARGET_PERIOD])
    checks = [
        wape_check(period, float(last["wape"]), fold_wapes),
        coverage_check(period, float(last["coverage"]), backtest_coverage, int(last["areas"])),
    ]
    return [c for c in checks if c is not None]
