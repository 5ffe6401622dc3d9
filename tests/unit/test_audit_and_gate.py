"""The audit's metrics, intervals and verdict rule, and the gate's checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.audit import audit_candidate
from workbench.audit.metrics import area_stats, metric_frame
from workbench.audit.verdict import Bounds, judge
from workbench.config import AuditConfig
from workbench.gate import Approval, Champion, Evidence, evaluate


def predictions(
    *, areas_per_group: dict[str, int], factor: dict[str, float], folds: int = 4, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    rows, static = [], []
    for group, count in areas_per_group.items():
        for i in range(count):
            area = f"{group}{i:03d}"
            static.append({"area_code": area, "region": group})
            level = rng.uniform(50, 500)
            for fold in range(folds):
                actual = rng.poisson(level)
                forecast = level * factor.get(group, 1.0) * rng.normal(1, 0.05)
                rows.append(
                    {
                        "area_code": area,
                        "fold": fold,
                        "horizon": 1,
                        "actual": float(actual),
                        "forecast": forecast,
                        "scale": 0.1 * level,
                        "lower": forecast * 0.8,
                        "upper": forecast * 1.2,
                    }
                )
    return pd.DataFrame(rows), pd.DataFrame(static).set_index("area_code")


CONFIG = AuditConfig(groupings=["region"], intersections=False, min_group_size=10, bootstrap=200)


def test_group_metrics_from_metricframe_match_a_hand_computation() -> None:
    preds, static = predictions(areas_per_group={"A": 12, "B": 15}, factor={})
    stats = area_stats(preds)
    by_group = metric_frame(stats, static.loc[stats.index, "region"]).by_group
    a = preds[preds["area_code"].str.startswith("A")]
    assert by_group.loc["A", "wape"] == pytest.approx((a["forecast"] - a["actual"]).abs().sum() / a["actual"].sum())
    assert by_group.loc["A", "under_share"] == pytest.approx((a["actual"] > a["forecast"]).mean())
    assert by_group.loc["A", "bias"] == pytest.approx((a["forecast"] - a["actual"]).sum() / a["actual"].sum())
    covered = (a["actual"] >= a["lower"]) & (a["actual"] <= a["upper"])
    assert by_group.loc["A", "coverage"] == pytest.approx(covered.mean())


def test_a_group_under_forecast_by_a_quarter_fails_and_the_reasons_name_it() -> None:
    preds, static = predictions(areas_per_group={"A": 30, "B": 20, "C": 15}, factor={"C": 0.75})
    result = audit_candidate("model", preds, static=static, config=CONFIG, default_groupings=("region",), seed=1)
    assert not result.passed
    failing = result.failures
    assert set(failing["group"]) == {"C"}
    assert {"under_share_difference", "bias_difference", "wape_ratio"} <= set(failing["check"])
    assert any("under_share_difference for region=C" in r for r in result.reasons())
    against_reference = result.disparities.query("group == 'A' and kind != 'value'")
    assert (against_reference["verdict"] == "reference").all()  # the largest group is the reference


def test_a_small_group_is_reported_but_not_judged() -> None:
    preds, static = predictions(areas_per_group={"A": 30, "B": 20, "tiny": 4}, factor={"tiny": 0.6})
    result = audit_candidate("model", preds, static=static, config=CONFIG, default_groupings=("region",), seed=1)
    tiny = result.disparities[result.disparities["group"] == "tiny"]
    assert len(tiny) > 0 and (tiny["verdict"] == "not judged (too small)").all()
    assert tiny.loc[tiny["check"] == "under_share_difference", "value"].iloc[0] > 0.3  # reported all the same
    assert result.passed
    assert result.groups.set_index("group").loc["tiny", "areas"] == 4


def test_the_verdict_uses_the_interval_not_just_the_point() -> None:
    bounds = Bounds(high=0.10)
    assert judge(0.12, 0.20, bounds) == "fail"  # the whole interval is above the bound
    assert judge(0.05, 0.20, bounds) == "uncertain"  # point estimate may be above, but the interval straddles it
    assert judge(0.01, 0.09, bounds) == "pass"
    # in an audit: a modest disparity in a small, noisy group is uncertain, not a failure
    preds, static = predictions(areas_per_group={"A": 40, "B": 10}, factor={"B": 0.97}, seed=0)
    result = audit_candidate("model", preds, static=static, config=CONFIG, default_groupings=("region",), seed=1)
    row = result.disparities.query("group == 'B' and check == 'under_share_difference'").iloc[0]
    assert row["value"] > 0.10 and row["low"] < 0.10 and row["verdict"] == "uncertain"
    assert result.passed
    strict = CONFIG.model_copy(update={"block_on_uncertain": True})
    assert not audit_candidate(
        "model", preds, static=static, config=strict, default_groupings=("region",), seed=1
    ).passed


def test_reference_group_can_be_named() -> None:
    preds, static = predictions(areas_per_group={"A": 30, "B": 20}, factor={})
    named = CONFIG.model_copy(update={"reference": {"region": "B"}})
    result = audit_candidate("model", preds, static=static, config=named, default_groupings=("region",), seed=1)
    assert set(result.disparities.loc[result.disparities["kind"] != "value", "reference"]) == {"B"}


EVIDENCE = Evidence(
    candidate="gbm",
    metric="mase",
    value=0.90,
    is_baseline=False,
    baselines={"naive": 1.1, "seasonal_naive": 1.2},
    audit_passed=True,
    audit_reasons=[],
    explanations_logged=True,
    additivity_passed=True,
    data_valid=True,
    data_warnings=0,
    dirty=False,
    commit="a" * 40,
    config_hash="c" * 16,
    data_digest="d" * 16,
)
SETTINGS = dict(baseline_margin=0.05, champion_tolerance=0.02, require_clean_tree=True, require_approval=False)


def test_a_good_first_candidate_passes_every_check() -> None:
    decision = evaluate(EVIDENCE, champion=None, approval=None, **SETTINGS)
    assert decision.passed and decision.reasons == []
    assert [c.name for c in decision.checks] == [
        "beats_baselines",
        "not_worse_than_champion",
        "fairness_audit",
        "explanations",
        "data_validation",
        "clean_tree",
    ]


@pytest.mark.parametrize(
    "change,failing",
    [
        ({"value": 1.06}, "beats_baselines"),
        ({"is_baseline": True}, "beats_baselines"),
        (
            {"audit_passed": False, "audit_reasons": ["under_share_difference for region=London is 0.4"]},
            "fairness_audit",
        ),
        ({"additivity_passed": False}, "explanations"),
        ({"explanations_logged": False}, "explanations"),
        ({"dirty": True}, "clean_tree"),
    ],
)
def test_each_failing_check_blocks_and_is_named(change, failing) -> None:
    evidence = EVIDENCE.__class__(**{**EVIDENCE.to_dict(), **change})
    decision = evaluate(evidence, champion=None, approval=None, **SETTINGS)
    assert not decision.passed
    assert [r.split(":")[0] for r in decision.reasons] == [failing]


def test_champion_comparison_and_tolerance() -> None:
    assert evaluate(EVIDENCE, champion=Champion("3", 0.89), approval=None, **SETTINGS).passed  # within 2%
    worse = evaluate(EVIDENCE, champion=Champion("3", 0.85), approval=None, **SETTINGS)
    assert worse.reasons == ["not_worse_than_champion: MASE 0.900 against champion version 3 0.850 (tolerance 2%)"]


def test_a_dirty_tree_is_recorded_but_not_blocking_when_allowed() -> None:
    evidence = EVIDENCE.__class__(**{**EVIDENCE.to_dict(), "dirty": True})
    decision = evaluate(evidence, champion=None, approval=None, **{**SETTINGS, "require_clean_tree": False})
    assert decision.passed
    assert "- clean_tree: noted: uncommitted changes present" in decision.summary()


def test_approval_is_required_when_configured() -> None:
    settings = {**SETTINGS, "require_approval": True}
    assert evaluate(EVIDENCE, champion=None, approval=None, **settings).reasons[0].startswith("approval: awaiting")
    approved = evaluate(EVIDENCE, champion=None, approval=Approval("A. Reviewer", "checked", "2026-11-21"), **settings)
    assert approved.passed
