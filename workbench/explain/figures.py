"""SHAP figures for reviewers: global importance by concept, a beeswarm, dependence plots."""

from __future__ import annotations

from collections.abc import Iterable

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import shap
from matplotlib.figure import Figure

from workbench.explain.values import AdditiveExplanation
from workbench.plots import headless, png

SCALE_LABEL = {"log": "log of the forecast", "log1p": "log of (1 + forecast)", "identity": "households"}


def _shap_object(explanation: AdditiveExplanation) -> shap.Explanation:
    data = explanation.data.apply(lambda c: c.cat.codes if isinstance(c.dtype, pd.CategoricalDtype) else c)
    return shap.Explanation(
        values=explanation.values.to_numpy(),
        base_values=explanation.base,
        data=data[explanation.values.columns].to_numpy(dtype=float),
        feature_names=list(explanation.values.columns),
    )


def importance_figure(concepts: pd.DataFrame, *, candidate: str) -> Figure:
    headless()
    shown = concepts.sort_values("mean_abs_amount").tail(15)
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(shown) + 1.5))
    ax.barh(shown.index, shown["mean_abs_amount"], color="#1f5f8b")
    ax.set_xlabel("mean absolute contribution to the forecast (households)")
    ax.set_title(f"{candidate}: what drives the forecasts, by concept")
    fig.tight_layout()
    return fig


def beeswarm_figure(explanation: AdditiveExplanation, *, candidate: str, rows: int, seed: int) -> Figure:
    headless()
    sample = explanation
    if len(explanation.keys) > rows:
        pick = np.zeros(len(explanation.keys), dtype=bool)
        pick[np.random.default_rng(seed).choice(len(pick), size=rows, replace=False)] = True
        sample = explanation.take(pick)
    plt.figure(figsize=(9, 6))
    shap.plots.beeswarm(_shap_object(sample), max_display=15, show=False)
    fig = plt.gcf()
    fig.suptitle(f"{candidate}: SHAP values on the {SCALE_LABEL[explanation.scale]} ({len(sample.keys):,} rows)")
    fig.tight_layout()
    return fig


def dependence_figures(
    explanation: AdditiveExplanation, *, features: list[str], candidate: str, rows: int, seed: int
) -> dict[str, Figure]:
    headless()
    sample = explanation
    if len(explanation.keys) > rows:
        pick = np.zeros(len(explanation.keys), dtype=bool)
        pick[np.random.default_rng(seed).choice(len(pick), size=rows, replace=False)] = True
        sample = explanation.take(pick)
    shap_object = _shap_object(sample)
    figures = {}
    for feature in features:
        fig, ax = plt.subplots(figsize=(7, 4.5))
        shap.plots.scatter(shap_object[:, feature], ax=ax, show=False)
        ax.set_title(f"{candidate}: effect of {feature} ({SCALE_LABEL[explanation.scale]})")
        fig.tight_layout()
        figures[feature] = fig
    return figures


def close_all(figures: Iterable[Figure]) -> None:
    for fig in figures:
        plt.close(fig)


def explanation_pngs(
    explanation: AdditiveExplanation,
    concept_importance: pd.DataFrame,
    importance: pd.DataFrame,
    *,
    candidate: str,
    rows: int,
    dependence_plots: int,
    seed: int,
) -> dict[str, bytes]:
    """Importance, beeswarm and dependence plots of one candidate, as PNG bytes keyed by file name."""
    figures = {
        "importance.png": importance_figure(concept_importance, candidate=candidate),
        "beeswarm.png": beeswarm_figure(explanation, candidate=candidate, rows=rows, seed=seed),
    }
    top = list(importance.index[:dependence_plots])
    figures |= {
        f"dependence_{name}.png": fig
        for name, fig in dependence_figures(
            explanation, features=top, candidate=candidate, rows=rows, seed=seed
        ).items()
    }
    return {name: png(fig) for name, fig in figures.items()}
