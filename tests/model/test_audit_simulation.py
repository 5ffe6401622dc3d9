"""The audit's behaviour on simulated forecasts over synthetic England and a real public panel:
fair models pass, planted under-forecasts are caught, and what cannot be caught is stated."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from workbench.audit import audit_candidate
from workbench.audit.simulate import contagious_truth, england_truth, simulate
from workbench.config import AuditConfig

CONFIG = AuditConfig()


@pytest.fixture(scope="module")
def england():
    return england_truth()


def audit(truth, model, naive, seed):
    return audit_candidate(
        "model",
        model,
        static=truth.static,
        config=CONFIG,
        default_groupings=tuple(truth.static.columns),
        seed=seed,
        baseline=naive,
    )


def test_fair_models_pass_and_a_planted_ten_percent_under_forecast_is_caught(england) -> None:
    seeds = range(4)
    fair = [audit(england, *simulate(england, seed=s), seed=s) for s in seeds]
    biased = [audit(england, *simulate(england, seed=s, effect=0.10), seed=s) for s in seeds]
    assert [r.passed for r in fair] == [True] * 4
    assert [r.passed for r in biased] == [False] * 4
    for result in biased:
        failing = result.failures
        assert ((failing["grouping"] == "deprivation_quintile") & (failing["group"] == "1")).any()


def test_a_planted_twenty_percent_under_forecast_in_london_is_refused(england) -> None:
    london = dataclasses.replace(england, planted=("region", "London"))
    result = audit(london, *simulate(london, seed=0, effect=0.20), seed=0)
    assert not result.passed
    assert any(r.startswith("bias for region=London is 0.") for r in result.reasons())


def test_the_smallest_detectable_gap_in_the_most_deprived_quintile_is_stated(england) -> None:
    result = audit(england, *simulate(england, seed=0, effect=0.03), seed=0)
    d = result.disparities
    row = d[(d["grouping"] == "deprivation_quintile") & (d["group"] == "1") & (d["check"] == "bias")].iloc[0]
    assert 0.03 < row["detectable"] < 0.10  # 3% is below what 59 areas can show; 10% is well above it
    assert row["verdict"] in {"uncertain", "fail"}


def test_a_model_better_than_naive_in_every_group_passes_on_a_real_zero_heavy_panel() -> None:
    truth = contagious_truth()
    _, naive = simulate(truth, seed=0)
    assert (naive["actual"] == 0).mean() > 0.3
    # half of naive's error on every row: at least as good as the status quo in every group
    better = naive.assign(forecast=naive["forecast"] + 0.5 * (naive["actual"] - naive["forecast"]))
    result = audit(truth, better, naive, seed=0)
    assert result.passed, result.reasons()
    assert np.nanmax(result.groups["skill"]) <= 0.5 + 1e-9
