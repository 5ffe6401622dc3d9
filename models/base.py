"""What every model spec shares.

A spec is a frozen model of parameters that names its candidate, says what kind of model it is and
how it is explained, and makes a fresh `Forecaster`. A forecaster is fitted on feature-table rows
(features plus the reference columns `ref_*`) and predicts the target in its own units.
"""

from __future__ import annotations

from typing import ClassVar, Literal, Protocol

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from features.base import FeatureInfo

Kind = Literal["baseline", "glm", "tree", "classical"]
Explainer = Literal["baseline", "linear", "tree", "model_agnostic"]


class Forecaster(Protocol):
    def fit(self, rows: pd.DataFrame, y: np.ndarray) -> Forecaster: ...

    def predict(self, rows: pd.DataFrame) -> np.ndarray: ...


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

    def make(self, *, features: tuple[FeatureInfo, ...], seed: int) -> Forecaster:
        raise NotImplementedError


def feature_matrix(rows: pd.DataFrame, features: tuple[FeatureInfo, ...]) -> pd.DataFrame:
    return rows[[f.name for f in features]]
