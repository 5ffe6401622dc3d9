"""LightGBM forecasters with count objectives and target transforms."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import lightgbm as lgb
import numpy as np
import pandas as pd
from pydantic import Field, model_validator
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from features.base import FeatureInfo
from models.base import ModelSpec, check_rows, checked_target, openmp_threads
from models.transforms import Attribution, Difference, Identity, Link, Log1p, Margin, Ratio, TargetTransform

Objective = Literal["poisson", "tweedie", "l2"]
LINKS: dict[str, Link] = {"poisson": "log", "tweedie": "log", "l2": "identity"}


class LightGBMForecaster(RegressorMixin, BaseEstimator):  # type: ignore[misc]  # scikit-learn ships no types
    """LightGBM on a transform of the target, fitted on feature-table rows.

    `target_transform` (default `Identity()`) decides what the trees learn. Fitted attributes:
    `transform_` (the fitted target transform), `regressor_` (the fitted
    `lgb.LGBMRegressor`, whose raw margin is on `link_`), `n_features_in_`, `feature_names_in_`.
    It never sets a thread count: the engine limits threads.
    """

    def __init__(
        self,
        features: tuple[FeatureInfo, ...] = (),
        *,
        target_transform: TargetTransform | None = None,
        objective: Objective = "poisson",
        n_estimators: int = 100,
        learning_rate: float = 0.15,
        num_leaves: int = 15,
        min_child_samples: int = 20,
        subsample: float = 0.8,
        colsample_bytree: float = 0.8,
        reg_lambda: float = 1.0,
        tweedie_variance_power: float = 1.5,
        random_state: int | None = None,
    ):
        self.features = features
        self.target_transform = target_transform
        self.objective = objective
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.tweedie_variance_power = tweedie_variance_power
        self.random_state = random_state

    def _regressor(self) -> lgb.LGBMRegressor:
        params: dict[str, Any] = dict(
            objective=self.objective,
            n_estimators=self.n_estimators,
            learning_rate=self.learning_rate,
            num_leaves=self.num_leaves,
            min_child_samples=self.min_child_samples,
            subsample=self.subsample,
            subsample_freq=1,
            colsample_bytree=self.colsample_bytree,
            reg_lambda=self.reg_lambda,
            random_state=self.random_state,
            verbose=-1,
            deterministic=True,
            force_row_wise=True,
            # LightGBM 4 takes every physical core unless told otherwise, whatever OpenMP's settings;
            # the engine decides how many threads a fit may use (see `openmp_threads`).
            n_jobs=openmp_threads(),
        )
        if self.objective == "tweedie":
            params["tweedie_variance_power"] = self.tweedie_variance_power
        return lgb.LGBMRegressor(**params)

    def fit(self, rows: pd.DataFrame, y: np.ndarray) -> LightGBMForecaster:
        if self.objective not in LINKS:
            raise ValueError(f"objective '{self.objective}' is not one of {sorted(LINKS)}")
        transform = self.target_transform if self.target_transform is not None else Identity()
        X = check_rows(self, rows, self.features, transform.reference_columns(), reset=True)
        y = checked_target(y, rows)
        self.link_: Link = LINKS[self.objective]
        self.transform_ = transform.fit(y, rows=rows)
        z = self.transform_.transform(y, rows=rows)
        usable = np.isfinite(z)
        self.regressor_ = self._regressor().fit(X[usable], z[usable])
        return self

    def predict(self, rows: pd.DataFrame) -> np.ndarray:
        check_is_fitted(self)
        X = check_rows(self, rows, self.features, self.transform_.reference_columns(), reset=False)
        margin_scale = np.asarray(self.regressor_.predict(X), dtype=float)
        return self.transform_.inverse_transform(margin_scale, rows=rows)

    def explain_margin(self, margin: Margin, *, rows: pd.DataFrame, background: pd.DataFrame) -> Attribution:
        """SHAP values of `regressor_`'s raw margin carried onto the scale where they add up (see
        `TargetTransform.attribute`)."""
        check_is_fitted(self)
        return self.transform_.attribute(margin, rows=rows, background=background)


class LightGBM(ModelSpec):
    """Gradient-boosted trees. `objective` poisson or tweedie suits counts (log link); `transform`
    lets the trees follow a trend (see models/transforms.py)."""

    model: ClassVar[str] = "lightgbm"
    kind: ClassVar = "tree"
    explainer: ClassVar = "tree"
    objective: Objective = "poisson"
    transform: Literal["none", "log", "difference", "ratio"] = "none"
    ratio_window: int = Field(default=4, ge=1)
    # 100 trees at 0.15 rather than 300 at 0.05: a third of the fitting and of the TreeSHAP time, for
    # MASE within 0.6% on the default, trending and county experiments (see the README's engine section).
    n_estimators: int = Field(default=100, ge=1)
    learning_rate: float = Field(default=0.15, gt=0)
    num_leaves: int = Field(default=15, ge=2)
    min_child_samples: int = Field(default=20, ge=1)
    subsample: float = Field(default=0.8, gt=0, le=1)
    colsample_bytree: float = Field(default=0.8, gt=0, le=1)
    reg_lambda: float = Field(default=1.0, ge=0)
    tweedie_variance_power: float = Field(default=1.5, gt=1, lt=2)

    def target_transform(self) -> TargetTransform:
        """The transform object the YAML value names."""
        transforms: dict[str, TargetTransform] = {
            "none": Identity(),
            "log": Log1p(),
            "difference": Difference(),
            "ratio": Ratio(window=self.ratio_window),
        }
        return transforms[self.transform]

    @model_validator(mode="after")
    def _objective_fits_transform(self) -> LightGBM:
        if self.objective != "l2" and not self.target_transform().suits_count_objective:
            raise ValueError(
                f"objective '{self.objective}' needs a non-negative target on the count scale; "
                f"with transform '{self.transform}' use objective 'l2'"
            )
        return self

    def default_name(self) -> str:
        return f"lightgbm_{self.objective}_{self.transform}"

    def reference_windows(self) -> set[int]:
        return self.target_transform().reference_windows()

    def make(self, *, features: tuple[FeatureInfo, ...], seed: int) -> LightGBMForecaster:
        return LightGBMForecaster(
            features,
            target_transform=self.target_transform(),
            **self.model_dump(exclude={"name", "transform", "ratio_window"}),
            random_state=seed,
        )
