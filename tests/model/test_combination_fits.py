"""A combination on real fits: each fold's fitted combination forecasts exactly its backtest rows,
the final fit is the combination of the members' final forecasts, and its explanation adds up, in
households, to the weighted sum of its members' (reused when they were already computed)."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from models import MODELS
from models.combination import Combination, CombinationForecaster
from tests.model.backtests import FEATURES, panel_folds
from workbench.backtest import run_backtest, split
from workbench.combination import add_combinations, final_choice, final_fits
from workbench.config import ExplainConfig
from workbench.data.contract import AREA, HORIZON, Panel
from workbench.explain import explain, explanation_task, values
from workbench.explain.units import base_forecast, households
from workbench.explain.values import explain_rows
from workbench.featurize import build_feature_table
from workbench.fit import fit_final
from workbench.selection import SelectionRule

TOLERANCE = 1e-6
MEMBERS = [
    MODELS["naive"](),
    MODELS["poisson_glm"](),
    MODELS["lightgbm"](n_estimators=40, transform="ratio"),  # explained on log(1 + y), with a recent-level term
    MODELS["lightgbm"](n_estimators=40, objective="l2", transform="difference"),  # in households, with latest_value
]
COMBINATIONS = [Combination(k=2, how="inverse_error"), Combination(k=3, how="median")]
CANDIDATES = [*MEMBERS, *COMBINATIONS]


@pytest.fixture(scope="module")
def trained(england: Panel):
    table = build_feature_table(england, target="owed_duty", builders=FEATURES, horizons=[1, 2])
    folds = panel_folds(england.frame, origins=4, max_horizon=2)
    backtest = run_backtest(table, MEMBERS, folds, level=0.8, min_calibration_folds=1, seed=1)
    backtest = add_combinations(backtest, COMBINATIONS, candidates=CANDIDATES, rule=SelectionRule())
    fits = fit_final(table, MEMBERS, bands=backtest.bands, seed=1)
    fits |= final_fits(fits, backtest, COMBINATIONS, candidates=CANDIDATES)
    return table, backtest, fits


@pytest.mark.parametrize("spec", COMBINATIONS, ids=lambda s: s.how)
def test_each_folds_fitted_combination_forecasts_its_backtest_rows(trained, spec) -> None:
    table, backtest, _ = trained
    rows = backtest.predictions[backtest.predictions["candidate"] == spec.candidate]
    for fold in backtest.folds:
        _, test = split(table, fold)
        forecaster = backtest.fitted[(spec.candidate, fold.index)]
        made = pd.Series(forecaster.predict(test), index=pd.MultiIndex.from_frame(test[[AREA, HORIZON]]))
        scored = rows[rows["fold"] == fold.index].set_index([AREA, HORIZON])["forecast"]
        np.testing.assert_allclose(made.reindex(scored.index), scored, rtol=1e-12)
    assert rows["lower"].notna().any() and spec.candidate in backtest.bands


def test_the_final_fit_combines_the_members_final_forecasts(trained) -> None:
    _, backtest, fits = trained
    for spec in COMBINATIONS:
        choice = final_choice(backtest, spec.candidate)
        members = np.column_stack([fits[m].forecast["forecast"].to_numpy(float) for m in choice.members])
        expected = np.median(members, axis=1) if spec.how == "median" else members @ np.asarray(choice.weights)
        np.testing.assert_allclose(fits[spec.candidate].forecast["forecast"], expected, rtol=1e-12)
        assert fits[spec.candidate].forecast["upper"].notna().all()


@pytest.mark.parametrize("spec", COMBINATIONS, ids=lambda s: s.how)
def test_the_explanation_adds_up_to_the_forecast_as_the_weighted_members(trained, spec) -> None:
    table, _, fits = trained
    fit = fits[spec.candidate]
    forecaster = fit.forecaster
    rows = fit.forecast_rows.iloc[:300]
    train = table.frame[table.frame["actual"].notna()]
    background = train.sample(800, random_state=1)
    explained = explain_rows(spec, forecaster, rows, background=background, features=table.features, seed=1)
    assert explained.scale == "identity"
    assert (explained.additivity_error <= TOLERANCE * np.maximum(1, np.abs(explained.output))).all()
    shown = forecaster.predict(rows)
    total = households(explained).sum(axis=1).to_numpy() + base_forecast(explained)
    np.testing.assert_allclose(total[shown > 0], shown[shown > 0], rtol=1e-9)
    # each feature's amount is the members' amounts weighted as their forecasts are
    weights = forecaster.row_weights(forecaster.member_predictions(rows))
    members = {
        s.candidate: explain_rows(s, m, rows, background=background, features=table.features, seed=1)
        for s, m in forecaster.members_
        if s.explainer != "baseline"
    }
    columns = explained.values.columns
    expected = sum(
        households(members[s.candidate]).reindex(columns=columns, fill_value=0.0).mul(weights[:, i], axis=0)
        for i, (s, _) in enumerate(forecaster.members_)
        if s.candidate in members
    )
    np.testing.assert_allclose(explained.values, expected, rtol=1e-9, atol=1e-9)
    # members' explanations of the same rows are reused as they are, to the same result
    reused = explain_rows(spec, forecaster, rows, background=background, features=table.features, seed=1, known=members)
    np.testing.assert_allclose(reused.values.to_numpy(), explained.values.to_numpy(), rtol=1e-12, atol=1e-12)


def test_the_forecaster_is_a_scikit_learn_estimator(trained) -> None:
    table, _, fits = trained
    forecaster = fits[COMBINATIONS[0].candidate].forecaster
    rows = fits[COMBINATIONS[0].candidate].forecast_rows
    assert np.array_equal(pickle.loads(pickle.dumps(forecaster)).predict(rows), forecaster.predict(rows))
    train = table.frame[table.frame["actual"].notna()]
    refitted = clone(forecaster).fit(train, train["actual"].to_numpy(float))
    # refitting every member on all observed rows is what the final fits did
    np.testing.assert_allclose(refitted.predict(rows), forecaster.predict(rows), rtol=1e-9)
    assert isinstance(refitted, CombinationForecaster) and refitted.members_ is not forecaster.members_
    with pytest.raises(ValueError, match="at least one member"):
        CombinationForecaster().fit(train, train["actual"].to_numpy(float))


def test_in_a_train_the_combination_reuses_its_members_explanations(trained, england, monkeypatch) -> None:
    table, backtest, fits = trained
    spec = COMBINATIONS[1]  # the median: every model member
    config = ExplainConfig(max_rows_per_fold=200)

    def task(s):
        return explanation_task(
            s,
            table=table,
            panel=england,
            backtest=backtest,
            fit=fits[s.candidate],
            config=config,
            seed=1,
            figures=False,
            keep_references=True,
        )

    members = {s.candidate: explain(task(s)) for s in MEMBERS}
    for name in ("_tree", "_linear", "_model_agnostic"):  # any SHAP computed again would fail
        monkeypatch.setattr(values, name, lambda *args, **kwargs: pytest.fail("a member's SHAP values were recomputed"))
    explained = explain(task(spec), members=members)
    assert explained.additivity_passed and explained.additivity["rows_checked"] > len(fits[spec.candidate].forecast)
    assert explained.drivers["sentence"].str.len().gt(0).all()
