"""Model behaviour on synthetic England: beats the naive baselines, finds the planted drivers, and
follows a trend when given a target transform."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features import BUILDERS
from models import MODELS
from tests.model.backtests import FEATURES, panel_folds
from workbench.backtest import run_backtest
from workbench.config import DataConfig
from workbench.data.contract import Covariate, Panel
from workbench.data.load import load_panel
from workbench.featurize import build_feature_table

BASELINES = [MODELS["naive"](), MODELS["seasonal_naive"](), MODELS["recent_mean"]()]
MASE_MARGIN = 0.10  # LightGBM must be at least 10% better than naive and seasonal naive


def backtest(panel: Panel, models, *, origins: int = 4):
    table = build_feature_table(panel, target="owed_duty", builders=FEATURES, horizons=[1])
    folds = panel_folds(panel.frame, origins=origins)
    return run_backtest(table, models, folds, level=0.8, min_calibration_folds=2, seed=1)


@pytest.mark.slow
def test_lightgbm_beats_naive_and_seasonal_naive_on_mase(england: Panel) -> None:
    result = backtest(england, [*BASELINES, MODELS["lightgbm"](transform="ratio")])
    mase = result.summary.set_index("candidate")["mase"]
    assert mase["lightgbm_poisson_ratio"] <= mase["naive"] * (1 - MASE_MARGIN), mase.to_dict()
    assert mase["lightgbm_poisson_ratio"] <= mase["seasonal_naive"] * (1 - MASE_MARGIN), mase.to_dict()
    coverage = result.summary.set_index("candidate")["coverage"]
    assert coverage.between(0.65, 0.95).all(), coverage.to_dict()


@pytest.mark.slow
def test_planted_drivers_outrank_a_placebo_in_lightgbm_importance(england: Panel) -> None:
    rng = np.random.default_rng(5)
    frame = england.frame.copy()
    frame["placebo_index"] = np.exp(rng.normal(0, 0.3, len(frame)))  # no effect on anything
    spec = england.spec.__class__(
        **{**england.spec.__dict__, "covariates": (*england.spec.covariates, Covariate("placebo_index", 1))}
    )
    panel = Panel(frame=frame, spec=spec, source="england with placebo")
    builders = [*FEATURES, BUILDERS["covariate"](column="placebo_index", transform="log", relative=True)]
    table = build_feature_table(panel, target="owed_duty", builders=builders, horizons=[1])
    train = table.frame[table.frame["actual"].notna()]
    fitted = (
        MODELS["lightgbm"](transform="ratio")
        .make(features=table.features, seed=1)
        .fit(train, train["actual"].to_numpy(float))
    )
    gain = pd.Series(fitted.regressor_.booster_.feature_importance("gain"), index=table.feature_names)
    by_concept = (gain / gain.sum()).groupby(table.concept_of()).sum().sort_values(ascending=False)
    placebo = by_concept["placebo index"]
    for planted in ("seasonality", "recent demand", "possession claims rate", "claimant rate", "deprivation"):
        assert by_concept[planted] > 1.5 * placebo, by_concept.round(3).to_dict()
    planted_concepts = {
        "recent demand",
        "seasonality",
        "possession claims rate",
        "claimant rate",
        "deprivation",
        "private rent index",
        "COVID period",
        "urban/rural",
    }
    assert set(by_concept.index[:4]) <= planted_concepts, by_concept.round(3).to_dict()


@pytest.mark.slow
def test_on_a_trending_panel_a_transform_beats_a_raw_level_tree() -> None:
    """With every area growing 25% a year, the ratio-to-recent-level model forecasts better and with
    less bias than the same trees on raw levels, which cannot go beyond the levels they were trained on."""
    trending = load_panel(DataConfig(synthetic={"trend_per_year": 0.25}))
    raw, ratio = MODELS["lightgbm"](), MODELS["lightgbm"](transform="ratio")
    table = build_feature_table(trending, target="owed_duty", builders=FEATURES, horizons=[1, 2, 3, 4])
    folds = panel_folds(trending.frame, origins=4, max_horizon=4)
    summary = run_backtest(
        table, [MODELS["naive"](), raw, ratio], folds, level=0.8, min_calibration_folds=2, seed=1
    ).summary.set_index("candidate")
    assert summary.loc[ratio.candidate, "mase"] < summary.loc[raw.candidate, "mase"], summary.round(3).to_dict()
    assert abs(summary.loc[ratio.candidate, "bias"]) < abs(summary.loc[raw.candidate, "bias"]) / 2
    assert summary.loc[raw.candidate, "bias"] < 0  # levels lag behind a rising series


def test_row_order_of_the_input_does_not_change_the_forecast(england: Panel) -> None:
    shuffled = Panel(frame=england.frame.sample(frac=1, random_state=3), spec=england.spec, source="shuffled")
    one = backtest(england, [MODELS["naive"](), MODELS["poisson_glm"]()], origins=1).predictions
    two = backtest(shuffled, [MODELS["naive"](), MODELS["poisson_glm"]()], origins=1).predictions
    key = ["candidate", "area_code", "horizon"]
    pd.testing.assert_frame_equal(
        one.sort_values(key).reset_index(drop=True), two.sort_values(key).reset_index(drop=True)
    )
