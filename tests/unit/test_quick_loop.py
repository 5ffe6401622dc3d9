"""The quick loop's pieces: the `quick:` section, the exploratory variant of an experiment, the
TreeSHAP values LightGBM computes itself, and a quick train's imports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from workbench.config import parse_experiment
from workbench.errors import ConfigError
from workbench.explain.values import tree_shap
from workbench.train import quick_variant

SOURCE = Path("quick.yaml")
EXPERIMENT = """
name: quick_test
target: owed_duty
data: {synthetic: {}}
models:
  - {model: naive}
  - {model: seasonal_naive}
  - {model: poisson_glm}
  - {model: lightgbm, objective: poisson, transform: ratio}
  - {model: lightgbm, objective: l2, transform: difference}
backtest: {origins: 8, min_calibration_folds: 3}
"""


def test_the_quick_variant_keeps_every_baseline_and_the_named_candidates() -> None:
    experiment = parse_experiment(EXPERIMENT + "quick: {origins: 3, models: [lightgbm_poisson_ratio]}", source=SOURCE)
    quick = quick_variant(experiment)
    assert [m.candidate for m in quick.models] == ["naive", "seasonal_naive", "lightgbm_poisson_ratio"]
    assert quick.backtest.origins == 3 and quick.backtest.min_calibration_folds == 2  # one fold is left to score
    assert experiment.backtest.origins == 8 and len(experiment.models) == 5  # the experiment itself is unchanged


def test_without_a_quick_section_every_candidate_is_kept_on_two_origins() -> None:
    quick = quick_variant(parse_experiment(EXPERIMENT, source=SOURCE))
    assert len(quick.models) == 5 and quick.backtest.origins == 2 and quick.backtest.min_calibration_folds == 1


def test_quick_models_must_be_candidates_of_the_experiment() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_experiment(EXPERIMENT + "quick: {models: [lightgbm, naive]}", source=SOURCE)
    assert (
        "quick.models: lightgbm not among the candidates; known: naive, seasonal_naive, poisson_glm, "
        "lightgbm_poisson_ratio, lightgbm_l2_difference"
    ) in str(raised.value)


def test_lightgbm_tree_shap_matches_shap_and_adds_up_to_the_raw_margin() -> None:
    import shap

    rng = np.random.default_rng(3)
    X = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300), "c": rng.integers(0, 4, 300)})
    X["c"] = X["c"].astype("category")
    y = np.exp(0.5 * X["a"] - 0.2 * X["b"] + X["c"].cat.codes * 0.3) * 5
    model = lgb.LGBMRegressor(objective="poisson", n_estimators=40, verbose=-1).fit(X, y)
    base, values = tree_shap(model, X)
    reference = shap.TreeExplainer(model)(X)
    np.testing.assert_allclose(values, reference.values, rtol=1e-9, atol=1e-9)
    assert base == pytest.approx(float(np.ravel(reference.base_values)[0]))
    np.testing.assert_allclose(base + values.sum(axis=1), model.predict(X, raw_score=True), rtol=1e-9, atol=1e-9)


def test_the_training_spine_imports_no_plotting_explaining_or_auditing_library() -> None:
    """A quick train never draws, runs SHAP's package or audits: importing the spine loads none of them."""
    code = (
        "import sys, workbench.train; "
        "print(sorted(m for m in ('shap', 'matplotlib', 'fairlearn', 'statsforecast') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
