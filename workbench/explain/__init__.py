"""Explanations for every candidate: SHAP values on backtest folds and forecast rows, translated
into households and percentages, grouped into concepts, and put into sentences.

See `values.py` for the scale each kind of model is explained on, and `units.py` for how values
become households and percentages. Baselines are explained as what they are.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypedDict

import numpy as np
import pandas as pd

from features.base import FeatureInfo
from models.base import Forecaster, ModelSpec
from workbench.backtest import BacktestResult, split
from workbench.config import ExplainConfig
from workbench.data.contract import AREA, AREA_NAME, HORIZON, ORIGIN, TARGET_PERIOD, Panel
from workbench.explain.contrast import contrast, reference_rows
from workbench.explain.drivers import baseline_table, driver_table
from workbench.explain.stability import driver_stability
from workbench.explain.units import households, percent
from workbench.explain.values import AdditiveExplanation, concat, explain_rows
from workbench.explain.wording import Wording, wording_for
from workbench.featurize import FeatureTable
from workbench.fit import FinalFit

__all__ = [
    "CandidateExplanation",
    "ExplainTask",
    "explain",
    "explain_candidate",
    "explanation_task",
    "global_drivers",
    "wording_for",
]
BACKGROUND_ROWS = 2000


class Additivity(TypedDict, total=False):
    """The additivity check of a candidate's explanations (empty when nothing was explained with SHAP)."""

    max_abs_error: float
    tolerance_relative: float
    rows_checked: int
    rows_failing: int
    passed: bool
    scale: str


@dataclass(frozen=True)
class CandidateExplanation:
    candidate: str
    method: str  # tree, linear, model_agnostic or baseline
    scale: str | None  # log, log1p, identity; None for baselines
    drivers: pd.DataFrame  # one row per forecast row: top drivers and a sentence
    values: pd.DataFrame | None = None  # long: set, keys, feature, concept, value, households, percent
    importance: pd.DataFrame | None = None  # per feature
    concept_importance: pd.DataFrame | None = None
    stability: pd.DataFrame | None = None  # consecutive-origin comparisons per area
    stability_summary: dict[str, float] = field(default_factory=dict)
    additivity: Additivity = field(default_factory=lambda: Additivity())
    forecast_explanation: AdditiveExplanation | None = field(default=None, repr=False)
    backtest_explanation: AdditiveExplanation | None = field(default=None, repr=False)
    seconds: float = 0.0
    figures: dict[str, bytes] = field(default_factory=dict, repr=False)  # PNG bytes by file name
    reference_explanation: AdditiveExplanation | None = field(default=None, repr=False)

    @property
    def additivity_passed(self) -> bool:
        return bool(self.additivity.get("passed", True))

    def metrics(self) -> dict[str, float]:
        out = {"explain.seconds": self.seconds}
        if self.values is not None:
            out["explain.additivity_max_error"] = self.additivity["max_abs_error"]
            out |= {f"explain.stability.{k}": v for k, v in self.stability_summary.items()}
        return out

    def tags(self) -> dict[str, str]:
        out = {"explain.method": self.method, "explain.scale": self.scale or "none"}
        if self.values is not None:
            out["explain.additivity"] = "passed" if self.additivity_passed else "failed"
        return out


def _same_areas(rows: pd.DataFrame, limit: int, seed: int) -> pd.DataFrame:
    """At most about `limit` rows, from a seeded sample of areas that is the same at every origin,
    so each sampled area's drivers can be compared from one origin to the next."""
    areas = rows[AREA].unique()
    per_area = max(1, len(rows) // max(1, len(areas)))
    if len(rows) <= limit:
        return rows
    keep = pd.Series(sorted(areas)).sample(frac=1.0, random_state=seed).iloc[: max(1, limit // per_area)]
    return rows[rows[AREA].isin(set(keep))]


def _sample(rows: pd.DataFrame, limit: int, seed: int) -> pd.DataFrame:
    return rows if len(rows) <= limit else rows.sample(n=limit, random_state=seed)


def _long(explanation: AdditiveExplanation, which: str) -> pd.DataFrame:
    hh, pct = households(explanation), percent(explanation)
    keys = explanation.keys.assign(
        set=which,
        **{
            ORIGIN: explanation.keys[ORIGIN].astype(str),
            TARGET_PERIOD: explanation.keys[TARGET_PERIOD].astype(str),
        },
    )
    long = explanation.values.reset_index(drop=True).melt(ignore_index=False, var_name="feature", value_name="value")
    long["households"] = hh.melt(ignore_index=False)["value"].to_numpy()
    long["percent"] = pct.melt(ignore_index=False)["value"].to_numpy()
    long["concept"] = long["feature"].map(explanation.concepts)
    return keys.join(long, how="right").reset_index(drop=True)[
        [
            "set",
            AREA,
            ORIGIN,
            HORIZON,
            TARGET_PERIOD,
            "feature",
            "concept",
            "value",
            "households",
            "percent",
        ]
    ]


def _importance(explanation: AdditiveExplanation) -> tuple[pd.DataFrame, pd.DataFrame]:
    hh = households(explanation).abs().mean()
    scale = explanation.values.abs().mean()
    by_feature = pd.DataFrame(
        {
            "concept": [explanation.concepts.get(f, f) for f in scale.index],
            "mean_abs_value": scale,
            "mean_abs_amount": hh,
        }
    ).sort_values("mean_abs_amount", ascending=False)
    concepts = [explanation.concepts.get(f, f) for f in explanation.values.columns]
    grouped_values = explanation.values.T.groupby(concepts).sum().T
    by_concept = pd.DataFrame(
        {
            "mean_abs_value": grouped_values.abs().mean(),
            "mean_abs_amount": households(explanation, grouped_values).abs().mean(),
        }
    )
    return by_feature, by_concept.sort_values("mean_abs_amount", ascending=False)


@dataclass(frozen=True)
class ExplainTask:
    """One candidate's explanation job, with its rows already sampled: what a worker needs."""

    spec: ModelSpec
    features: tuple[FeatureInfo, ...]
    names: pd.Series
    level: float
    config: ExplainConfig
    seed: int
    wording: Wording
    fit: FinalFit
    background: pd.DataFrame
    references: pd.DataFrame  # feature-table rows of each forecast row's reference periods
    reference_owner: np.ndarray  # which forecast row each reference row belongs to
    folds: tuple[tuple[Forecaster, pd.DataFrame, pd.DataFrame], ...] = ()  # (fitted model, rows, background)
    figures: bool = True  # draw importance, beeswarm and dependence plots (the winner's, by default)
    # Explain each forecast against its area's reference periods (the winner's, whose sentences are
    # published, and its members' if it is a combination); without it, the sentences name the drivers
    # only, and the reference rows, four times as many as the forecast rows, are not explained.
    contrast: bool = True
    keep_references: bool = False  # keep the reference rows' explanation, for a combination to reuse


def explanation_task(
    spec: ModelSpec,
    *,
    table: FeatureTable,
    panel: Panel,
    backtest: BacktestResult,
    fit: FinalFit,
    config: ExplainConfig,
    seed: int,
    wording: Wording | None = None,
    figures: bool = True,
    contrast: bool = True,
    keep_references: bool = False,
) -> ExplainTask:
    """Choose the rows to explain (all forecast rows and their reference rows, a seeded sample of
    each fold's rows)."""
    names = panel.static_table()[AREA_NAME] if AREA_NAME in panel.spec.static else pd.Series(dtype=str)
    references, owner = (
        reference_rows(
            table.frame,
            fit.forecast_rows,
            reference=config.reference,
            periods=config.reference_periods,
            periods_per_year=panel.spec.frequency.periods_per_year,
        )
        if contrast
        else (table.frame.iloc[:0], np.zeros(0, dtype=int))
    )
    common = dict(
        spec=spec,
        features=table.features,
        names=names,
        level=backtest.level,
        config=config,
        seed=seed,
        wording=wording or Wording(),
        fit=fit,
        figures=figures,
        keep_references=keep_references,
        references=references,
        reference_owner=owner,
        contrast=contrast,
    )
    if spec.explainer == "baseline":
        return ExplainTask(**common, background=table.frame.iloc[:0])
    train = table.frame[table.frame["actual"].notna()]
    folds = []
    for fold in backtest.folds:
        fold_train, test = split(table, fold)
        folds.append(
            (
                backtest.fitted[(spec.candidate, fold.index)],
                _same_areas(test, config.max_rows_per_fold, seed),
                _sample(fold_train, BACKGROUND_ROWS, seed),
            )
        )
    return ExplainTask(**common, background=_sample(train, BACKGROUND_ROWS, seed), folds=tuple(folds))


def explain_candidate(spec: ModelSpec, **inputs: Any) -> CandidateExplanation:
    """Explain one candidate in this process (see `explanation_task` for the inputs)."""
    return explain(explanation_task(spec, **inputs))


def global_drivers(
    spec: ModelSpec, *, backtest: BacktestResult, table: FeatureTable, seed: int
) -> CandidateExplanation:
    """The cheap, global explanation of a quick train: how much each concept moves the forecasts of
    the candidate's latest backtest fit (nothing is refitted), as mean absolute SHAP amounts over that
    fold's rows. No sentences per area, no other folds, no stability and no figures; nothing for a baseline."""
    start = time.perf_counter()
    if spec.explainer == "baseline":
        return CandidateExplanation(
            spec.candidate, "baseline", None, pd.DataFrame(), seconds=time.perf_counter() - start
        )
    fold = backtest.folds[-1]
    fold_train, rows = split(table, fold)
    explained = explain_rows(
        spec,
        backtest.fitted[(spec.candidate, fold.index)],
        rows,
        background=_sample(fold_train, BACKGROUND_ROWS, seed),
        features=table.features,
        seed=seed,
    )
    importance, concept_importance = _importance(explained)
    errors = explained.additivity_error
    additivity = Additivity(max_abs_error=float(errors.max()), rows_checked=len(errors), scale=explained.scale)
    return CandidateExplanation(
        spec.candidate,
        spec.explainer,
        explained.scale,
        pd.DataFrame(),
        importance=importance,
        concept_importance=concept_importance,
        additivity=additivity,
        seconds=time.perf_counter() - start,
    )


def _pngs(*args: Any, **kwargs: Any) -> dict[str, bytes]:
    from workbench.explain.figures import explanation_pngs  # matplotlib and shap's plots, only when drawn

    return explanation_pngs(*args, **kwargs)


def explain(task: ExplainTask, members: Mapping[str, CandidateExplanation] | None = None) -> CandidateExplanation:
    """Explain one candidate. A combination reuses `members`' explanations of the same rows (its
    members' SHAP values, weighted), so only what they did not explain is computed."""
    start = time.perf_counter()
    spec, fit, config, seed = task.spec, task.fit, task.config, task.seed
    done = members or {}

    def known(which: str) -> dict[str, AdditiveExplanation]:
        return {name: e for name, m in done.items() if (e := getattr(m, which)) is not None}

    if spec.explainer == "baseline":
        drivers = baseline_table(
            spec,
            rows=fit.forecast_rows,
            forecast=fit.forecast,
            names=task.names,
            level=task.level,
            wording=task.wording,
        )
        return CandidateExplanation(spec.candidate, "baseline", None, drivers, seconds=time.perf_counter() - start)
    # every explanation of this candidate: the same spec, features, seed and budget
    rows_of = partial(explain_rows, spec, features=task.features, seed=seed, max_evals=config.max_evals)
    forecast_expl = rows_of(
        fit.forecaster, fit.forecast_rows, background=task.background, known=known("forecast_explanation")
    )
    reference_expl = (
        rows_of(fit.forecaster, task.references, background=task.background, known=known("reference_explanation"))
        if task.contrast
        else None
    )
    change = (
        contrast(
            forecast_expl,
            reference_expl,
            owner=task.reference_owner,
            actual=task.references["actual"].to_numpy(float),
        )
        if reference_expl is not None
        else None
    )
    backtest_expl = concat(
        [
            rows_of(model, rows, background=background, known=known("backtest_explanation"))
            for model, rows, background in task.folds
        ]
    )
    errors = np.concatenate([forecast_expl.additivity_error, backtest_expl.additivity_error])
    outputs = np.abs(np.concatenate([forecast_expl.output, backtest_expl.output]))
    allowed = config.additivity_tolerance * np.maximum(1.0, outputs)
    additivity: Additivity = {
        "max_abs_error": float(errors.max()),
        "tolerance_relative": config.additivity_tolerance,
        "rows_checked": len(errors),
        "rows_failing": int((errors > allowed).sum()),
        "passed": bool((errors <= allowed).all()),
        "scale": forecast_expl.scale,
    }
    forecast = fit.forecast
    drivers = driver_table(
        forecast_expl,
        rows=fit.forecast_rows,
        names=task.names,
        lower=forecast["lower"].to_numpy(float),
        upper=forecast["upper"].to_numpy(float),
        level=task.level,
        top=config.top_drivers,
        wording=task.wording,
        contrast=change,
    )
    everything = concat([forecast_expl, backtest_expl])
    importance, concept_importance = _importance(everything)
    stability, stability_summary = driver_stability(backtest_expl, top=config.top_drivers)
    values = pd.concat([_long(forecast_expl, "forecast"), _long(backtest_expl, "backtest")], ignore_index=True)
    figures = (
        _pngs(
            backtest_expl,
            concept_importance,
            importance,
            candidate=spec.candidate,
            rows=config.plot_rows,
            dependence_plots=config.dependence_plots,
            seed=seed,
        )
        if task.figures
        else {}
    )
    return CandidateExplanation(
        spec.candidate,
        spec.explainer,
        forecast_expl.scale,
        drivers,
        values,
        importance,
        concept_importance,
        stability,
        stability_summary,
        additivity,
        forecast_expl,
        backtest_expl,
        time.perf_counter() - start,
        figures,
        reference_expl if task.keep_references else None,
    )
