"""Target transforms, so a tree model can follow a trend it could not extrapolate in levels.

A transform is an object, in the spirit of mlforecast's target transforms: `fit`, `transform` and
`inverse_transform` map the target to what the model learns and back, using the reference columns
of the same feature-table rows (what was known at the origin):

- `Identity`: the count itself.
- `Log1p`: log(1 + y).
- `Difference`: y minus the last observed value (`ref_last`).
- `Ratio(window)`: (1 + y) over (1 + the mean of the last `window` values), a multiple of the
  recent level (`ref_recent_mean_w{window}`).

The transform also owns the arithmetic of explaining it: `attribute` turns SHAP values of the
model's margin into values that add up on a forecast scale, with the reference as a contribution
of its own where the transform leans on one. The explainer asks the transform; it never
re-implements it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.base import BaseEstimator

FloatArray = npt.NDArray[np.float64]
Link = Literal["log", "identity"]  # how the model's raw margin relates to what it learns
Scale = Literal["log", "log1p", "identity"]  # the forecast scale on which an explanation adds up
LATEST_VALUE = "latest_value"  # the pseudo-feature a difference from the last value adds
RECENT_LEVEL = "recent_level"  # the pseudo-feature a ratio to the recent level adds


@dataclass(frozen=True)
class Margin:
    """SHAP values of a model's raw margin: margin = base + values.sum(axis=1) for every row."""

    link: Link
    base: float
    values: pd.DataFrame  # one column per feature
    data: pd.DataFrame  # the feature values explained


@dataclass(frozen=True)
class Attribution:
    """The margin's values carried onto `scale`: base + values.sum(axis=1) == output for every row."""

    scale: Scale
    base: FloatArray
    values: pd.DataFrame
    data: pd.DataFrame
    output: FloatArray


def _margin_output(margin: Margin) -> FloatArray:
    return np.asarray(margin.base + margin.values.to_numpy().sum(axis=1), dtype=np.float64)


class TargetTransform(BaseEstimator):  # type: ignore[misc]  # scikit-learn ships no types: its classes are Any
    """What the model learns instead of the target. Subclasses are stateless maps given the rows'
    reference columns; `fit` only checks that the rows carry them."""

    suits_count_objective: ClassVar[bool] = True  # the transformed target is a non-negative count-like quantity

    def reference_columns(self) -> list[str]:
        """The reference columns of the feature table that the transform reads."""
        return []

    def reference_windows(self) -> set[int]:
        """Windows of the recent-mean reference columns the transform reads."""
        return set()

    def fit(self, y: FloatArray, *, rows: pd.DataFrame) -> TargetTransform:
        missing = [c for c in self.reference_columns() if c not in rows.columns]
        if missing:
            raise ValueError(
                f"{type(self).__name__} reads the reference columns {missing}, which the rows do not carry; "
                "build the feature table with the model's reference windows"
            )
        return self

    def transform(self, y: FloatArray, *, rows: pd.DataFrame) -> FloatArray:
        raise NotImplementedError

    def _inverse(self, z: FloatArray, rows: pd.DataFrame) -> FloatArray:
        raise NotImplementedError

    def inverse_transform(self, z: FloatArray, *, rows: pd.DataFrame) -> FloatArray:
        """Back to the count, never below zero."""
        return np.asarray(np.clip(self._inverse(z, rows), 0, None), dtype=np.float64)

    def attribute(self, margin: Margin, *, rows: pd.DataFrame, background: pd.DataFrame) -> Attribution:
        """The margin's SHAP values on a scale where they add up to (a function of) the forecast.
        `background` is the sample the reference's contribution is measured against."""
        raise NotImplementedError

    def _refuse(self, margin: Margin) -> ValueError:
        return ValueError(f"{type(self).__name__} with a {margin.link} link adds up on no forecast scale")


class Identity(TargetTransform):
    """The count itself: the margin is the log of the forecast (log link) or the forecast."""

    def transform(self, y: FloatArray, *, rows: pd.DataFrame) -> FloatArray:
        return y

    def _inverse(self, z: FloatArray, rows: pd.DataFrame) -> FloatArray:
        return z

    def attribute(self, margin: Margin, *, rows: pd.DataFrame, background: pd.DataFrame) -> Attribution:
        scale: Scale = "log" if margin.link == "log" else "identity"
        n = len(margin.values)
        return Attribution(scale, np.full(n, margin.base), margin.values, margin.data, _margin_output(margin))


class Log1p(TargetTransform):
    """log(1 + y): the margin (identity link) is log(1 + forecast)."""

    suits_count_objective: ClassVar[bool] = False

    def transform(self, y: FloatArray, *, rows: pd.DataFrame) -> FloatArray:
        return np.asarray(np.log1p(y), dtype=np.float64)

    def _inverse(self, z: FloatArray, rows: pd.DataFrame) -> FloatArray:
        return np.asarray(np.expm1(z), dtype=np.float64)

    def attribute(self, margin: Margin, *, rows: pd.DataFrame, background: pd.DataFrame) -> Attribution:
        if margin.link != "identity":
            raise self._refuse(margin)
        n = len(margin.values)
        return Attribution("log1p", np.full(n, margin.base), margin.values, margin.data, _margin_output(margin))


class Difference(TargetTransform):
    """y minus the last observed value: forecast = margin + last value, so the last value enters
    the explanation as `latest_value`, measured against its average over the background."""

    suits_count_objective: ClassVar[bool] = False

    def reference_columns(self) -> list[str]:
        return ["ref_last"]

    def _last(self, rows: pd.DataFrame) -> FloatArray:
        return np.asarray(rows["ref_last"], dtype=np.float64)

    def transform(self, y: FloatArray, *, rows: pd.DataFrame) -> FloatArray:
        return y - self._last(rows)

    def _inverse(self, z: FloatArray, rows: pd.DataFrame) -> FloatArray:
        return self._last(rows) + z

    def attribute(self, margin: Margin, *, rows: pd.DataFrame, background: pd.DataFrame) -> Attribution:
        if margin.link != "identity":
            raise self._refuse(margin)
        last = self._last(rows)
        mean_last = float(background["ref_last"].mean())
        values = margin.values.copy()
        data = margin.data.copy()
        values[LATEST_VALUE] = last - mean_last
        data[LATEST_VALUE] = last
        n = len(values)
        return Attribution("identity", np.full(n, margin.base + mean_last), values, data, _margin_output(margin) + last)


class Ratio(TargetTransform):
    """(1 + y) / (1 + the mean of the last `window` values). With a log link,
    log(1 + forecast) = margin + log(1 + level); with an identity link,
    forecast = margin * (1 + level) - 1. Either way the level enters the explanation as
    `recent_level`, measured against its average over the background."""

    def __init__(self, window: int = 4):
        self.window = window

    @property
    def level_column(self) -> str:
        return f"ref_recent_mean_w{self.window}"

    def reference_columns(self) -> list[str]:
        return [self.level_column]

    def reference_windows(self) -> set[int]:
        return {self.window}

    def _level(self, rows: pd.DataFrame) -> FloatArray:
        return np.asarray(rows[self.level_column], dtype=np.float64)

    def transform(self, y: FloatArray, *, rows: pd.DataFrame) -> FloatArray:
        return (1 + y) / (1 + self._level(rows))

    def _inverse(self, z: FloatArray, rows: pd.DataFrame) -> FloatArray:
        return z * (1 + self._level(rows)) - 1

    def attribute(self, margin: Margin, *, rows: pd.DataFrame, background: pd.DataFrame) -> Attribution:
        level = self._level(rows)
        data = margin.data.copy()
        data[RECENT_LEVEL] = level
        n = len(level)
        output = _margin_output(margin)
        if margin.link == "log":  # log(1 + forecast) = margin + log(1 + level)
            log_level = np.log1p(level)
            mean_log_level = float(np.log1p(background[self.level_column].to_numpy(float)).mean())
            values = margin.values.copy()
            values[RECENT_LEVEL] = log_level - mean_log_level
            return Attribution("log1p", np.full(n, margin.base + mean_log_level), values, data, output + log_level)
        mean_level = float(background[self.level_column].mean())  # forecast = margin * (1 + level) - 1
        scaled = margin.values.mul(1 + level, axis=0)
        scaled[RECENT_LEVEL] = margin.base * (level - mean_level)
        base = np.full(n, margin.base * (1 + mean_level) - 1)
        return Attribution("identity", base, scaled, data, output * (1 + level) - 1)
