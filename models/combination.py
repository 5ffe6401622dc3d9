"""Forecast combination: the mean, the median or an inverse-error weighted mean of the best `k`
other candidates.

A combination learns nothing from the feature table itself. Which candidates it combines, and with
what weights, is chosen from the backtest's predictions, fold by fold and only on folds whose
actuals were known at the fold's origin (`workbench/combination.py`). This module holds what an
experiment declares (`Combination`) and what forecasts (`CombinationForecaster`, which wraps its
members' fitted forecasters, so it can be logged and served like any other model).

Explanation: the combined forecast is a weighted sum of its members' forecasts, row by row (the
median too: it puts its weight on the middle member, or halves it between the two middle ones), so
it is explained as the same weighted sum of the members' SHAP values, each carried into the
target's units first (`workbench/explain/values.py`). A member explained as what it is (a baseline
or a per-series model) adds its weighted forecast to the base.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Literal

import numpy as np
import pandas as pd
from pydantic import Field, field_validator
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.utils.validation import check_is_fitted

from features.base import FeatureInfo
from models.base import Forecaster, ModelSpec

How = Literal["mean", "median", "inverse_error"]
BEST = "best"
OF_RULE = "write 'best' (every model that is not a baseline) or a list of candidate names, each once"
NOT_FITTED_ON_ROWS = (
    "a combination is not fitted on feature-table rows: its members and weights are chosen from the "
    "backtest's predictions (workbench/combination.py) and it wraps the members' fitted forecasters"
)


class Combination(ModelSpec):
    """The `k` candidates with the best past error among the pool, combined by `how`.

    `of: best` pools every candidate that is neither a baseline nor a combination; a list of
    candidate names pools those. `how: inverse_error` weighs each member by the inverse of its
    selection score on the earlier folds."""

    model: ClassVar[str] = "combination"
    kind: ClassVar = "combination"
    explainer: ClassVar = "combination"
    of: str | list[str] = BEST
    k: int = Field(default=3, ge=1)
    how: How = "mean"

    @field_validator("of")
    @classmethod
    def _best_or_names(cls, value: str | list[str]) -> str | list[str]:
        if (isinstance(value, str) and value != BEST) or (
            isinstance(value, list) and (not value or len(set(value)) < len(value))
        ):
            raise ValueError(OF_RULE)
        return value

    def default_name(self) -> str:
        return f"combination_{self.how}_best{self.k}"

    def pool(self, candidates: Sequence[ModelSpec]) -> list[str]:
        """The candidates this combination chooses its members from, in the experiment's order."""
        if self.of == BEST:
            return [m.candidate for m in candidates if not m.is_baseline and m.kind != "combination"]
        present = {m.candidate for m in candidates}
        return [name for name in self.of if name in present]

    def describe(self) -> str:
        return describe_combination(self.how, [f"the {self.k} best candidates"], None)

    def make(self, *, features: tuple[FeatureInfo, ...], seed: int) -> Forecaster:
        raise TypeError(NOT_FITTED_ON_ROWS)


def describe_combination(how: str, members: Sequence[str], weights: Sequence[float] | None) -> str:
    """The method in words, e.g. "a mean of the 3 best candidates: a, b and c"."""
    names = list(members)
    if weights is not None and how == "inverse_error":
        names = [f"{m} ({w:.0%})" for m, w in zip(members, weights, strict=True)]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    what = {"mean": "a mean", "median": "a median", "inverse_error": "a mean weighted by inverse past error"}[how]
    if weights is None:
        return f"{what} of {listed}"
    if len(names) == 1:
        return f"{what} of one candidate, the best: {listed}"
    return f"{what} of the {len(names)} best candidates: {listed}"


def row_weights(predictions: np.ndarray, *, how: str, weights: Sequence[float]) -> np.ndarray:
    """Each row's weight on each member (rows x members, each row summing to one): the given
    weights, or for the median, the middle member (half each on the two middle ones)."""
    n, m = predictions.shape
    if how != "median":
        w = np.asarray(weights, dtype=float)
        return np.broadcast_to(w / w.sum(), (n, m)).copy()
    order = np.argsort(predictions, axis=1, kind="stable")
    out = np.zeros((n, m))
    middle = [m // 2] if m % 2 else [m // 2 - 1, m // 2]
    for position in middle:
        out[np.arange(n), order[:, position]] += 1 / len(middle)
    return out


def combine_forecasts(predictions: np.ndarray, *, how: str, weights: Sequence[float]) -> np.ndarray:
    """The combined forecast of each row from its members' forecasts (rows x members)."""
    return np.asarray((row_weights(predictions, how=how, weights=weights) * predictions).sum(axis=1), dtype=float)


class CombinationForecaster(RegressorMixin, BaseEstimator):  # type: ignore[misc]  # scikit-learn ships no types
    """The combination of its members' forecasts (`combine_forecasts`).

    `members` pairs each member's spec (its name, and how it is explained) with its forecaster;
    `weights` (one per member, default equal) are used by `mean` and `inverse_error`. `fit` fits a
    copy of every member on the rows; `prefit` wraps members already fitted, as the backtest and
    the final fit do.

    Fitted attributes: `members_`, (spec, fitted forecaster) pairs.
    """

    def __init__(
        self,
        members: Sequence[tuple[ModelSpec, Forecaster]] = (),
        *,
        how: How = "mean",
        weights: Sequence[float] | None = None,
    ):
        self.members = members
        self.how = how
        self.weights = weights

    @classmethod
    def prefit(
        cls, members: Sequence[tuple[ModelSpec, Forecaster]], *, how: How, weights: Sequence[float] | None = None
    ) -> CombinationForecaster:
        combined = cls(tuple(members), how=how, weights=weights)
        combined._check()
        combined.members_ = tuple(members)
        return combined

    def _check(self) -> None:
        if not self.members:
            raise ValueError("a combination needs at least one member")
        if self.weights is not None and len(self.weights) != len(self.members):
            raise ValueError(f"{len(self.weights)} weights for {len(self.members)} members; give one weight each")

    def fit(self, rows: pd.DataFrame, y: np.ndarray) -> CombinationForecaster:
        self._check()
        self.members_ = tuple((spec, clone(member, safe=False).fit(rows, y)) for spec, member in self.members)
        return self

    @property
    def member_names(self) -> list[str]:
        return [spec.candidate for spec, _ in self.members]

    @property
    def member_weights(self) -> list[float]:
        weights = np.ones(len(self.members)) if self.weights is None else np.asarray(self.weights, dtype=float)
        return list(weights / weights.sum())

    def member_predictions(self, rows: pd.DataFrame) -> np.ndarray:
        """Each member's forecast of each row (rows x members)."""
        check_is_fitted(self)
        return np.column_stack([np.asarray(member.predict(rows), dtype=float) for _, member in self.members_])

    def row_weights(self, predictions: np.ndarray) -> np.ndarray:
        return row_weights(predictions, how=self.how, weights=self.member_weights)

    def predict(self, rows: pd.DataFrame) -> np.ndarray:
        return combine_forecasts(self.member_predictions(rows), how=self.how, weights=self.member_weights)

    def describe(self) -> str:
        return describe_combination(self.how, self.member_names, self.member_weights)
