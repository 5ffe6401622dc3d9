"""Baselines every candidate must beat: the last value, the same period last year, the recent mean.

They read the reference columns that the feature table always carries, so they need no features.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
from pydantic import Field

from models.base import ModelSpec


class _Reference:
    """A forecaster that copies a reference column (falling back to the last value where missing)."""

    def __init__(self, column: str):
        self.column = column

    def fit(self, rows: pd.DataFrame, y: np.ndarray) -> _Reference:
        return self

    def predict(self, rows: pd.DataFrame) -> np.ndarray:
        return rows[self.column].fillna(rows["ref_last"]).to_numpy(dtype=float)


class Naive(ModelSpec):
    """The latest observed value, for every horizon."""

    model: ClassVar[str] = "naive"
    kind: ClassVar = "baseline"
    explainer: ClassVar = "baseline"

    def make(self, *, features, seed):
        return _Reference("ref_last")


class SeasonalNaive(ModelSpec):
    """The value in the same period a year before the forecast period (the latest such observed)."""

    model: ClassVar[str] = "seasonal_naive"
    kind: ClassVar = "baseline"
    explainer: ClassVar = "baseline"

    def make(self, *, features, seed):
        return _Reference("ref_same_period_last_year")


class RecentMean(ModelSpec):
    """The mean of the last `window` observed values."""

    model: ClassVar[str] = "recent_mean"
    kind: ClassVar = "baseline"
    explainer: ClassVar = "baseline"
    window: int = Field(default=4, ge=1)

    def default_name(self) -> str:
        return f"recent_mean_w{self.window}"

    def reference_windows(self) -> set[int]:
        return {self.window}

    def make(self, *, features, seed):
        return _Reference(f"ref_recent_mean_w{self.window}")
