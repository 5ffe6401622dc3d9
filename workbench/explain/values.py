"""SHAP values for every kind of candidate, on a scale where they add up exactly.

Each explanation is additive on the model's own scale:

- `log`: LightGBM with a Poisson or Tweedie objective on counts, and the Poisson GLM, explain the
  log of the forecast (the log-link margin). Contributions multiply the forecast.
- `log1p`: models whose forecast is a multiple of the recent level (`ratio` transform with a count
  objective) or that learn log(1 + y) explain log(1 + forecast). The recent level itself enters as
  a contribution named `recent_level` (concept "recent demand"), measured against its average.
- `identity`: models that learn the count, a difference from the last value (`latest_value` then
  enters as a contribution) or a ratio on a squared-error objective, and model-agnostic
  explanations, explain the forecast in households directly. So do combinations: each member's
  values are carried into households (`units.households`) and weighted as the member's forecast is
  in the combination; a member explained as what it is adds its weighted forecast to the base.

For every row, base + sum(values) equals the model output on that scale (the additivity check).
`workbench/explain/units.py` turns values into households and percentages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd

from features.base import FeatureInfo
from models.base import Forecaster, LinearForecaster, ModelSpec, TreeForecaster
from models.combination import CombinationForecaster
from models.transforms import LATEST_VALUE, RECENT_LEVEL, Attribution, Margin, Scale
from workbench.data.contract import AREA, HORIZON, ORIGIN, TARGET_PERIOD
from workbench.explain.units import base_forecast, households, model_forecast

RECENT_DEMAND = "recent demand"
KEYS = [AREA, ORIGIN, HORIZON, TARGET_PERIOD]


@dataclass(frozen=True)
class AdditiveExplanation:
    keys: pd.DataFrame  # area_code, origin, horizon, target_period
    scale: Scale
    base: np.ndarray  # per row, on the scale
    values: pd.DataFrame  # one column per feature (and pseudo-feature), on the scale
    data: pd.DataFrame  # the feature values explained (for plots)
    output: np.ndarray  # model output on the scale
    forecast: np.ndarray  # the forecast the user sees, in households
    concepts: dict[str, str]
    method: str

    @property
    def additivity_error(self) -> np.ndarray:
        return np.asarray(np.abs(self.base + self.values.to_numpy().sum(axis=1) - self.output), dtype=float)

    def take(self, mask: np.ndarray) -> AdditiveExplanation:
        return AdditiveExplanation(
            self.keys[mask].reset_index(drop=True),
            self.scale,
            self.base[mask],
            self.values[mask].reset_index(drop=True),
            self.data[mask].reset_index(drop=True),
            self.output[mask],
            self.forecast[mask],
            self.concepts,
            self.method,
        )


def concat(parts: list[AdditiveExplanation]) -> AdditiveExplanation:
    """One explanation of every part's rows. A column that only some parts have (a combination's
    members differ between folds, and with them the transforms' pseudo-features) is zero elsewhere."""
    first = parts[0]
    columns = list(dict.fromkeys(c for p in parts for c in p.values.columns))
    return AdditiveExplanation(
        pd.concat([p.keys for p in parts], ignore_index=True),
        first.scale,
        np.concatenate([p.base for p in parts]),
        pd.concat([p.values.reindex(columns=columns, fill_value=0.0) for p in parts], ignore_index=True),
        pd.concat([p.data for p in parts], ignore_index=True),
        np.concatenate([p.output for p in parts]),
        np.concatenate([p.forecast for p in parts]),
        first.concepts,
        first.method,
    )


def _keys(rows: pd.DataFrame) -> pd.DataFrame:
    return rows[KEYS].reset_index(drop=True)


def tree_shap(regressor: Any, X: pd.DataFrame) -> tuple[float, np.ndarray]:
    """Path-dependent TreeSHAP values of a fitted tree model on its raw margin, and their base value.
    A LightGBM model computes them itself (`pred_contrib`), which is what shap's TreeExplainer calls
    for LightGBM, so shap is imported only for other tree models."""
    booster = getattr(regressor, "booster_", None)
    if booster is not None and type(booster).__module__.startswith("lightgbm"):
        phi = np.asarray(booster.predict(X, pred_contrib=True), dtype=np.float64)
        return float(phi[0, -1]), phi[:, :-1]
    import shap

    explained = shap.TreeExplainer(regressor)(X)
    return float(np.ravel(explained.base_values)[0]), np.asarray(explained.values)


def _tree(
    forecaster: TreeForecaster, rows: pd.DataFrame, background: pd.DataFrame, features: tuple[FeatureInfo, ...]
) -> Attribution:
    """TreeSHAP on the forecaster's raw margin, carried onto a forecast scale by the forecaster's
    target transform (`explain_margin`)."""
    names = [f.name for f in features]
    X = rows[names]
    base, values = tree_shap(forecaster.regressor_, X)
    margin = Margin(
        link=forecaster.link_,
        base=base,
        values=pd.DataFrame(values, columns=names),
        data=X.reset_index(drop=True).copy(),
    )
    return forecaster.explain_margin(margin, rows=rows, background=background)


def _linear(
    forecaster: LinearForecaster, rows: pd.DataFrame, background: pd.DataFrame, features: tuple[FeatureInfo, ...]
) -> Attribution:
    """Linear SHAP on the design matrix (log of the forecast), summed back to each feature."""
    import shap

    design, origins = forecaster.design_matrix(rows)
    design_background, _ = forecaster.design_matrix(background)
    coef, intercept = forecaster.coef_, forecaster.intercept_
    explainer = shap.LinearExplainer(
        (coef, intercept), shap.maskers.Independent(design_background, max_samples=len(design_background))
    )
    phi_design = np.asarray(explainer.shap_values(design))
    names = [f.name for f in features]
    phi = pd.DataFrame(phi_design, columns=origins).T.groupby(level=0).sum().T.reindex(columns=names, fill_value=0.0)
    base = float(np.ravel(explainer.expected_value)[0])
    output = intercept + design @ coef
    return Attribution("log", np.full(len(rows), base), phi, rows[names].reset_index(drop=True), output)


def _model_agnostic(
    forecaster: Forecaster,
    rows: pd.DataFrame,
    background: pd.DataFrame,
    features: tuple[FeatureInfo, ...],
    *,
    seed: int,
    max_evals: int,
) -> Attribution:
    """Permutation SHAP on the forecast in households, one row at a time (the row's reference
    columns stay with it), against a small sample of the training rows."""
    import shap

    names = [f.name for f in features]
    categories = {f.name: list(rows[f.name].cat.categories) for f in features if f.kind == "category"}

    def encode(frame: pd.DataFrame) -> np.ndarray:
        return np.column_stack(
            [frame[n].cat.codes.to_numpy(float) if n in categories else frame[n].to_numpy(float) for n in names]
        )

    def decode(matrix: np.ndarray, context: pd.Series) -> pd.DataFrame:
        out = pd.DataFrame(matrix, columns=names)
        for name, cats in categories.items():
            out[name] = pd.Categorical.from_codes(
                np.clip(out[name].fillna(-1).astype(int), -1, len(cats) - 1), categories=cats
            )
        for column, value in context.items():
            out[column] = value
        return out

    rng = np.random.default_rng(seed)
    sample = background.iloc[rng.choice(len(background), size=min(100, len(background)), replace=False)]
    masker = shap.maskers.Independent(encode(sample), max_samples=len(sample))
    references = [c for c in rows.columns if c.startswith("ref_")]
    encoded = encode(rows)
    values, bases = [], []
    for i in range(len(rows)):
        context = rows.iloc[i][references]
        explainer = shap.PermutationExplainer(lambda m, c=context: forecaster.predict(decode(m, c)), masker, seed=seed)
        result = explainer(encoded[i : i + 1], max_evals=max(max_evals, 2 * len(names) + 1), silent=True)
        values.append(result.values[0])
        bases.append(float(np.ravel(result.base_values)[0]))
    phi = pd.DataFrame(np.vstack(values), columns=names)
    output = np.asarray(forecaster.predict(rows), dtype=float)
    return Attribution("identity", np.asarray(bases), phi, rows[names].reset_index(drop=True), output)


def _reusable(explanation: AdditiveExplanation | None, rows: pd.DataFrame) -> AdditiveExplanation | None:
    """`explanation`'s rows that are exactly `rows` (in order), if it explained them: all of it, or
    the rows of `rows`' origins (a backtest explanation covers every fold); None otherwise."""
    if explanation is None:
        return None
    keys = _keys(rows)
    if len(explanation.keys) != len(keys):
        explanation = explanation.take(explanation.keys["origin"].isin(keys["origin"].unique()).to_numpy())
    return explanation if explanation.keys.equals(keys) else None


def _combination(
    forecaster: CombinationForecaster,
    rows: pd.DataFrame,
    background: pd.DataFrame,
    features: tuple[FeatureInfo, ...],
    *,
    seed: int,
    max_evals: int,
    known: Mapping[str, AdditiveExplanation],
) -> Attribution:
    """The members' values in households, each row weighted as the combination weighs the member's
    forecast there; a member explained as what it is (no SHAP values) adds its forecast to the base.
    A member's explanation of these same rows in `known` is used as it is, not computed again."""
    names = [f.name for f in features]
    parts: list[AdditiveExplanation | np.ndarray] = []
    for spec, member in forecaster.members_:
        reused = _reusable(known.get(spec.candidate), rows)
        if spec.explainer == "baseline":
            parts.append(np.asarray(member.predict(rows), dtype=float))
        elif reused is not None:
            parts.append(reused)
        else:
            parts.append(
                explain_rows(
                    spec, member, rows, background=background, features=features, seed=seed, max_evals=max_evals
                )
            )
    forecasts = np.column_stack([p if isinstance(p, np.ndarray) else p.forecast for p in parts])
    weights = forecaster.row_weights(forecasts)
    base = np.zeros(len(rows))
    output = np.zeros(len(rows))
    values = pd.DataFrame(0.0, index=range(len(rows)), columns=names)
    data = rows[names].reset_index(drop=True)
    for part, w in zip(parts, weights.T, strict=True):
        if isinstance(part, np.ndarray):
            base, output = base + w * part, output + w * part
            continue
        base, output = base + w * base_forecast(part), output + w * model_forecast(part)
        amounts = households(part).mul(w, axis=0)
        for column in amounts.columns.difference(values.columns, sort=False):  # a transform's pseudo-feature
            values[column], data[column] = 0.0, part.data[column].to_numpy()
        values[amounts.columns] += amounts
    return Attribution("identity", base, values, data, output)


def explain_rows(
    spec: ModelSpec,
    forecaster: Forecaster,
    rows: pd.DataFrame,
    *,
    background: pd.DataFrame,
    features: tuple[FeatureInfo, ...],
    seed: int,
    max_evals: int = 200,
    known: Mapping[str, AdditiveExplanation] | None = None,
) -> AdditiveExplanation:
    """SHAP values for `rows` (feature-table rows) of a fitted non-baseline candidate. The spec's
    explainer says which interface its forecaster offers (see models/base.py). For a combination,
    `known` may hold its members' explanations (by candidate) of the same rows, to be reused."""
    if spec.explainer == "tree":
        parts = _tree(cast(TreeForecaster, forecaster), rows, background, features)
    elif spec.explainer == "linear":
        parts = _linear(cast(LinearForecaster, forecaster), rows, background, features)
    elif spec.explainer == "model_agnostic":
        parts = _model_agnostic(forecaster, rows, background, features, seed=seed, max_evals=max_evals)
    elif spec.explainer == "combination":
        parts = _combination(
            cast(CombinationForecaster, forecaster),
            rows,
            background,
            features,
            seed=seed,
            max_evals=max_evals,
            known=known or {},
        )
    else:
        raise ValueError(f"{spec.candidate} is a baseline: it is explained as what it is, not with SHAP")
    concepts = {f.name: f.concept for f in features} | {RECENT_LEVEL: RECENT_DEMAND, LATEST_VALUE: RECENT_DEMAND}
    forecast = np.asarray(forecaster.predict(rows), dtype=float)
    return AdditiveExplanation(
        _keys(rows),
        parts.scale,
        parts.base,
        parts.values.reset_index(drop=True),
        parts.data,
        np.asarray(parts.output, float),
        forecast,
        concepts,
        spec.explainer,
    )
