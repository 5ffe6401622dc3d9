"""From SHAP values on the model's scale to what a reader sees: households and percentages.

- Households: on the log scales a contribution v is turned into households by multiplying it by
  the logarithmic mean of the forecast and the base forecast, L(a, b) = (a - b) / (ln a - ln b)
  (a and b are 1 + forecast and 1 + base on the log1p scale). The allocations then add up exactly
  to forecast minus base forecast, share the change in proportion to the log contributions, and
  stay finite when contributions cancel. On the identity scale a contribution already is households.
- Percent: how much higher (or lower) the forecast is than it would be with that feature, or that
  group of features, at its average: exp(v) - 1 on the log scales (contributions multiply), and
  households / (forecast - households) on the identity scale.

Grouping features into concepts adds their values on the model's scale first, then translates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # the explainer of a combination reads these units, so they import no explainer
    from workbench.explain.values import AdditiveExplanation


def _to_households(scale: str, values: np.ndarray) -> np.ndarray:
    if scale == "log":
        return np.asarray(np.exp(values), dtype=float)
    if scale == "log1p":
        return np.asarray(np.expm1(values), dtype=float)
    return values


def base_forecast(explanation: AdditiveExplanation) -> np.ndarray:
    return _to_households(explanation.scale, explanation.base)


def model_forecast(explanation: AdditiveExplanation) -> np.ndarray:
    """The forecast the explanation adds up to (before any clipping at zero)."""
    return _to_households(explanation.scale, explanation.output)


def _log_mean(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (a - b) / (np.log(a) - np.log(b))
    return np.where(np.isclose(a, b), a, out)


def households(explanation: AdditiveExplanation, values: pd.DataFrame | None = None) -> pd.DataFrame:
    values = explanation.values if values is None else values
    if explanation.scale == "identity":
        return values.copy()
    shift = 1.0 if explanation.scale == "log1p" else 0.0
    factor = _log_mean(model_forecast(explanation) + shift, base_forecast(explanation) + shift)
    return values.mul(factor, axis=0)


def percent(explanation: AdditiveExplanation, values: pd.DataFrame | None = None) -> pd.DataFrame:
    values = explanation.values if values is None else values
    if explanation.scale != "identity":
        return np.expm1(values) * 100
    forecast = model_forecast(explanation)
    with np.errstate(divide="ignore", invalid="ignore"):
        return values.apply(lambda col: col / (forecast - col) * 100)


def by_concept(explanation: AdditiveExplanation) -> pd.DataFrame:
    """Values summed within each concept, on the model's scale."""
    concepts = [explanation.concepts.get(c, c) for c in explanation.values.columns]
    return explanation.values.T.groupby(concepts, sort=False).sum().T
