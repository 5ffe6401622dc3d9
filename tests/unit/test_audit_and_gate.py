"""The audit's metrics, judges, verdict rule and configuration, and the gate's checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.audit import audit_candidate
from workbench.audit.metrics import metric_frame, row_stats, unit_stats
from workbench.audit.verdict import adjust
from workbench.config import AUDIT_ALL_OFF, AuditConfig, AuditThresholds, parse_experiment
from workbench.errors import ConfigError
from workbench.gate import Approval, Champion, Evidence, evaluate


def predictions(
    *,
    areas_per_group: dict[str, int],
    factor: dict[str, float],
    error: dict[str, float] | None = None,
    folds: int = 8,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(model, naive, static): Poisson actuals around each area's level; the model forecasts the level
    times `factor` with a per-area and per-row error of `error` (default 2%); naive forecasts last
    period's actual."""
    rng = np.random.default_rng(seed)
    rows, static = [], []
    for group, count in areas_per_group.items():
        sd = (error or {}).get(group, 0.02)
        for i in range(count):
            area = f"{group}{i:03d}"
            static.append({"area_code": area, "region": group})
            level = rng.uniform(20, 800)
            area_error = np.exp(rng.normal(0, sd))
            previous = rng.poisson(level)
            for fold in range(folds):
                actual = float(rng.poisson(level))
                for candidate, forecast in (
                    ("model", level * factor.get(group, 1.0) * area_error * np.exp(rng.normal(0, sd))),
                    ("naive", float(previous)),
                ):
                    rows.append(
                        {
                            "candidate": candidate,
                            "area_code": area,
                            "fold": fold,
                            "horizon": 1,
                            "actual": actual,
                            "forecast": forecast,
                            "scale": 0.1 * level,
                            "lower": forecast * 0.85 if fold else np.nan,
                            "upper": forecast * 1.15 if fold else np.nan,
                        }
                    )
                previous = actual
    frame = pd.DataFrame(rows)
    return (
        frame[frame["candidate"] == "model"].reset_index(drop=True),
        frame[frame["candidate"] == "naive"].reset_index(drop=True),
        pd.DataFrame(static).set_index("area_code"),
    )


CONFIG = AuditConfig(groupings=["region"], min_group_size=10)


def audit(model, naive, static, config=CONFIG, seed=1):
    return audit_candidate(
        "model", model, static=static, config=config, default_groupings=("region",), seed=seed, baseline=naive
    )


def test_group_metrics_from_metricframe_match_a_hand_computation() -> None:
    model, naive, static = predictions(areas_per_group={"A": 12, "B": 15}, factor={})
    units = unit_stats(row_stats(model, naive), block_length=None)
    by_group = metric_frame(units, static.loc[units.index, "region"]).by_group
    a = model[model["area_code"].str.startswith("A")]
    n = naive[naive["area_code"].str.startswith("A")]
    assert by_group.loc["A", "bias"] == pytest.approx((a["forecast"] - a["actual"]).sum() / a["actual"].sum())
    assert by_group.loc["A", "wape"] == pytest.approx((a["forecast"] - a["actual"]).abs().sum() / a["actual"].sum())
    calibrated = a["upper"].notna()
    assert by_group.loc["A", "under_upper_share"] == pytest.approx((a["actual"] > a["upper"])[calibrated].mean())
    skill = (a["actual"] - a["forecast"]).clip(lower=0).sum() / (n["actual"] - n["forecast"]).clip(lower=0).sum()
    assert by_group.loc["A", "skill"] == pytest.approx(skill)


def test_a_group_under_forecast_by_a_quarter_fails_and_the_reasons_name_it() -> None:
    model, naive, static = predictions(areas_per_group={"A": 30, "B": 20, "C": 15}, factor={"C": 0.75})
    result = audit(model, naive, static)
    assert not result.passed
    assert set(result.failures["group"]) == {"C"}
    assert {"bias", "under_rate", "skill"} <= set(result.failures["check"])
    assert any(r.startswith("bias for region=C is 0.2") for r in result.reasons())
    assert result.reasons()[-1] == result.summary()


def test_over_forecast_and_more_accurate_groups_never_fail() -> None:
    model, naive, static = predictions(
        areas_per_group={"Female": 16, "Male": 16, "Other": 20},
        factor={"Female": 1.15},
        error={"Male": 0.002, "Female": 0.02, "Other": 0.03},
    )
    result = audit(model, naive, static)
    assert result.passed, result.reasons()
    rows = result.disparities.set_index(["group", "check"])
    assert rows.loc[("Male", "bias"), "verdict"] == "pass"  # forecast more accurately: a pass, not a failure
    assert rows.loc[("Female", "bias"), "value"] == 0.0  # over-forecast counts as no gap at all


def test_a_gap_the_status_quo_already_has_is_not_held_against_the_model() -> None:
    model, naive, static = predictions(areas_per_group={"A": 30, "B": 30}, factor={"B": 0.9})
    status_quo = naive.assign(forecast=np.where(naive["area_code"].str.startswith("B"), 0.85, 1.0) * naive["forecast"])
    assert not audit(model, naive, static).passed
    result = audit(model, status_quo, static)
    assert result.disparities.set_index(["group", "check"]).loc[("B", "bias"), "verdict"] != "fail"


def test_groups_of_few_areas_are_judged_on_blocks_or_said_to_be_unjudgeable() -> None:
    model, naive, static = predictions(areas_per_group={"A": 30, "few": 4, "one": 1}, factor={"few": 0.6})
    result = audit(model, naive, static)
    few = result.disparities.query("group == 'few' and check == 'bias'").iloc[0]
    assert few["method"] == "block bootstrap over 16 area x 2-period blocks" and few["verdict"] == "fail"
    one = result.disparities.query("group == 'one' and check == 'bias'").iloc[0]
    assert one["verdict"] == "cannot be judged: 1 area(s), 4 area x 2-period blocks, fewer than 10"
    assert "could not judge 1 group(s): region=one (cannot be judged: 1 area(s)" in result.summary()
    skipped = audit(model, naive, static, CONFIG.model_copy(update={"small_groups": "skip"}))
    assert skipped.disparities.query("group == 'few'")["judged"].sum() == 0


def test_the_uncertain_policy_decides_what_an_uncertain_judgement_does() -> None:
    model, naive, static = predictions(areas_per_group={"A": 40, "B": 10}, factor={"B": 0.98}, seed=1)
    result = audit(model, naive, static)
    counts = result.counts()
    assert counts["uncertain"] > 0 and counts["fail"] == 0 and result.passed
    assert f"0 fail, {counts['uncertain']} uncertain (reported, not blocking)" in result.summary()
    assert result.headline_metrics()["fairness.judgements.uncertain"] == counts["uncertain"]
    blocked = audit(model, naive, static, CONFIG.model_copy(update={"uncertain": "block"}))
    assert not blocked.passed and "uncertain (blocking)" in blocked.reasons()[-1]
    approve = audit(model, naive, static, CONFIG.model_copy(update={"uncertain": "approve"}))
    assert approve.passed and approve.needs_approval and "needs a reviewer's approval" in approve.summary()


def test_holm_and_fdr_adjustments_match_a_hand_computation() -> None:
    p = np.array([0.01, 0.04, 0.03, np.nan, 0.005])
    assert adjust(p, "holm")[[4, 0, 2, 1]] == pytest.approx([0.02, 0.03, 0.06, 0.06])
    assert adjust(p, "fdr")[[4, 0, 2, 1]] == pytest.approx([0.02, 0.02, 0.04, 0.04])
    assert np.isnan(adjust(p, "holm")[3])


def test_every_judgement_states_its_smallest_detectable_effect() -> None:
    model, naive, static = predictions(areas_per_group={"A": 40, "B": 12}, factor={})
    d = audit(model, naive, static).disparities
    bias = d[d["check"] == "bias"].set_index("group")
    assert (bias["detectable"] > bias["limit"]).all()
    assert bias.loc["B", "detectable"] > bias.loc["A", "detectable"]  # fewer areas, larger detectable effect


def test_thresholds_all_null_are_a_clear_error_unless_the_audit_only_reports() -> None:
    off = {k: None for k in AuditThresholds.model_fields}
    text = "name: x\ntarget: owed_duty\ndata: {synthetic: {}}\naudit:\n  thresholds: " + str(off).replace(
        "None", "null"
    )
    with pytest.raises(ConfigError) as error:
        parse_experiment(text, source="x.yaml")
    assert AUDIT_ALL_OFF in str(error.value)
    model, naive, static = predictions(areas_per_group={"A": 30, "B": 20}, factor={"B": 0.7})
    report = audit(model, naive, static, AuditConfig(groupings=["region"], mode="report", thresholds=off))
    assert report.passed and report.summary().startswith("fairness audit report only: ")
    assert (report.disparities.query("group == 'B' and check == 'bias'")["verdict"] == "fail").all()


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
