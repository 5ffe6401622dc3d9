"""Prediction intervals by split conformal calibration on backtest residuals.

Residuals are taken on the log scale, r = log(1 + actual) - log(1 + forecast), so an interval is a
multiplicative band around the forecast that suits counts from single digits to thousands. For
each horizon the band is the empirical (alpha/2, 1 - alpha/2) quantiles of the residuals, with the
finite-sample correction of split conformal prediction.

In the backtest a fold is only calibrated on residuals whose actuals were observed by its origin,
so the coverage it reports is honest.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.data.contract import HORIZON


def log_residuals(actual: np.ndarray, forecast: np.ndarray) -> np.ndarray:
    return np.asarray(np.log1p(np.clip(actual, 0, None)) - np.log1p(np.clip(forecast, 0, None)), dtype=float)


@dataclass(frozen=True)
class ConformalBand:
    level: float
    lower_q: float
    upper_q: float
    n: int

    @classmethod
    def fit(cls, residuals: np.ndarray, *, level: float) -> ConformalBand:
        residuals = residuals[np.isfinite(residuals)]
        n = len(residuals)
        alpha = 1 - level
        lo = max(0.0, np.floor((n + 1) * alpha / 2) / n) if n else 0.0
        hi = min(1.0, np.ceil((n + 1) * (1 - alpha / 2)) / n) if n else 1.0
        return cls(
            level=level, lower_q=float(np.quantile(residuals, lo)), upper_q=float(np.quantile(residuals, hi)), n=n
        )

    def apply(self, forecast: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        base = np.log1p(np.clip(forecast, 0, None))
        return (np.clip(np.expm1(base + self.lower_q), 0, None), np.expm1(base + self.upper_q))


def calibrate_by_horizon(residuals: pd.DataFrame, *, level: float) -> dict[int, ConformalBand]:
    """A band per horizon from a frame with columns horizon and residual."""
    return {
        int(h): ConformalBand.fit(g["residual"].to_numpy(float), level=level) for h, g in residuals.groupby(HORIZON)
    }
