"""A Poisson generalised linear model: log link, counts logged, categories one-hot encoded."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
from pydantic import Field
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import PoissonRegressor
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from features.base import FeatureInfo
from models.base import ModelSpec, feature_matrix


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


class _GLMForecaster:
    def __init__(self, features: tuple[FeatureInfo, ...], alpha: float, max_iter: int):
        self.features = features
        self.pipeline = Pipeline(
            [
                ("design", design(features)),
                ("glm", PoissonRegressor(alpha=alpha, max_iter=max_iter, solver="newton-cholesky")),
            ]
        )

    def _matrix(self, rows: pd.DataFrame) -> pd.DataFrame:
        X = feature_matrix(rows, self.features)
        return X.assign(**{c: X[c].astype(str) for c in X.columns if isinstance(X[c].dtype, pd.CategoricalDtype)})

    def fit(self, rows: pd.DataFrame, y: np.ndarray) -> _GLMForecaster:
        self.pipeline.fit(self._matrix(rows), y)
        return self

    def predict(self, rows: pd.DataFrame) -> np.ndarray:
        return self.pipeline.predict(self._matrix(rows))

    def design(self, rows: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
        """The encoded design matrix and, for each of its columns, the feature it came from."""
        encoder = self.pipeline.named_steps["design"]
        matrix = encoder.transform(self._matrix(rows))
        origins: list[str] = []
        for name, transformer, columns in encoder.transformers_:
            if name == "categories" and len(columns):
                origins += [col for col, cats in zip(columns, transformer.categories_, strict=True) for _ in cats]
            elif name != "remainder":
                origins += list(columns)
        return np.asarray(matrix, dtype=float), origins

    @property
    def coefficients(self) -> tuple[np.ndarray, float]:
        glm = self.pipeline.named_steps["glm"]
        return glm.coef_, float(glm.intercept_)


class PoissonGLM(ModelSpec):
    """Poisson regression with a log link on the experiment's features."""

    model: ClassVar[str] = "poisson_glm"
    kind: ClassVar = "glm"
    explainer: ClassVar = "linear"
    alpha: float = Field(default=1e-4, ge=0)
    max_iter: int = Field(default=500, ge=10)

    def make(self, *, features, seed):
        return _GLMForecaster(features, self.alpha, self.max_iter)
