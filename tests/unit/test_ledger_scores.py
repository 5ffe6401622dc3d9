"""The ledger's pure logic: scores by hand, vintages of actuals, PSI and the review rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.ledger import actuals_digest, decide_review, group_bias, period_metrics, psi, score_entries, wis
from workbench.ledger.drift import coverage_check, performance_check, wape_check
from workbench.ledger.scores import actuals_for


def entries() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "area_code": ["E06000001", "E06000002", "E06000003"],
            "origin": "2024Q1",
            "target_period": "2024Q2",
            "horizon": 1,
            "forecast": [100.0, 50.0, 20.0],
            "lower": [90.0, 45.0, 10.0],
            "upper": [110.0, 60.0, 30.0],
            "level": 0.8,
            "group:region": ["North", "North", "South"],
        }
    )


def panel(values: list[float], *, extra: bool = False) -> pd.DataFrame:
    rows = pd.DataFrame(
        {
            "area_code": ["E06000001", "E06000002", "E06000003"],
            "period": pd.PeriodIndex(["2024Q2"] * 3, freq="Q"),
            "owed_duty": values,
        }
    )
    if extra:
        later = rows.assign(period=pd.PeriodIndex(["2024Q3"] * 3, freq="Q"), owed_duty=[1.0, 2.0, 3.0])
        rows = pd.concat([rows, later], ignore_index=True)
    return rows


def test_scores_match_hand_arithmetic() -> None:
    table = entries()
    scored = score_entries(table, actuals_for(panel([120.0, 50.0, 25.0]), "owed_duty"))
    assert list(scored["error"]) == [-20.0, 0.0, -5.0]
    assert list(scored["hit"]) == [False, True, True]
    # area 1: alpha 0.2, interval (110-90) + 2/0.2 * (120-110) = 120; WIS = (0.5*20 + 0.1*120) / 1.5
    assert scored["wis"].iloc[0] == pytest.approx((10 + 12) / 1.5)
    assert scored["pct_error"].iloc[2] == pytest.approx(-0.2)
    metrics = period_metrics(scored).iloc[0]
    assert metrics["wape"] == pytest.approx(25 / 195) and metrics["bias"] == pytest.approx(-25 / 195)
    assert metrics["coverage"] == pytest.approx(2 / 3)
    bias = group_bias(scored).set_index("group")["bias"]
    assert bias["North"] == pytest.approx(-20 / 170) and bias["South"] == pytest.approx(-5 / 25)
    assert "actual" not in table  # the input is left alone


def test_wis_is_half_the_absolute_error_scaled_inside_a_point_interval() -> None:
    assert wis(np.array([5.0]), np.array([5.0]), np.array([5.0]), np.array([5.0]), np.array([0.8]))[0] == 0.0


def test_actuals_vintage_ignores_later_periods_and_changes_with_a_revision() -> None:
    first = actuals_digest(entries(), actuals_for(panel([120.0, 50.0, 25.0]), "owed_duty"))
    longer = actuals_digest(entries(), actuals_for(panel([120.0, 50.0, 25.0], extra=True), "owed_duty"))
    revised = actuals_digest(entries(), actuals_for(panel([121.0, 50.0, 25.0]), "owed_duty"))
    assert first == longer and first != revised
    unresolved = panel([120.0, 50.0, 25.0]).assign(period=pd.PeriodIndex(["2024Q1"] * 3, freq="Q"))
    assert actuals_digest(entries(), actuals_for(unresolved, "owed_duty")) is None


def test_unpublished_actuals_leave_entries_unscored() -> None:
    scored = score_entries(entries(), actuals_for(panel([120.0, np.nan, 25.0]), "owed_duty"))
    assert list(scored["area_code"]) == ["E06000001", "E06000003"]


def test_psi_is_near_zero_for_the_same_distribution_and_large_for_a_shift() -> None:
    rng = np.random.default_rng(0)
    reference = rng.normal(0, 1, 5000)
    assert psi(reference, rng.normal(0, 1, 300)) < 0.1
    assert psi(reference, rng.normal(1.5, 1, 300)) > 0.25


def test_review_rule_flags_drift_wape_and_coverage_shortfall_only() -> None:
    table = pd.DataFrame({"feature": ["lag1", "claims_log"], "psi": [0.05, 0.9]})
    decision = decide_review(table, [])
    assert decision.review and decision.drifted == ("claims_log",)
    calm = decide_review(table.assign(psi=[0.05, 0.1]), [coverage_check("2024Q2", 0.99, 0.8, 296)])
    assert not calm.review  # better coverage than expected is no harm
    worse = wape_check("2024Q2", 0.5, [0.10, 0.12, 0.11])
    assert worse is not None and worse.outside
    assert decide_review(table.assign(psi=0.0), [worse]).review
    short = coverage_check("2024Q2", 0.5, 0.8, 296)
    assert decide_review(table.assign(psi=0.0), [short]).reasons[0].startswith("Interval coverage in 2024Q2 was 0.500")


def test_performance_check_uses_the_latest_period() -> None:
    metrics = pd.DataFrame(
        {"target_period": ["2024Q1", "2024Q2"], "wape": [0.5, 0.1], "coverage": [0.8, 0.8], "areas": [296, 296]}
    )
    checks = performance_check(metrics, fold_wapes=[0.10, 0.12, 0.11], backtest_coverage=0.8)
    assert {c.period for c in checks} == {"2024Q2"} and not any(c.outside for c in checks)
