"""The selection rule: a blend of MASE, WAPE and RMSE against the best baseline, with guards on
RMSE and bias, a margin, and a reason that names what decided."""

from __future__ import annotations

import pandas as pd
import pytest

from workbench.selection import SelectionRule, select

COLUMNS = ["candidate", "mase", "wape", "rmse", "bias"]


def summary(*rows: tuple) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=COLUMNS)


def choose(frame: pd.DataFrame, **kwargs):
    return select(frame, baselines={"naive", "recent_mean"}, origins=4, horizons=(1,), **kwargs)


def test_a_model_better_on_every_measure_wins_and_the_reason_says_why() -> None:
    chosen = choose(summary(("naive", 1.0, 0.2, 10.0, 0.01), ("gbm", 0.8, 0.16, 8.0, 0.005)))
    assert chosen.winner == "gbm" and chosen.beats_baselines
    assert chosen.verdict == (
        "gbm wins with score 0.800 against 1.000 for the best baseline naive "
        "(MASE 0.800 vs 1.000, RMSE 8 vs 10, bias +0.5% vs +1.0%)."
    )


def test_the_lowest_mase_cannot_win_when_its_rmse_is_clearly_worse_than_the_baselines() -> None:
    """The county-panel failure: best MASE, double the RMSE, under-forecasting."""
    chosen = choose(
        summary(
            ("naive", 1.0, 0.20, 8.0, 0.005),
            ("log_gbm", 0.89, 0.19, 14.8, -0.045),
            ("glm", 0.93, 0.18, 7.5, 0.002),
        )
    )
    assert chosen.winner == "glm"
    assert (
        "log_gbm, the model with the lowest MASE, was ruled out by its RMSE 14.8 is 85% above naive's" in chosen.verdict
    )
    ranking = chosen.ranking.set_index("candidate")
    assert not ranking.loc["log_gbm", "rmse_ok"] and not ranking.loc["log_gbm", "bias_ok"]


def test_a_model_with_a_clearly_worse_bias_cannot_win() -> None:
    chosen = choose(summary(("naive", 1.0, 0.2, 10.0, 0.0), ("gbm", 0.7, 0.15, 9.0, -0.05)))
    assert chosen.winner == "naive" and not chosen.beats_baselines
    assert chosen.verdict == (
        "No model passed the RMSE and bias guards, so the baseline naive wins; gbm, the model with the lowest "
        "MASE, was ruled out by its bias -5.0% against +0.0% for naive."
    )


def test_the_margin_is_measured_against_every_baseline() -> None:
    frame = summary(("naive", 1.0, 0.2, 10.0, 0.0), ("recent_mean", 1.05, 0.15, 9.0, 0.0), ("gbm", 0.9, 0.19, 9.5, 0.0))
    chosen = choose(frame, margin=0.05)
    # recent_mean scores 0.42 + 0.225 + 0.27 = 0.915; gbm scores 0.36 + 0.285 + 0.285 = 0.93
    assert chosen.winner == "naive" and chosen.best_model == "gbm"
    assert chosen.verdict.startswith("No model beat the baselines: the best model, gbm, scored 0.930 against 0.869")


def test_the_rule_and_its_settings_are_returned_for_the_record() -> None:
    rule = SelectionRule(weights={"mase": 0.5, "rmse": 0.5}, margin=0.1, rmse_tolerance=0.0, bias_tolerance=0.01)
    chosen = choose(summary(("naive", 1.0, 0.2, 10.0, 0.0), ("gbm", 0.5, 0.1, 10.0, 0.0)), rule=rule)
    assert chosen.settings == {
        "weights": {"mase": 0.5, "rmse": 0.5},
        "margin": 0.1,
        "rmse_tolerance": 0.0,
        "bias_tolerance": 0.01,
        "primary_metric": "mase",
    }
    assert chosen.winner == "gbm"
    assert chosen.rule == (
        "over 4 backtest origins and horizon 1: lowest score = 0.5 x MASE + 0.5 x RMSE, each relative to the "
        "best baseline; no winner whose RMSE is more than 0% above the best baseline's or whose absolute bias "
        "is more than 1 points above it; a model must score at least 10% better than the best baseline, "
        "otherwise the best baseline wins"
    )


@pytest.mark.parametrize("metric", ["mase", "rmse", "winkler"])
def test_the_default_blend_follows_the_primary_metric(metric: str) -> None:
    rule = SelectionRule.around(metric, 0.0)
    assert rule.metric == metric and metric in rule.weights
    assert sum(rule.weights.values()) == pytest.approx(1.0)


def test_only_baselines_means_the_best_baseline_wins() -> None:
    chosen = choose(summary(("naive", 1.0, 0.2, 10.0, 0.0), ("recent_mean", 1.2, 0.2, 10.0, 0.0)))
    assert chosen.winner == "naive" and chosen.best_model is None
    assert chosen.verdict == "Only baselines were compared; naive wins with mean MASE 1.000."


def test_a_win_that_does_not_hold_on_the_held_back_origins_goes_to_the_best_baseline() -> None:
    from workbench.selection import confirm

    rule = SelectionRule(confirm_folds=1)
    earlier = summary(("naive", 1.0, 0.2, 10.0, 0.01), ("gbm", 0.8, 0.16, 8.0, 0.005))
    chosen = choose(earlier, rule=rule)
    assert chosen.winner == "gbm"
    lucky = confirm(chosen, summary(("naive", 1.0, 0.2, 10.0, 0.01), ("gbm", 1.1, 0.22, 11.0, 0.0)), rule=rule, folds=1)
    assert lucky.winner == "naive" and not lucky.beats_baselines
    assert lucky.verdict.startswith("gbm won on the earlier origins but not on the held-back ones (score 1.100")
    assert "the last origin was held back" in lucky.rule
    held = confirm(chosen, summary(("naive", 1.0, 0.2, 10.0, 0.01), ("gbm", 0.9, 0.19, 9.0, 0.0)), rule=rule, folds=1)
    assert held.winner == "gbm" and held.verdict.endswith(
        "confirmed on the held-back origins (score 0.915 against 1.000)."
    )


def test_origins_are_held_back_only_when_four_are_left_to_choose_on() -> None:
    rule = SelectionRule(confirm_folds=1)
    assert [rule.held_back(n) for n in (2, 4, 5, 8)] == [0, 0, 1, 1]
    chosen = choose(summary(("naive", 1.0, 0.2, 10.0, 0.01), ("gbm", 0.8, 0.16, 8.0, 0.005)))
    from workbench.selection import confirm

    assert confirm(chosen, summary(("naive", 1.0, 0.2, 10.0, 0.01)), rule=rule, folds=0) is chosen
