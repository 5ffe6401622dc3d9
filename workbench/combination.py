"""Forecast combinations as candidates: which members each combines, and with what weights, chosen
fold by fold from the backtest's predictions.

For fold k, only folds whose every actual was observed by k's origin are looked at (origin_j plus
the longest horizon at or before origin_k, the rule `calibrate_folds` applies per horizon, taken
here for the whole fold): on them each candidate of the pool gets the experiment's selection score
(`workbench.selection.blend_score`, relative to the best baseline on those folds), the `k` lowest
are the members, and `inverse_error` weighs each by one over its score. A fold with no such earlier
fold combines every candidate of the pool with equal weights (the median of them all for `median`),
a choice that uses no data; it is scored like every other fold, so the combination is judged on the
same rows as the candidates it competes with. The final forecast combines the members' final fits,
chosen on every fold.

The combination's rows are then calibrated and summarised exactly as the backtest does for every
candidate (`workbench.backtest.with_candidates`), so it has intervals, coverage and WIS, and it is
selected, explained, audited and logged like any other candidate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.base import ModelSpec
from models.combination import Combination, CombinationForecaster, combine_forecasts
from workbench.backtest import BacktestResult, Fold, with_candidates
from workbench.data.contract import ACTUAL, AREA, HORIZON, ORIGIN
from workbench.fit import FinalFit, forecast_frame
from workbench.metrics import point_metrics
from workbench.selection import SelectionRule, blend_score

KEYS = ["fold", ORIGIN, AREA, HORIZON]
NO_BASELINE = "a combination ranks its members against the best baseline; list a baseline among the candidates"


@dataclass(frozen=True)
class Choice:
    members: tuple[str, ...]
    weights: tuple[float, ...]
    scored_on: tuple[int, ...]  # the folds the choice was made on


def known_folds(folds: Sequence[Fold], origin: pd.Period, max_horizon: int) -> list[int]:
    """The folds whose every actual (up to the longest horizon) was observed by `origin`."""
    return [f.index for f in folds if f.origin + max_horizon <= origin]


def scores_on(
    predictions: pd.DataFrame,
    known: Sequence[int],
    *,
    pool: Sequence[str],
    baselines: Sequence[str],
    rule: SelectionRule,
) -> pd.Series:
    """Each pool candidate's selection score on the `known` folds (lower is better)."""
    seen = predictions[predictions["fold"].isin(known) & predictions["candidate"].isin([*pool, *baselines])]
    metrics = pd.DataFrame(
        {
            c: point_metrics(g[ACTUAL].to_numpy(float), g["forecast"].to_numpy(float), g["scale"].to_numpy(float))
            for c, g in seen.groupby("candidate", sort=False)
        }
    ).T
    present = [b for b in baselines if b in metrics.index]
    if not present:
        raise ValueError(NO_BASELINE)
    base = metrics.loc[present].sort_values(rule.metric, kind="stable").iloc[0]
    return blend_score(metrics.reindex(list(pool)), base, rule).fillna(np.inf)


def choose(
    predictions: pd.DataFrame,
    spec: Combination,
    *,
    pool: Sequence[str],
    baselines: Sequence[str],
    known: Sequence[int],
    rule: SelectionRule,
) -> Choice:
    """The members and weights of `spec` chosen on the `known` folds (none: all of the pool, equal weights)."""
    if not known:
        return Choice(tuple(pool), tuple(1 / len(pool) for _ in pool), ())
    scores = scores_on(predictions, known, pool=pool, baselines=baselines, rule=rule)
    members = sorted(pool, key=lambda c: (scores[c], list(pool).index(c)))[: spec.k]
    raw = np.ones(len(members))
    if spec.how == "inverse_error":
        raw = np.array([1 / scores[m] if 0 < scores[m] < np.inf else 0.0 for m in members])
        raw = raw if raw.sum() > 0 else np.ones(len(members))
    return Choice(tuple(members), tuple(float(w) for w in raw / raw.sum()), tuple(known))


def choices(
    predictions: pd.DataFrame,
    spec: Combination,
    *,
    pool: Sequence[str],
    baselines: Sequence[str],
    folds: Sequence[Fold],
    rule: SelectionRule,
) -> pd.DataFrame:
    """The choice at every fold, from the folds known at its origin, and for the final forecast
    (fold missing), from every fold: columns fold, members, weights, scored_on."""
    if not pool:
        raise ValueError(f"{spec.candidate}: no candidate to combine; list a model that is not a baseline")
    max_horizon = int(predictions[HORIZON].max())
    rows = []
    for fold in [*folds, None]:
        known = [f.index for f in folds] if fold is None else known_folds(folds, fold.origin, max_horizon)
        choice = choose(predictions, spec, pool=pool, baselines=baselines, known=known, rule=rule)
        rows.append(
            {
                "fold": None if fold is None else fold.index,
                "members": choice.members,
                "weights": choice.weights,
                "scored_on": choice.scored_on,
            }
        )
    table = pd.DataFrame(rows)
    table["fold"] = table["fold"].astype("Int64")
    return table


def combined_rows(predictions: pd.DataFrame, table: pd.DataFrame, spec: Combination) -> pd.DataFrame:
    """The combination's backtest predictions: at each fold, its members' forecasts combined with
    that fold's weights (`combine_forecasts`, as the forecaster does)."""
    parts = []
    for choice in table[table["fold"].notna()].itertuples(index=False):
        rows = predictions[(predictions["fold"] == choice.fold) & predictions["candidate"].isin(choice.members)]
        wide = rows.set_index([*KEYS, "candidate"])["forecast"].unstack("candidate")[list(choice.members)]
        first = rows[rows["candidate"] == choice.members[0]].set_index(KEYS)[[ACTUAL, "scale", "size"]]
        part = first.loc[wide.index].reset_index()
        part["forecast"] = combine_forecasts(wide.to_numpy(float), how=spec.how, weights=choice.weights)
        parts.append(part.assign(candidate=spec.candidate))
    out = pd.concat(parts, ignore_index=True)
    return out[["candidate", *KEYS, ACTUAL, "forecast", "scale", "size"]]


def add_combinations(
    result: BacktestResult, specs: Sequence[Combination], *, candidates: Sequence[ModelSpec], rule: SelectionRule
) -> BacktestResult:
    """`result` with each combination as a candidate: its rows, intervals and summaries, a fitted
    combination at every fold (wrapping that fold's fitted members) and its choices."""
    if not specs:
        return result
    by_name = {m.candidate: m for m in candidates}
    baselines = [m.candidate for m in candidates if m.is_baseline]
    rows, fitted, tables = [], {}, {}
    for spec in specs:
        table = choices(
            result.predictions, spec, pool=spec.pool(candidates), baselines=baselines, folds=result.folds, rule=rule
        )
        rows.append(combined_rows(result.predictions, table, spec))
        for choice in table[table["fold"].notna()].itertuples(index=False):
            keys = [(m, int(choice.fold)) for m in choice.members]
            if all(key in result.fitted for key in keys):
                fitted[(spec.candidate, int(choice.fold))] = CombinationForecaster.prefit(
                    [(by_name[m], result.fitted[key]) for m, key in zip(choice.members, keys, strict=True)],
                    how=spec.how,
                    weights=choice.weights,
                )
        tables[spec.candidate] = table
    return with_candidates(result, pd.concat(rows, ignore_index=True), fitted, tables)


def final_choice(result: BacktestResult, candidate: str) -> Choice:
    """The members and weights a combination's final forecast uses, chosen on every fold."""
    table = result.combinations[candidate]
    final = table[table["fold"].isna()].iloc[0]
    return Choice(tuple(final["members"]), tuple(final["weights"]), tuple(final["scored_on"]))


def final_fits(
    fits: dict[str, FinalFit], result: BacktestResult, specs: Sequence[Combination], *, candidates: Sequence[ModelSpec]
) -> dict[str, FinalFit]:
    """Each combination's final fit: its members' final forecasters, combined with the weights
    chosen on every fold, and its own interval bands."""
    by_name = {m.candidate: m for m in candidates}
    out = {}
    for spec in specs:
        choice = final_choice(result, spec.candidate)
        forecaster = CombinationForecaster.prefit(
            [(by_name[m], fits[m].forecaster) for m in choice.members], how=spec.how, weights=choice.weights
        )
        first = fits[choice.members[0]]
        bands = result.bands[spec.candidate]
        out[spec.candidate] = FinalFit(
            spec,
            forecaster,
            bands,
            first.forecast_rows,
            forecast_frame(forecaster, first.forecast_rows, bands),
            first.training_rows,
        )
    return out
