"""Choosing the winner: the candidate with the best backtest metric, unless it fails to beat the
baselines, in which case the best baseline wins and the record says so."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Selection:
    winner: str
    metric: str
    rule: str
    verdict: str  # one or two plain sentences for the run description and the terminal
    ranking: pd.DataFrame  # candidate, metric value, baseline flag, rank
    best_baseline: str
    best_model: str | None  # best non-baseline candidate, if any
    beats_baselines: bool


def select(
    summary: pd.DataFrame, *, metric: str, margin: float, baselines: set[str], origins: int, horizons: tuple[int, ...]
) -> Selection:
    ranking = summary[["candidate", metric]].copy()
    ranking["baseline"] = ranking["candidate"].isin(baselines)
    ranking = ranking.sort_values(metric, kind="stable").reset_index(drop=True)
    ranking["rank"] = range(1, len(ranking) + 1)
    value = ranking.set_index("candidate")[metric]
    best_baseline = ranking.loc[ranking["baseline"], "candidate"].iloc[0]
    models = ranking.loc[~ranking["baseline"], "candidate"]
    best_model = models.iloc[0] if len(models) else None
    span = f"horizon {horizons[0]}" if len(horizons) == 1 else f"horizons {horizons[0]} to {horizons[-1]}"
    rule = (
        f"lowest mean {metric.upper()} over {origins} backtest origins and {span}; a model must be at least "
        f"{margin:.0%} better than the best baseline, otherwise the best baseline wins"
    )
    base = value[best_baseline]
    if best_model is not None and value[best_model] <= base * (1 - margin):
        gain = 1 - value[best_model] / base if base else 0.0
        verdict = (
            f"{best_model} wins with mean {metric.upper()} {value[best_model]:.3f}, {gain:.1%} better than "
            f"the best baseline ({best_baseline}, {base:.3f})."
        )
        return Selection(best_model, metric, rule, verdict, ranking, best_baseline, best_model, True)
    if best_model is None:
        verdict = f"Only baselines were compared; {best_baseline} wins with mean {metric.upper()} {base:.3f}."
    else:
        verdict = (
            f"No model beat the baselines: the best model, {best_model}, scored {value[best_model]:.3f} "
            f"against {base:.3f} for {best_baseline}, so the baseline {best_baseline} wins."
        )
    return Selection(best_baseline, metric, rule, verdict, ranking, best_baseline, best_model, False)
