"""Backtest rows whose noise drifts from one origin to the next, for the calibration-window tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.backtest import Fold

START = pd.Period("2000", "Y")


def folds(n: int) -> tuple[Fold, ...]:
    return tuple(Fold(k, START + k) for k in range(n))


def drifting(
    n_folds: int, *, areas: int = 1000, decay: float = 1.0, seed: int = 0, candidate: str = "m"
) -> pd.DataFrame:
    """Horizon-1 predictions of one candidate whose log-scale noise shrinks by `decay` from one origin
    to the next (1.0: no drift), larger for small areas."""
    rng = np.random.default_rng(seed)
    size = np.exp(rng.uniform(0, 7, areas))
    parts = []
    for k in range(n_folds):
        forecast = size * np.exp(rng.normal(0, 0.05, areas))
        sigma = (1 / np.sqrt(size) + 0.05) * decay**k
        actual = forecast * np.exp(rng.normal(0, sigma))
        parts.append(
            pd.DataFrame(
                {"candidate": candidate, "fold": k, "origin": START + k, "area_code": np.arange(areas), "horizon": 1}
                | {"actual": actual, "forecast": forecast, "scale": 1.0, "size": size}
            )
        )
    return pd.concat(parts, ignore_index=True)
