"""A Poisson generalised linear model: log link, counts logged, categories one-hot encoded."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
from pydantic import Field
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import PoissonRegressor
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from sklearn.utils.validation import check_is_fitted

from features.base import FeatureInfo
from models.base import ModelSpec, check_rows, checked_target


def design(features: tuple[FeatureInfo, ...]) -> ColumnTransformer:
    """Counts -> log(1 + x), numbers -> as they are; both imputed and standardised; categories one-hot."""
    counts = [f.name for f in features if f.kind == "count"]
    numbers = [f.name for f in features if f.kind in {"numeric", "flag"}]
    categories = [f.name for f in features if f.kind == "category"]
    return ColumnTransformer(
        [
            (
                "counts",
                make_pipeline(
                    SimpleImputer(strategy="median", keep_empty_features=True),
                    FunctionTransformer(np.log1p, feature_names_out="one-to-one"),
                    StandardScaler(),
                ),
                counts,
            ),
            (
                "numbers",
                make_pipeline(SimpleImputer(strategy="median", keep_empty_features=True), StandardScaler()),
                numbers,
            ),
            ("categories", OneHotEncoder(handle_unknown="ignore", sparse_output=False), categories),
        ],
        verbose_feature_names_out=False,
    )


class GLMForecaster(RegressorMixin, BaseEstimator):  # type: ignore[misc]  # scikit-learn ships no types
    """Poisson regression with a log link on the encoded features (see `design`).

    Fitted attributes: `pipeline_` (encoder and regressor), `coef_` and `intercept_` (the
    regressor's, one coefficient per column of `design_matrix`), `n_features_in_`,
    `feature_names_in_`.
    """

    def __init__(self, features: tuple[FeatureInfo, ...] = (), *, alpha: float = 1e-4, max_iter: int = 500):
        self.features = features
        self.alpha = alpha
        self.max_iter = max_iter

    def _matrix(self, rows: pd.DataFrame, *, reset: bool) -> pd.DataFrame:
        X = check_rows(self, rows, self.features, [], reset=reset)
        return X.assign(**{c: X[c].astype(str) for c in X.columns if isinstance(X[c].dtype, pd.CategoricalDtype)})

    def fit(self, rows: pd.DataFrame, y: np.ndarray) -> GLMForecaster:
        X = self._matrix(rows, reset=True)
        y = checked_target(y, rows)
        glm = PoissonRegressor(alpha=self.alpha, max_iter=self.max_iter, solver="newton-cholesky")
        self.pipeline_ = Pipeline([("design", design(self.features)), ("glm", glm)]).fit(X, y)
        self.coef_ = glm.coef_
        self.intercept_ = float(glm.intercept_)
        return self

    def predict(self, rows: pd.DataFrame) -> np.ndarray:
        check_is_fitted(self)
        return np.asarray(self.pipeline_.predict(self._matrix(rows, reset=False)), dtype=float)

    def design_matrix(self, rows: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
        """The encoded design matrix, on which log(forecast) = intercept_ + matrix @ coef_, and for
        each of its columns the feature it came from."""
        check_is_fitted(self)
        encoder = self.pipeline_.named_steps["design"]
        matrix = encoder.transform(self._matrix(rows, reset=False))
        origins: list[str] = []
        for name, transformer, columns in encoder.transformers_:
            if name == "categories" and len(columns):
                origins += [col for col, cats in zip(columns, transformer.categories_, strict=True) for _ in cats]
            elif name != "remainder":
                origins += list(columns)
        return np.asarray(matrix, dtype=float), origins


class PoissonGLM(ModelSpec):
    """Poisson regression with a log link on the experiment's features."""

    model: ClassVar[str] = "poisson_glm"
    kind: ClassVar = "glm"
    explainer: ClassVar = "linear"
    alpha: float = Field(default=1e-4, ge=0)
    max_iter: int = Field(default=500, ge=10)

    def make(self, *, features: tuple[FeatureInfo, ...], seed: int) -> GLMForecaster:
        return GLMForecaster(features, alpha=self.alpha, max_iter=self.max_iter)
