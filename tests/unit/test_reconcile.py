"""Totals that add up: reconciliation over a declared hierarchy, its choice, its validation, and the
withholding of totals that would reveal a suppressed area."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.config import parse_experiment
from workbench.data.contract import AREA, HORIZON, ORIGIN, PERIOD, TARGET_PERIOD, Frequency, Panel, PanelSpec
from workbench.errors import ConfigError
from workbench.reconcile import (
    AREA_LEVEL,
    DEFAULT,
    TOTAL,
    Hierarchy,
    Reconciliation,
    check_hierarchy,
    choose,
    reconcile,
    reconcile_forecast,
)
from workbench.report.totals import SINGLE, withheld_totals

SOURCE = Path("experiments/x.yaml")
METHODS = ("bottom_up", "min_trace_wls_struct", "min_trace_ols")


def _membership(regions: list[int], nations: list[int]) -> pd.DataFrame:
    """Areas a0.. in regions r<k>, each region in nation n<regions[k] mod nations>: nested by construction."""
    region = [f"r{r}" for r in regions]
    return pd.DataFrame(
        {"nation": [f"n{nations[r % len(nations)]}" for r in regions], "region": region},
        index=pd.Index([f"a{i}" for i in range(len(regions))], name=AREA),
    )


def _sums(membership: pd.DataFrame, areas: np.ndarray, level: str) -> pd.Series:
    return pd.DataFrame(areas, index=membership.index).groupby(membership[level]).sum()


@settings(max_examples=40, deadline=None)
@given(
    regions=st.lists(st.integers(0, 5), min_size=1, max_size=30),
    nations=st.lists(st.integers(0, 2), min_size=1, max_size=3),
    horizons=st.integers(1, 3),
    seed=st.integers(0, 10_000),
    method=st.sampled_from(METHODS),
)
def test_reconciled_forecasts_sum_exactly_at_every_level(regions, nations, horizons, seed, method) -> None:
    membership = _membership(regions, nations)
    hierarchy = Hierarchy.of(membership, levels=("nation", "region"), total_label="All")
    rng = np.random.default_rng(seed)
    base = rng.gamma(2.0, 50.0, size=(len(hierarchy.nodes), horizons))  # every node's own, incoherent forecast
    values = reconcile(hierarchy, base, method)
    areas = values[hierarchy.aggregates :]
    assert (areas >= 0).all()
    nodes = hierarchy.nodes
    np.testing.assert_allclose(values[(nodes["level"] == TOTAL).to_numpy()][0], areas.sum(axis=0), rtol=1e-12)
    for level in ("nation", "region"):
        at = (nodes["level"] == level).to_numpy()
        expected = _sums(membership, areas, level).loc[nodes.loc[at, "node"]].to_numpy()
        np.testing.assert_allclose(values[at], expected, rtol=1e-12, atol=1e-9)


def test_bottom_up_keeps_the_areas_and_adds_them_up() -> None:
    membership = _membership([0, 0, 1, 2, 2, 2], [0])
    hierarchy = Hierarchy.of(membership, levels=("region",), total_label="All")
    areas = np.array([[3.0], [4.0], [10.0], [1.0], [2.0], [5.0]])
    base = np.vstack([np.full((hierarchy.aggregates, 1), 999.0), areas])  # aggregates' own forecasts ignored
    values = reconcile(hierarchy, base, DEFAULT)
    np.testing.assert_array_equal(values[hierarchy.aggregates :], areas)
    assert values[0, 0] == areas.sum()
    np.testing.assert_array_equal(values[1:4, 0], [7.0, 10.0, 8.0])


def test_min_trace_is_coherent_and_moves_towards_the_aggregates_own_forecasts() -> None:
    membership = _membership([0, 0, 1, 1], [0])
    hierarchy = Hierarchy.of(membership, levels=("region",), total_label="All")
    areas = np.array([[10.0], [10.0], [10.0], [10.0]])
    base = np.vstack([[[60.0]], [[30.0]], [[30.0]], areas])  # every aggregate says more than the areas add up to
    bottom_up = reconcile(hierarchy, base, DEFAULT)
    for method in ("min_trace_wls_struct", "min_trace_ols"):
        values = reconcile(hierarchy, base, method)
        assert 40.0 < values[0, 0] < 60.0  # between the areas' sum and the total's own forecast
        assert values[0, 0] == pytest.approx(values[hierarchy.aggregates :, 0].sum(), rel=1e-12)
        assert values[1, 0] == pytest.approx(values[3:5, 0].sum(), rel=1e-12)
        assert not np.allclose(values, bottom_up)


def _scores(**wape: tuple[float, float]) -> pd.DataFrame:
    rows = [
        {"method": m, "level": lv, "wape": w} for m, (t, a) in wape.items() for lv, w in ((TOTAL, t), (AREA_LEVEL, a))
    ]
    return pd.DataFrame(rows)


def test_bottom_up_is_chosen_unless_another_method_beats_its_total_without_worse_areas() -> None:
    methods = ["bottom_up", "min_trace_wls_struct"]
    assert choose(_scores(bottom_up=(0.05, 0.2), min_trace_wls_struct=(0.06, 0.2)), methods=methods)[0] == DEFAULT
    worse_areas = _scores(bottom_up=(0.05, 0.2), min_trace_wls_struct=(0.03, 0.25))
    assert choose(worse_areas, methods=methods)[0] == DEFAULT
    method, reason = choose(_scores(bottom_up=(0.05, 0.2), min_trace_wls_struct=(0.03, 0.2)), methods=methods)
    assert method == "min_trace_wls_struct"
    assert reason == "min_trace_wls_struct: total WAPE 3.00% against bottom_up's 5.00%, area WAPE 20.00% against 20.00%"


def _panel(membership: pd.DataFrame, groups: tuple[str, ...] = ("nation", "region")) -> Panel:
    periods = pd.period_range("2020Q1", "2023Q4", freq="Q")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        [(a, p, float(rng.poisson(40))) for a in membership.index for p in periods], columns=[AREA, PERIOD, "y"]
    ).merge(membership, left_on=AREA, right_index=True)
    spec = PanelSpec(frequency=Frequency.QUARTER, targets=("y",), static=tuple(membership.columns), groups=groups)
    return Panel(frame=frame, spec=spec, source="test")


def test_reconciled_forecast_totals_are_the_sums_of_the_returned_areas() -> None:
    membership = _membership([0, 0, 1, 2, 2], [0, 1])
    panel = _panel(membership)
    forecast = pd.DataFrame(
        [
            (a, pd.Period("2023Q4", "Q"), h, pd.Period("2023Q4", "Q") + h, 30.0 + i + h)
            for i, a in enumerate(membership.index)
            for h in (1, 2)
        ],
        columns=[AREA, ORIGIN, HORIZON, TARGET_PERIOD, "forecast"],
    ).assign(lower=lambda f: f["forecast"] * 0.8, upper=lambda f: f["forecast"] * 1.3)
    for method in ("bottom_up", "min_trace_wls_struct"):
        chosen = Reconciliation(method, ("nation", "region"), "All", "test", {})
        areas, totals = reconcile_forecast(forecast, panel=panel, target="y", chosen=chosen)
        for (level, horizon), rows in totals.groupby(["level", HORIZON]):
            mine = areas[areas[HORIZON] == horizon].set_index(AREA)["forecast"]
            by = pd.Series("All", index=mine.index) if level == TOTAL else membership.loc[mine.index, level]
            expected = mine.groupby(by).sum()
            np.testing.assert_allclose(rows.set_index("node")["forecast"].loc[expected.index], expected, rtol=1e-12)
        if method == DEFAULT:
            pd.testing.assert_series_equal(areas["forecast"], forecast["forecast"])


def test_an_undeclared_level_is_refused_with_the_file_key_and_fix() -> None:
    membership = _membership([0, 1], [0])
    experiment = parse_experiment(
        "name: a\ntarget: y\ndata: {synthetic: {}}\nhierarchy: {levels: [county]}", source=SOURCE
    )
    with pytest.raises(ConfigError) as caught:
        check_hierarchy(experiment, _panel(membership))
    assert str(caught.value) == (
        "experiments/x.yaml: hierarchy.levels: 'county' is not one of the panel's group columns (nation, region); "
        "list group columns, coarsest first (e.g. levels: [nation]), or declare it under data.file.columns.groups"
    )


def test_levels_that_do_not_nest_are_refused() -> None:
    membership = _membership([0, 1, 0], [0]).assign(nation=["n0", "n0", "n1"])  # region r0 in two nations
    experiment = parse_experiment(
        "name: a\ntarget: y\ndata: {synthetic: {}}\nhierarchy: {levels: [nation, region]}", source=SOURCE
    )
    with pytest.raises(ConfigError) as caught:
        check_hierarchy(experiment, _panel(membership))
    assert str(caught.value) == (
        "experiments/x.yaml: hierarchy.levels: 'region' is not nested in 'nation' (region 'r0' lies in 2 values of "
        "nation); list only nested group columns, coarsest first"
    )


@pytest.mark.parametrize(
    "hierarchy,expected",
    [
        (
            "{levels: [region], methods: [min_trace_wls_struct]}",
            "experiments/x.yaml: hierarchy: methods: include bottom_up; it is the default that another method must "
            "beat in the backtest (e.g. methods: [bottom_up, min_trace_wls_struct])",
        ),
        (
            "{levels: [region, region]}",
            "experiments/x.yaml: hierarchy: levels: 'region' is listed twice; list each group column once, coarsest "
            "first",
        ),
        (
            "{level: [region]}",
            "experiments/x.yaml: unknown key 'level' at hierarchy; known: levels, methods, total_label; did you mean "
            "'levels'?",
        ),
    ],
)
def test_the_hierarchy_key_is_validated_with_a_clear_message(hierarchy: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_experiment(f"name: a\ntarget: y\ndata: {{synthetic: {{}}}}\nhierarchy: {hierarchy}", source=SOURCE)
    assert expected in str(caught.value).splitlines()


def test_a_total_that_would_reveal_one_suppressed_area_is_withheld_and_so_is_the_total_above_it() -> None:
    areas = pd.DataFrame(
        {
            AREA: ["a", "b", "c", "d", "e"],
            "region": ["r0", "r0", "r0", "r1", "r2"],
            "withheld": [True, True, False, True, False],  # r0: two (a sum only); r1: its single area
        }
    )
    totals = pd.DataFrame(
        {
            "level": [TOTAL, "region", "region", "region"],
            "node": ["All", "r0", "r1", "r2"],
            "forecast": [200.0, 80, 5, 115],
        }
    )
    why = withheld_totals(totals, areas, levels=("region",), total_label="All", threshold=10)
    assert list(why) == [SINGLE, "", SINGLE, ""]
    # a second withheld region means the total reveals only a sum
    areas.loc[4, "withheld"] = True
    why = withheld_totals(totals, areas, levels=("region",), total_label="All", threshold=10)
    assert list(why) == ["", "", SINGLE, SINGLE]


def test_the_backtest_scores_every_method_at_every_level_and_bottom_up_keeps_the_models_areas(monkeypatch) -> None:
    from workbench.backtest import BacktestResult, Fold
    from workbench.config import HierarchyConfig
    from workbench.reconcile import backtest_levels

    membership = _membership([0, 0, 1, 1, 2, 2], [0, 1])
    panel = _panel(membership)
    actual = panel.frame.set_index([AREA, PERIOD])["y"]
    folds = tuple(Fold(i, pd.Period(p, "Q")) for i, p in enumerate(["2022Q4", "2023Q1", "2023Q2", "2023Q3"]))
    rng = np.random.default_rng(3)
    rows = [
        (f.index, f.origin, a, h, actual[(a, f.origin + h)], actual[(a, f.origin + h)] * rng.uniform(0.7, 1.3))
        for f in folds
        for a in membership.index
        for h in (1,)
    ]
    predictions = pd.DataFrame(rows, columns=["fold", ORIGIN, AREA, HORIZON, "actual", "forecast"]).assign(
        candidate="m"
    )
    backtest = BacktestResult(predictions, pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), {}, folds, 0.8)
    config = HierarchyConfig(levels=["nation", "region"], methods=["bottom_up", "min_trace_wls_struct"])
    result = backtest_levels(backtest, candidate="m", panel=panel, target="y", config=config, min_folds=2)
    scores = result.scores.set_index(["method", "level"])
    assert set(scores.index) == {
        (m, lv) for m in ("base", *config.methods) for lv in (TOTAL, "nation", "region", "area")
    }
    error = predictions["forecast"] - predictions["actual"]
    assert scores.loc[("bottom_up", "area"), "mae"] == pytest.approx(error.abs().mean())
    by_fold = predictions.assign(error=error).groupby("fold")["error"].sum().abs()
    assert scores.loc[("bottom_up", TOTAL), "mae"] == pytest.approx(by_fold.mean())
    assert result.method in config.methods and set(result.bands) == {TOTAL, "nation", "region"}
    assert 0 <= scores.loc[("bottom_up", TOTAL), "coverage"] <= 1  # folds 2 and 3 are calibrated on earlier ones
    assert Reconciliation.from_json(result.to_json()).bands == result.bands

    def no_own_forecasts(*args, **kwargs):
        raise AssertionError("BottomUp alone needs no forecast of the aggregates' own")

    import workbench.reconcile

    monkeypatch.setattr(workbench.reconcile, "aggregate_forecasts", no_own_forecasts)
    alone = backtest_levels(
        backtest,
        candidate="m",
        panel=panel,
        target="y",
        config=HierarchyConfig(levels=["nation", "region"]).model_copy(update={"methods": ["bottom_up"]}),
        min_folds=2,
    )
    assert set(alone.scores["method"]) == {"bottom_up"}
    pd.testing.assert_frame_equal(
        alone.scores.reset_index(drop=True),
        scores.loc["bottom_up"].reset_index().assign(method="bottom_up")[alone.scores.columns],
    )
