"""Feature builders: registered, named from their parameters, correct, and free of leakage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import features
from features import BUILDERS, BuildContext, FeatureBuilder
from tests.unit.panels import PERIODS, SPEC, panel
from workbench.data.contract import AREA, PERIOD, Panel
from workbench.featurize import build_feature_table

# One representative configuration per registered builder; the test below insists on it.
EXAMPLES: dict[str, list[FeatureBuilder]] = {
    "lag": [BUILDERS["lag"](lags=[1, 2, 5])],
    "rolling": [BUILDERS["rolling"](stat=s, windows=[2, 4]) for s in ("mean", "std", "min", "max")],
    "growth": [BUILDERS["growth"](kind=k, periods=[1, 4]) for k in ("difference", "percent", "log_ratio")],
    "seasonal": [BUILDERS["seasonal"]()],
    "structural_break": [BUILDERS["structural_break"](start="2020Q2", end="2020Q4", window=3)],
    "covariate": [
        BUILDERS["covariate"](column="now", lags=[1, 2]),
        BUILDERS["covariate"](column="late", transform="log", relative=True),
        BUILDERS["covariate"](column="late", change=2, relative=True),
    ],
    "static": [BUILDERS["static"](columns=["region", "score"])],
    "regional_trend": [BUILDERS["regional_trend"](level="region", periods=2)],
}


def test_every_builder_subclass_is_registered_and_has_an_example() -> None:
    # builders defined by other tests (a leaky one, say) live in test modules, not in the catalogue
    subclasses = {cls for cls in FeatureBuilder.__subclasses__() if cls.__module__.startswith("features.")}
    assert subclasses == set(BUILDERS.values())
    assert set(EXAMPLES) == set(BUILDERS)
    assert features.__all__  # the package exports its public names


def test_names_derive_from_parameters() -> None:
    assert BUILDERS["lag"](lags=[1, 4]).name == "lag_1_4"
    assert BUILDERS["rolling"](stat="max", windows=[4, 8]).name == "rolling_max_w4_w8"
    assert BUILDERS["growth"](kind="percent", periods=[4]).name == "growth_percent_p4"
    assert BUILDERS["covariate"](column="late", transform="log", relative=True).name == "covariate_late_log_relative"
    assert BUILDERS["regional_trend"](periods=2).name == "regional_trend_region_p2"
    infos = BUILDERS["covariate"](column="late", change=2, relative=True).infos(SPEC, "y")
    assert [i.name for i in infos] == ["late_change2_lag3_rel"]  # publication lag 2 -> first usable lag 3


def _build(p: Panel, builder: FeatureBuilder, horizon: int) -> pd.DataFrame:
    frame = p.frame.sort_values([AREA, PERIOD]).reset_index(drop=True)
    out = builder.build(BuildContext(frame=frame, spec=p.spec, target="y", horizon=horizon))
    return pd.concat([frame[[AREA, PERIOD]], out], axis=1)


ALL_EXAMPLES = [(name, b) for name, bs in EXAMPLES.items() for b in bs]


@pytest.mark.parametrize("name,builder", ALL_EXAMPLES, ids=[f"{n}-{b.name}" for n, b in ALL_EXAMPLES])
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    origin=st.integers(min_value=0, max_value=len(PERIODS) - 1),
    horizon=st.integers(min_value=1, max_value=5),
    seed=st.integers(min_value=0, max_value=10_000),
)
def test_changing_anything_after_the_origin_leaves_features_at_the_origin_unchanged(
    name: str, builder: FeatureBuilder, origin: int, horizon: int, seed: int
) -> None:
    original = panel()
    cutoff = PERIODS[origin]
    changed = original.frame.copy()
    rng = np.random.default_rng(seed)
    after = changed[PERIOD] > cutoff
    changed.loc[after, "y"] = rng.poisson(200, after.sum())
    changed.loc[after, "now"] = rng.uniform(50, 90, after.sum())
    unpublished = changed[PERIOD] > cutoff - 2  # 'late' is published two quarters after its period
    changed.loc[unpublished, "late"] = rng.uniform(50, 90, unpublished.sum())
    before = _build(original, builder, horizon)
    after_change = _build(Panel(frame=changed, spec=SPEC, source="test"), builder, horizon)
    known = before[PERIOD] <= cutoff
    pd.testing.assert_frame_equal(before[known], after_change[known])


def test_the_property_test_can_fail_on_a_leaky_builder() -> None:
    """A builder that peeks one period ahead is caught by the same comparison."""

    class Peek(FeatureBuilder):
        builder = "peek"

        @property
        def name(self) -> str:
            return "peek"

        def build(self, ctx: BuildContext) -> pd.DataFrame:
            return pd.DataFrame({"next": ctx.by_area["y"].shift(-1)}, index=ctx.frame.index)

    original = panel()
    changed = original.frame.copy()
    changed.loc[changed[PERIOD] > PERIODS[5], "y"] += 100
    before = _build(original, Peek(), 1)
    after = _build(Panel(frame=changed, spec=SPEC, source="test"), Peek(), 1)
    known = before[PERIOD] <= PERIODS[5]
    with pytest.raises(AssertionError):
        pd.testing.assert_frame_equal(before[known], after[known])


def test_lag_rolling_and_seasonal_values() -> None:
    p = panel()
    a1 = p.frame[p.frame[AREA] == "A1"].reset_index(drop=True)["y"]
    lags = _build(p, BUILDERS["lag"](lags=[1, 3]), 1)
    lags = lags[lags[AREA] == "A1"].reset_index(drop=True)
    assert lags["y_lag1"].equals(a1)
    assert lags["y_lag3"].iloc[5] == a1.iloc[3]
    rolling = _build(p, BUILDERS["rolling"](windows=[4]), 1)
    assert rolling.loc[rolling[AREA] == "A1", "y_rolling_mean_w4"].iloc[7] == pytest.approx(a1.iloc[4:8].mean())
    for horizon, back in ((1, 3), (4, 0), (5, 3)):  # the nearest same quarter observed at the origin
        seasonal = _build(p, BUILDERS["seasonal"](), horizon)
        value = seasonal.loc[seasonal[AREA] == "A1", "y_same_period_last_year"].iloc[10]
        assert value == a1.iloc[10 - back], horizon
        assert (PERIODS[10] + horizon).quarter == PERIODS[10 - back].quarter


def test_regional_trend_leaves_the_area_out() -> None:
    p = panel()
    built = _build(p, BUILDERS["regional_trend"](periods=2), 1)
    frame = p.frame
    at = PERIODS[6]
    others = frame[(frame["region"] == "North") & (frame[AREA] != "A1")]
    expected = np.log(
        (others.loc[others[PERIOD] == at, "y"].sum() + 1) / (others.loc[others[PERIOD] == at - 2, "y"].sum() + 1)
    )
    value = built.loc[(built[AREA] == "A1") & (built[PERIOD] == at), "y_region_growth_p2_excl_self"].iloc[0]
    assert value == pytest.approx(expected)


def test_feature_table_targets_are_the_future_and_keys_are_complete() -> None:
    p = panel()
    table = build_feature_table(p, target="y", builders=[BUILDERS["lag"](lags=[1])], horizons=[1, 2])
    frame = table.frame
    row = frame[(frame[AREA] == "A2") & (frame["origin"] == PERIODS[3]) & (frame["horizon"] == 2)].iloc[0]
    truth = p.frame.set_index([AREA, PERIOD])["y"]
    assert row["actual"] == truth[("A2", PERIODS[5])]
    assert row["target_period"] == PERIODS[5]
    assert frame.loc[frame["origin"] == PERIODS[-1], "actual"].isna().all()
    assert len(frame) == 6 * 16 * 2
