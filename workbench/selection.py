"""Choosing the winner the way a planner would: on a blend of errors they feel, never at the price
of large misses or a biased total.

The default rule (`SelectionRule()`):

- score = 0.4 x MASE + 0.3 x WAPE + 0.3 x RMSE, each as a ratio to the best baseline's value
  (the best baseline on the primary metric scores 1.0). MASE counts every area alike; WAPE weighs
  areas by their demand, so it tracks the error on totals; RMSE punishes the large misses that
  fall on the largest areas.
- guards: a candidate whose RMSE is more than 5% above the best baseline's, or whose absolute bias
  is more than 2 points above the best baseline's, cannot win, whatever its score.
- margin: a model must score at least `margin` below every baseline's score; otherwise the best
  baseline wins and the record says so.

The rule, the guards and the margin are returned in the `Selection`, with a one-sentence reason.

Confirmation (`confirm`): the choice is made on every origin but the last `confirm_folds`, which
are held back. A model that won on the earlier origins must also score better than the best baseline
on the held-back ones; if it does not, its win is put down to luck and the best baseline wins.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from workbench.config import SelectionConfig

DEFAULT_WEIGHTS = {"mase": 0.4, "wape": 0.3, "rmse": 0.3}
MIN_CHOICE_FOLDS = 4  # origins left to choose on before any is held back for confirmation


@dataclass(frozen=True)
class SelectionRule:
    metric: str = "mase"  # the primary metric: names the best baseline and the gate's comparison
    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    margin: float = 0.0
    rmse_tolerance: float = 0.05  # relative to the best baseline's RMSE
    bias_tolerance: float = 0.02  # absolute bias, in points above the best baseline's
    confirm_folds: int = 0  # the last origins, held back to confirm the choice made on the others

    @classmethod
    def around(cls, metric: str, margin: float) -> SelectionRule:
        """The default blend with `metric` as the primary metric."""
        weights = dict(DEFAULT_WEIGHTS)
        if metric not in weights:
            weights = {metric: weights.pop("mase"), **weights}
        return cls(metric=metric, weights=weights, margin=margin)

    @classmethod
    def from_config(cls, config: SelectionConfig) -> SelectionRule:
        """The rule an experiment's `selection:` section describes (a SelectionConfig)."""
        base = cls.around(config.metric, config.margin)
        return cls(
            metric=config.metric,
            weights=dict(config.weights.items()) if config.weights else base.weights,
            margin=config.margin,
            rmse_tolerance=config.rmse_tolerance,
            bias_tolerance=config.bias_tolerance,
            confirm_folds=config.confirm_folds,
        )

    def held_back(self, folds: int) -> int:
        """How many of `folds` origins are held back: none unless at least `MIN_CHOICE_FOLDS` are left
        to choose on (on fewer, holding one back makes the choice itself a matter of luck)."""
        return self.confirm_folds if folds - self.confirm_folds >= MIN_CHOICE_FOLDS else 0

    def describe(self) -> str:
        blend = " + ".join(f"{w:g} x {m.upper()}" for m, w in self.weights.items())
        return (
            f"lowest score = {blend}, each relative to the best baseline; no winner whose RMSE is more than "
            f"{self.rmse_tolerance:.0%} above the best baseline's or whose absolute bias is more than "
            f"{self.bias_tolerance * 100:g} points above it; a model must score at least {self.margin:.0%} "
            "better than the best baseline, otherwise the best baseline wins"
        )


@dataclass(frozen=True)
class Selection:
    winner: str
    metric: str
    rule: str
    verdict: str  # one sentence on why the winner won, for the run description and the terminal
    ranking: pd.DataFrame  # candidate, metrics, score, guard results, baseline flag, rank
    best_baseline: str
    best_model: str | None  # best eligible non-baseline candidate by score, if any
    beats_baselines: bool
    settings: dict[str, object] = field(default_factory=dict)  # weights, margin, tolerances: for the record


def blend_score(rows: pd.DataFrame, base: pd.Series, rule: SelectionRule) -> pd.Series:
    """The rule's blend for each row, each metric as a ratio to `base`'s (metrics `base` lacks or
    has at zero are left out of the blend)."""
    usable = {m: w for m, w in rule.weights.items() if np.isfinite(base[m]) and base[m] > 0}
    return sum(w * rows[m] / base[m] for m, w in usable.items()) / sum(usable.values())


def _ranking(summary: pd.DataFrame, rule: SelectionRule, baselines: set[str]) -> tuple[pd.DataFrame, str]:
    columns = list(dict.fromkeys([rule.metric, *rule.weights, "rmse", "bias"]))
    ranking = summary[["candidate", *columns]].copy()
    ranking["baseline"] = ranking["candidate"].isin(baselines)
    base = ranking[ranking["baseline"]].sort_values(rule.metric, kind="stable").iloc[0]
    ranking["score"] = blend_score(ranking, base, rule)
    ranking["rmse_ok"] = ranking["rmse"] <= base["rmse"] * (1 + rule.rmse_tolerance)
    ranking["bias_ok"] = ranking["bias"].abs() <= abs(base["bias"]) + rule.bias_tolerance
    ranking = ranking.sort_values(["score", rule.metric], kind="stable").reset_index(drop=True)
    ranking["rank"] = range(1, len(ranking) + 1)
    return ranking, str(base["candidate"])


def _why_not(row: pd.Series, base: pd.Series, rule: SelectionRule) -> str:
    reasons = []
    if not row["rmse_ok"]:
        reasons.append(
            f"its RMSE {row['rmse']:.3g} is {row['rmse'] / base['rmse'] - 1:.0%} above {base['candidate']}'s"
        )
    if not row["bias_ok"]:
        reasons.append(f"its bias {row['bias']:+.1%} against {base['bias']:+.1%} for {base['candidate']}")
    return " and ".join(reasons)


def select(
    summary: pd.DataFrame,
    *,
    baselines: set[str],
    origins: int,
    horizons: tuple[int, ...],
    metric: str = "mase",
    margin: float = 0.0,
    rule: SelectionRule | None = None,
) -> Selection:
    """The winner under `rule` (by default the blend around `metric` with `margin`)."""
    rule = rule or SelectionRule.around(metric, margin)
    ranking, best_baseline = _ranking(summary, rule, baselines)
    rows = ranking.set_index("candidate", drop=False)
    base = rows.loc[best_baseline]
    span = f"horizon {horizons[0]}" if len(horizons) == 1 else f"horizons {horizons[0]} to {horizons[-1]}"
    text = f"over {origins} backtest origins and {span}: {rule.describe()}"
    bar = float(ranking.loc[ranking["baseline"], "score"].min()) * (1 - rule.margin)
    settings = {
        "weights": dict(rule.weights),
        "margin": rule.margin,
        "rmse_tolerance": rule.rmse_tolerance,
        "bias_tolerance": rule.bias_tolerance,
        "primary_metric": rule.metric,
    }
    models = ranking[~ranking["baseline"]]
    eligible = models[models["rmse_ok"] & models["bias_ok"]]
    best_model = str(eligible["candidate"].iloc[0]) if len(eligible) else None
    top_primary = models.sort_values(rule.metric, kind="stable")
    excluded = ""
    if len(top_primary) and not (top_primary["rmse_ok"].iloc[0] and top_primary["bias_ok"].iloc[0]):
        first = top_primary.iloc[0]
        excluded = (
            f"; {first['candidate']}, the model with the lowest {rule.metric.upper()}, was ruled out by "
            f"{_why_not(first, base, rule)}"
        )
    m = rule.metric.upper()
    if best_model is not None and rows.loc[best_model, "score"] <= bar:
        win = rows.loc[best_model]
        verdict = (
            f"{best_model} wins with score {win['score']:.3f} against 1.000 for the best baseline {best_baseline} "
            f"({m} {win[rule.metric]:.3f} vs {base[rule.metric]:.3f}, RMSE {win['rmse']:.3g} vs {base['rmse']:.3g}, "
            f"bias {win['bias']:+.1%} vs {base['bias']:+.1%}){excluded}."
        )
        return Selection(best_model, rule.metric, text, verdict, ranking, best_baseline, best_model, True, settings)
    if not len(models):
        verdict = f"Only baselines were compared; {best_baseline} wins with mean {m} {base[rule.metric]:.3f}."
    elif best_model is None:
        verdict = f"No model passed the RMSE and bias guards, so the baseline {best_baseline} wins{excluded}."
    else:
        verdict = (
            f"No model beat the baselines: the best model, {best_model}, scored {rows.loc[best_model, 'score']:.3f} "
            f"against {bar:.3f} needed to beat every baseline (margin {rule.margin:.0%}), so the baseline "
            f"{best_baseline} wins{excluded}."
        )
    return Selection(best_baseline, rule.metric, text, verdict, ranking, best_baseline, best_model, False, settings)


def confirm(selection: Selection, held_back: pd.DataFrame, *, rule: SelectionRule, folds: int) -> Selection:
    """Check a model's win on the `folds` held-back origins (`held_back`: the per-candidate summary
    over them). It stands if the winner scores below the best baseline there under the same blend;
    otherwise the best baseline wins and the verdict says why."""
    if not folds:
        return selection
    held = "the last origin was" if folds == 1 else f"the last {folds} origins were"
    held += " held back to confirm the choice"
    rule_text = f"{selection.rule}; {held}"
    settings = selection.settings | {"confirm_folds": folds}
    if not selection.beats_baselines:
        return replace(selection, rule=rule_text, settings=settings)
    rows = held_back.set_index("candidate")
    scores = blend_score(rows, rows.loc[selection.best_baseline], rule)
    won, baseline = float(scores[selection.winner]), float(scores[selection.best_baseline])
    settings |= {"confirm_score": won, "confirm_baseline_score": baseline}
    if won <= baseline * (1 - rule.margin):
        verdict = (
            f"{selection.verdict[:-1]}; confirmed on the held-back origins (score {won:.3f} against {baseline:.3f})."
        )
        return replace(selection, rule=rule_text, verdict=verdict, settings=settings)
    verdict = (
        f"{selection.winner} won on the earlier origins but not on the held-back ones (score {won:.3f} against "
        f"{baseline:.3f} for {selection.best_baseline}), so the baseline {selection.best_baseline} wins."
    )
    return replace(
        selection,
        winner=selection.best_baseline,
        rule=rule_text,
        verdict=verdict,
        beats_baselines=False,
        settings=settings,
    )
