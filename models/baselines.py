"""Baselines every candidate must beat: the last value, the same period last year, the recent mean.

They read the reference columns that the feature table always carries, so they need no features.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
from pydantic import Field
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from features.base import FeatureInfo
from models.base import ModelSpec, check_rows, checked_target

LAST = "ref_last"


class ReferenceForecaster(RegressorMixin, BaseEstimator):  # type: ignore[misc]  # scikit-learn ships no types
    """Copies a reference column of the feature-table rows, falling back to the last value
    (`ref_last`) where it is missing. It learns nothing; `fit` checks the rows carry the columns.

    Fitted attributes: `n_features_in_` (0: it reads no features).
    """

    def __init__(self, column: str = LAST):
        self.column = column

    def _references(self) -> list[str]:
        return list(dict.fromkeys([self.column, LAST]))

    def fit(self, rows: pd.DataFrame, y: np.ndarray) -> ReferenceForecaster:
        check_rows(self, rows, (), self._references(), reset=True)
        checked_target(y, rows)
        return self

    def predict(self, rows: pd.DataFrame) -> np.ndarray:
        check_is_fitted(self)
        check_rows(self, rows, (), self._references(), reset=False)
        return np.asarray(rows[self.column].fillna(rows[LAST]), dtype=float)


class Naive(ModelSpec):
    """The latest observed value, for every horizon."""

    model: ClassVar[str] = "naive"
    kind: ClassVar = "baseline"
    explainer: ClassVar = "baseline"

    def make(self, *, features: tuple[FeatureInfo, ...], seed: int) -> ReferenceForecaster:
        return ReferenceForecaster(LAST)


class SeasonalNaive(ModelSpec):
    """The value in the same period a year before the forecast period (the latest such observed)."""

    model: ClassVar[str] = "seasonal_naive"
    kind: ClassVar = "baseline"
    explainer: ClassVar = "baseline"

    def make(self, *, features: tuple[FeatureInfo, ...], seed: int) -> ReferenceForecaster:
        return ReferenceForecaster("ref_same_period_last_year")


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

    def make(self, *, features: tuple[FeatureInfo, ...], seed: int) -> ReferenceForecaster:
        return ReferenceForecaster(f"ref_recent_mean_w{self.window}")
