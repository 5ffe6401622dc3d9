"""Explanations: exact additivity for every kind of model, the planted drivers recovered, sentences
that follow the data, and baselines explained as what they are."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
import pytest

from features import BUILDERS
from models import MODELS
from models.glm import PoissonGLM
from tests.model.backtests import FEATURES, panel_folds
from workbench.backtest import run_backtest
from workbench.config import ExplainConfig
from workbench.data.contract import Covariate, Panel
from workbench.explain import explain_candidate, explanation_task
from workbench.explain.drivers import driver_table
from workbench.explain.stability import driver_stability
from workbench.explain.units import base_forecast, households
from workbench.explain.values import explain_rows
from workbench.featurize import build_feature_table
from workbench.fit import fit_final, latest_rows

TOLERANCE = 1e-6


class AgnosticGLM(PoissonGLM):
    """The GLM explained as a black box, to exercise the model-agnostic path."""

    model: ClassVar[str] = "agnostic_glm"
    explainer: ClassVar = "model_agnostic"


@pytest.fixture(scope="module")
def table(england: Panel):
    return build_feature_table(
        england, target="owed_duty", builders=FEATURES, horizons=[1, 2], reference_windows={4, 2}
    )


EVERY_KIND = [
    MODELS["poisson_glm"](),
    MODELS["lightgbm"](n_estimators=60),
    MODELS["lightgbm"](n_estimators=60, transform="ratio"),
    MODELS["lightgbm"](n_estimators=60, objective="tweedie"),
    MODELS["lightgbm"](n_estimators=60, objective="l2", transform="difference"),
    MODELS["lightgbm"](n_estimators=60, objective="l2", transform="log"),
    MODELS["lightgbm"](n_estimators=60, objective="l2", transform="ratio", ratio_window=2),
    MODELS["lightgbm"](n_estimators=60, objective="l2"),
    AgnosticGLM(),
]


@pytest.mark.parametrize(
    "spec", EVERY_KIND, ids=[s.candidate if s.model != "agnostic_glm" else "model_agnostic" for s in EVERY_KIND]
)
def test_base_plus_contributions_reproduce_the_model_output(table, spec) -> None:
    train = table.frame[table.frame["actual"].notna()]
    forecaster = spec.make(features=table.features, seed=1).fit(train, train["actual"].to_numpy(float))
    # permutation SHAP predicts once per evaluation and explains one row at a time, so the model-agnostic
    # path explains two rows only (additivity is checked row by row)
    rows = latest_rows(table).iloc[: 2 if spec.explainer == "model_agnostic" else 400]
    explanation = explain_rows(
        spec,
        forecaster,
        rows,
        background=train.sample(1500, random_state=1),
        features=table.features,
        seed=1,
        max_evals=100,
    )
    assert (explanation.additivity_error <= TOLERANCE * np.maximum(1, np.abs(explanation.output))).all()
    # the translation into households adds up to the forecast the user sees (where it was not clipped at zero)
    shown = np.asarray(forecaster.predict(rows), dtype=float)
    unclipped = shown > 0
    total = households(explanation).sum(axis=1).to_numpy() + base_forecast(explanation)
    np.testing.assert_allclose(total[unclipped], shown[unclipped], rtol=1e-6, atol=1e-6)
    expected_scale = {
        "poisson_glm": "log",
        "lightgbm_poisson_none": "log",
        "lightgbm_tweedie_none": "log",
        "lightgbm_poisson_ratio": "log1p",
        "lightgbm_l2_log": "log1p",
        "lightgbm_l2_difference": "identity",
        "lightgbm_l2_ratio": "identity",
        "lightgbm_l2_none": "identity",
        "agnostic_glm": "identity",
    }
    assert explanation.scale == expected_scale[spec.candidate]


def test_a_failed_additivity_check_is_caught(table) -> None:
    train = table.frame[table.frame["actual"].notna()]
    spec = MODELS["lightgbm"](n_estimators=30)
    forecaster = spec.make(features=table.features, seed=1).fit(train, train["actual"].to_numpy(float))
    explanation = explain_rows(
        spec, forecaster, latest_rows(table).iloc[:50], background=train, features=table.features, seed=1
    )
    broken = explanation.values.assign(**{explanation.values.columns[0]: explanation.values.iloc[:, 0] + 0.01})
    tampered = explanation.__class__(**{**explanation.__dict__, "values": broken})
    assert (tampered.additivity_error > 1e-3).all()


@pytest.mark.slow
def test_global_shap_ranking_recovers_the_planted_drivers(england: Panel) -> None:
    rng = np.random.default_rng(9)
    frame = england.frame.assign(placebo_index=np.exp(rng.normal(0, 0.3, len(england.frame))))
    spec_ = england.spec.__class__(
        **{**england.spec.__dict__, "covariates": (*england.spec.covariates, Covariate("placebo_index", 1))}
    )
    panel = Panel(frame=frame, spec=spec_, source="england with placebo")
    builders = [*FEATURES, BUILDERS["covariate"](column="placebo_index", transform="log", relative=True)]
    table = build_feature_table(panel, target="owed_duty", builders=builders, horizons=[1])
    spec = MODELS["lightgbm"](transform="ratio")
    folds = panel_folds(frame, origins=2)
    backtest = run_backtest(table, [spec], folds, level=0.8, min_calibration_folds=1, seed=1)
    fit = fit_final(table, [spec], bands=backtest.bands, seed=1)[spec.candidate]
    explained = explain_candidate(
        spec, table=table, panel=panel, backtest=backtest, fit=fit, config=ExplainConfig(), seed=1
    )
    ranking = explained.concept_importance["mean_abs_value"]
    assert ranking.index[0] == "recent demand"
    for planted in ("possession claims rate", "seasonality", "claimant rate", "deprivation"):
        assert ranking[planted] > 1.5 * ranking["placebo index"], ranking.round(4).to_dict()
    assert list(ranking.index[1:3]) == ["possession claims rate", "seasonality"], ranking.round(4).to_dict()
    # direction: more possession claims (relative to other areas) push the forecast up
    values = explained.backtest_explanation
    feature = "possession_claims_rate_lag2_log_rel"
    assert np.corrcoef(values.data[feature], values.values[feature])[0, 1] > 0.7


def _explain_inputs(panel: Panel, table, spec, *, origins: int = 1) -> dict:
    """A backtest of `spec` over `origins` one-step origins and its final fit: what `explain_candidate` takes."""
    folds = panel_folds(panel.frame, origins=origins)
    backtest = run_backtest(table, [spec], folds, level=0.8, min_calibration_folds=1, seed=1)
    fit = fit_final(table, [spec], bands=backtest.bands, seed=1)[spec.candidate]
    return dict(table=table, panel=panel, backtest=backtest, fit=fit, config=ExplainConfig(), seed=1)


def test_only_an_explanation_asked_for_a_contrast_explains_the_reference_periods(england: Panel) -> None:
    """The winner's sentences compare each forecast with the area's recent periods; the other candidates'
    name the drivers only, so their reference rows (four per forecast row) are not explained."""
    table = build_feature_table(england, target="owed_duty", builders=FEATURES, horizons=[1], reference_windows={4})
    spec = MODELS["lightgbm"](n_estimators=60)
    inputs = _explain_inputs(england, table, spec)
    fit = inputs["fit"]
    winner = explain_candidate(spec, **inputs)
    other = explain_candidate(spec, **inputs, contrast=False)
    assert winner.drivers["change_text"].str.startswith("Compared with the last four quarters in this area").all()
    assert other.drivers.get("change_text", pd.Series(dtype=str)).fillna("").eq("").all()
    assert not other.drivers["sentence"].str.contains("Compared with the last four quarters").any()
    assert other.drivers["driver_1"].isna().all()  # no change against a reference to decompose
    typical = ["area_code", "typical_driver_1", "typical_driver_2", "typical_driver_3", "typical_text"]
    pd.testing.assert_frame_equal(winner.drivers[typical], other.drivers[typical])  # the same view of the area
    assert len(explanation_task(spec, **inputs).references) == 4 * len(fit.forecast_rows)
    assert explanation_task(spec, **inputs, contrast=False).references.empty  # nothing more to explain


def test_a_planted_rise_in_one_areas_possession_claims_changes_its_sentence(england: Panel) -> None:
    table = build_feature_table(england, target="owed_duty", builders=FEATURES, horizons=[1])
    train = table.frame[table.frame["actual"].notna()]
    spec = MODELS["lightgbm"](transform="ratio")
    forecaster = spec.make(features=table.features, seed=1).fit(train, train["actual"].to_numpy(float))
    rows = latest_rows(table)
    area = rows.loc[rows["possession_claims_rate_lag2_log_rel"].abs().idxmin(), "area_code"]  # an ordinary area
    changed = rows.copy()
    changed.loc[changed["area_code"] == area, "possession_claims_rate_lag2_log_rel"] = 1.2  # claims tripled

    def sentence_and_drivers(frame: pd.DataFrame) -> tuple[str, dict]:
        explanation = explain_rows(spec, forecaster, frame, background=train, features=table.features, seed=1)
        drivers = driver_table(
            explanation,
            rows=frame,
            names=pd.Series(dtype=str),
            lower=np.full(len(frame), np.nan),
            upper=np.full(len(frame), np.nan),
            level=0.8,
        )
        row = drivers[drivers["area_code"] == area].iloc[0]
        return row["sentence"], {row[f"typical_driver_{i}"]: row[f"typical_driver_{i}_percent"] for i in (1, 2, 3)}

    before, _before_drivers = sentence_and_drivers(rows)
    after, after_drivers = sentence_and_drivers(changed)
    assert "landlord possession claims" not in before
    assert "possession claims rate" in after_drivers and after_drivers["possession claims rate"] > 5
    assert "landlord possession claims (" in after and "higher than a typical area's" in after
    assert after != before


def test_baselines_are_explained_as_what_they_are(england: Panel) -> None:
    table = build_feature_table(england, target="owed_duty", builders=FEATURES[:1], horizons=[1])
    naive = MODELS["naive"]()
    inputs = _explain_inputs(england, table, naive)
    explained = explain_candidate(naive, **inputs)
    assert explained.method == "baseline" and explained.values is None
    first = explained.drivers.iloc[0]
    assert first["sentence"].endswith(
        f"This baseline repeats the latest observed value ({round(first['latest']):,} in {first['origin']})."
    )
    assert first["forecast"] == first["latest"]


def test_stability_compares_top_drivers_between_consecutive_origins() -> None:
    from workbench.explain.values import AdditiveExplanation

    keys = pd.DataFrame(
        {
            "area_code": ["A", "A", "A"],
            "origin": pd.period_range("2024Q1", periods=3, freq="Q"),
            "horizon": 1,
            "target_period": pd.period_range("2024Q2", periods=3, freq="Q"),
        }
    )
    values = pd.DataFrame({"a": [3.0, 3.0, 0.1], "b": [2.0, 0.1, 3.0], "c": [1.0, 2.0, 2.0], "d": [0.0, 1.0, 1.0]})
    explanation = AdditiveExplanation(
        keys,
        "log",
        np.zeros(3),
        values,
        values,
        values.sum(axis=1).to_numpy(),
        np.ones(3),
        {c: c for c in "abcd"},
        "tree",
    )
    pairs, summary = driver_stability(explanation, top=2)
    assert pairs["jaccard"].tolist() == [1 / 3, 1 / 3]
    assert pairs["top_driver_unchanged"].tolist() == [True, False]
    assert summary["top1_unchanged_share"] == 0.5
