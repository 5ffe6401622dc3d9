"""What every model spec shares.

A spec is a frozen model of parameters that names its candidate, says what kind of model it is and
how it is explained, and makes a fresh `Forecaster`. A forecaster is fitted on feature-table rows
(features plus the reference columns `ref_*`) and predicts the target in its own units.

The forecasters are scikit-learn estimators: `__init__` stores parameters, `fit` validates and
returns self, fitted attributes end in `_`, and `sklearn.base.clone` makes an unfitted copy. What
the explainer may use is public and documented on each forecaster:

- tree (`models.gbm.LightGBMForecaster`): `regressor_`, the fitted LightGBM model, and
  `explain_margin(margin, rows=..., background=...)`, which asks the target transform how SHAP
  values of the raw margin add up to the forecast.
- linear (`models.glm.GLMForecaster`): `design_matrix(rows)`, with `coef_` and `intercept_` on it.
- combination (`models.combination.CombinationForecaster`): `members_`, (spec, fitted forecaster)
  pairs, `member_predictions(rows)` and `row_weights(predictions)`.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, ClassVar, Literal, Protocol

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_consistent_length, column_or_1d, validate_data

from features.base import FeatureInfo
from models.transforms import Attribution, Link, Margin

if TYPE_CHECKING:
    import lightgbm as lgb

Kind = Literal["baseline", "glm", "tree", "classical", "combination"]
Explainer = Literal["baseline", "linear", "tree", "model_agnostic", "combination"]


def openmp_threads() -> int | None:
    """The threads a fit may use, as the engine set them for this process (OMP_NUM_THREADS, one
    inside every task); None leaves the library to choose when nothing was set."""
    value = os.environ.get("OMP_NUM_THREADS", "")
    return int(value) if value.isdigit() and int(value) > 0 else None


class Forecaster(Protocol):
    def fit(self, rows: pd.DataFrame, y: np.ndarray) -> Forecaster: ...

    def predict(self, rows: pd.DataFrame) -> np.ndarray: ...


class TreeForecaster(Forecaster, Protocol):
    """What the tree explainer uses of a fitted forecaster whose spec's explainer is "tree"."""

    regressor_: lgb.LGBMRegressor
    link_: Link

    def explain_margin(self, margin: Margin, *, rows: pd.DataFrame, background: pd.DataFrame) -> Attribution: ...


class LinearForecaster(Forecaster, Protocol):
    """What the linear explainer uses of a fitted forecaster whose spec's explainer is "linear"."""

    coef_: np.ndarray
    intercept_: float

    def design_matrix(self, rows: pd.DataFrame) -> tuple[np.ndarray, list[str]]: ...


class ModelSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    model: ClassVar[str]
    kind: ClassVar[Kind]
    explainer: ClassVar[Explainer]
    name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_]+$")

    @property
    def candidate(self) -> str:
        """The candidate's name in runs and reports: `name` if given, else derived from parameters."""
        return self.name or self.default_name()

    def default_name(self) -> str:
        return self.model

    @property
    def is_baseline(self) -> bool:
        return self.kind == "baseline"

    def reference_windows(self) -> set[int]:
        """Windows of the recent-mean reference columns this model reads."""
        return set()

    def describe(self) -> str:
        """The method in words, for a model explained as what it is rather than with SHAP."""
        return self.candidate

    def make(self, *, features: tuple[FeatureInfo, ...], seed: int) -> Forecaster:
        raise NotImplementedError


def feature_matrix(rows: pd.DataFrame, features: tuple[FeatureInfo, ...]) -> pd.DataFrame:
    return rows[[f.name for f in features]]


def check_rows(
    estimator: BaseEstimator,
    rows: pd.DataFrame,
    features: tuple[FeatureInfo, ...],
    references: list[str],
    *,
    reset: bool,
) -> pd.DataFrame:
    """The feature matrix of feature-table rows, after checking that they are a frame carrying the
    features and the reference columns the estimator reads. Records (`reset`) or checks the
    feature names and count, as scikit-learn estimators do."""
    if not isinstance(rows, pd.DataFrame):
        raise TypeError(
            f"{type(estimator).__name__} takes feature-table rows (a pandas DataFrame with the feature and "
            f"reference columns), not {type(rows).__name__}"
        )
    missing = [c for c in [*(f.name for f in features), *references] if c not in rows.columns]
    if missing:
        raise ValueError(f"the rows lack the columns {missing}; build them with the experiment's feature table")
    X = feature_matrix(rows, features)
    validate_data(estimator, X, skip_check_array=True, reset=reset)
    return X


def checked_target(y: np.ndarray, rows: pd.DataFrame) -> np.ndarray:
    """The target as a 1-d float array, one value per row."""
    y = column_or_1d(y, dtype=np.float64)
    check_consistent_length(rows, y)
    return y
