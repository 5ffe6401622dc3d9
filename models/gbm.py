"""LightGBM forecasters with count objectives and target transforms."""

from __future__ import annotations

from typing import ClassVar, Literal

import lightgbm as lgb
import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from models.base import ModelSpec, feature_matrix
from models.transforms import TransformName, forward, inverse


class _LightGBMForecaster:
    def __init__(self, features, *, transform: TransformName, window: int, params: dict):
        self.features = features
        self.transform = transform
        self.window = window
        self.model = lgb.LGBMRegressor(**params)

    def fit(self, rows: pd.DataFrame, y: np.ndarray) -> _LightGBMForecaster:
        z = forward(self.transform, y, rows, window=self.window)
        usable = np.isfinite(z)
        self.model.fit(feature_matrix(rows, self.features)[usable], z[usable])
        return self

    def predict_transformed(self, rows: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.model.predict(feature_matrix(rows, self.features)), dtype=float)

    def predict(self, rows: pd.DataFrame) -> np.ndarray:
        return inverse(self.transform, self.predict_transformed(rows), rows, window=self.window)


class LightGBM(ModelSpec):
    """Gradient-boosted trees. `objective` poisson or tweedie suits counts (log link); `transform`
    lets the trees follow a trend (see models/transforms.py)."""

    model: ClassVar[str] = "lightgbm"
    kind: ClassVar = "tree"
    explainer: ClassVar = "tree"
    objective: Literal["poisson", "tweedie", "l2"] = "poisson"
    transform: Literal["none", "log", "difference", "ratio"] = "none"
    ratio_window: int = Field(default=4, ge=1)
    n_estimators: int = Field(default=300, ge=1)
    learning_rate: float = Field(default=0.05, gt=0)
    num_leaves: int = Field(default=15, ge=2)
    min_child_samples: int = Field(default=20, ge=1)
    subsample: float = Field(default=0.8, gt=0, le=1)
    colsample_bytree: float = Field(default=0.8, gt=0, le=1)
    reg_lambda: float = Field(default=1.0, ge=0)
    tweedie_variance_power: float = Field(default=1.5, gt=1, lt=2)

    @model_validator(mode="after")
    def _objective_fits_transform(self) -> LightGBM:
        if self.objective != "l2" and self.transform in {"difference", "log"}:
            raise ValueError(
                f"objective '{self.objective}' needs a non-negative target on the count scale; "
                f"with transform '{self.transform}' use objective 'l2'"
            )
        return self

    def default_name(self) -> str:
        return f"lightgbm_{self.objective}_{self.transform}"

    def reference_windows(self) -> set[int]:
        return {self.ratio_window} if self.transform == "ratio" else set()

    def make(self, *, features, seed):
        params = dict(
            objective=self.objective,
            n_estimators=self.n_estimators,
            learning_rate=self.learning_rate,
            num_leaves=self.num_leaves,
            min_child_samples=self.min_child_samples,
            subsample=self.subsample,
            subsample_freq=1,
            colsample_bytree=self.colsample_bytree,
            reg_lambda=self.reg_lambda,
            random_state=seed,
            verbose=-1,
            deterministic=True,
            force_row_wise=True,
        )
        if self.objective == "tweedie":
            params["tweedie_variance_power"] = self.tweedie_variance_power
        return _LightGBMForecaster(features, transform=self.transform, window=self.ratio_window, params=params)
