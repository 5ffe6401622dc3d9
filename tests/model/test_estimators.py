"""The forecasters are scikit-learn estimators: clone, get/set_params, pickle, fit returns self,
fitted attributes end in `_`, unfitted use refused, and results independent of row order.

`parametrize_with_checks` runs scikit-learn's generic checks on each forecaster class the specs
make (the reference baseline, the GLM, LightGBM with a ratio transform).
These forecasters take feature-table rows: a pandas DataFrame holding the feature columns named by
their `features` and the reference columns `ref_*` (what was known at the origin) that baselines
copy and target transforms read. The generic checks feed plain numpy arrays (or sparse matrices,
or lists) without those columns, so every check that fits or predicts on such input cannot apply;
the forecasters refuse it with a TypeError naming what they take. Those checks are excluded, each
for that reason, and the properties they protect are tested below on feature-table rows instead:

- fit/predict on arrays: check_fit_score_takes_y, check_estimators_overwrite_params,
  check_dont_overwrite_parameters, check_estimators_fit_returns_self, check_readonly_memmap_input,
  check_n_features_in_after_fitting, check_estimators_dtypes, check_complex_data,
  check_dtype_object, check_pipeline_consistency, check_estimators_pickle,
  check_f_contiguous_array_estimator, check_regressor_data_not_an_array,
  check_regressors_no_decision_function, check_supervised_y_2d, check_regressors_int,
  check_methods_sample_order_invariance, check_methods_subset_invariance, check_fit2d_1sample,
  check_fit2d_1feature, check_dict_unchanged, check_fit_idempotent, check_fit_check_is_fitted,
  check_n_features_in, check_fit1d, check_fit2d_predict1d, check_requires_y_none,
  check_regressors_train, check_non_transformer_estimators_n_iter (the GLM: it needs a fit).
- expect a ValueError with a particular message when an array is bad (the TypeError for not being
  feature-table rows comes first): check_estimators_empty_data_messages, check_estimators_nan_inf,
  check_supervised_y_no_nan, check_positive_only_tag_during_fit.
- sparse input: check_estimator_sparse_tag, check_estimator_sparse_array,
  check_estimator_sparse_matrix (a feature table is dense, with categorical columns).

A check not in this list must pass, and a listed check that starts passing fails the run
(`xfail_strict`), so the list stays exact.
"""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

from features.base import FeatureInfo
from models.baselines import Naive, RecentMean, SeasonalNaive
from models.gbm import LightGBM
from models.glm import PoissonGLM

ARRAY_INPUT = "takes feature-table rows (a DataFrame with feature and reference columns), not a bare array"
BAD_ARRAY_MESSAGES = "expects a ValueError about a bad array; a bare array is refused earlier with a TypeError"
SPARSE = "a feature table is dense, with categorical columns; sparse input is refused"
EXCLUDED = {
    **dict.fromkeys(
        [
            "check_fit_score_takes_y",
            "check_estimators_overwrite_params",
            "check_dont_overwrite_parameters",
            "check_estimators_fit_returns_self",
            "check_readonly_memmap_input",
            "check_n_features_in_after_fitting",
            "check_estimators_dtypes",
            "check_complex_data",
            "check_dtype_object",
            "check_pipeline_consistency",
            "check_estimators_pickle",
            "check_f_contiguous_array_estimator",
            "check_regressor_data_not_an_array",
            "check_regressors_no_decision_function",
            "check_supervised_y_2d",
            "check_regressors_int",
            "check_methods_sample_order_invariance",
            "check_methods_subset_invariance",
            "check_fit2d_1sample",
            "check_fit2d_1feature",
            "check_dict_unchanged",
            "check_fit_idempotent",
            "check_fit_check_is_fitted",
            "check_n_features_in",
            "check_fit1d",
            "check_fit2d_predict1d",
            "check_requires_y_none",
            "check_regressors_train",
        ],
        ARRAY_INPUT,
    ),
    **dict.fromkeys(
        [
            "check_estimators_empty_data_messages",
            "check_estimators_nan_inf",
            "check_supervised_y_no_nan",
            "check_positive_only_tag_during_fit",
        ],
        BAD_ARRAY_MESSAGES,
    ),
    **dict.fromkeys(
        ["check_estimator_sparse_tag", "check_estimator_sparse_array", "check_estimator_sparse_matrix"], SPARSE
    ),
}

FEATURES = (
    FeatureInfo("lag1", "recent demand", "count"),
    FeatureInfo("claims", "possession claims rate", "numeric"),
    FeatureInfo("region", "region", "category"),
)
SPECS = [
    Naive(),
    SeasonalNaive(),
    RecentMean(window=4),
    PoissonGLM(),
    LightGBM(n_estimators=20),
    LightGBM(n_estimators=20, transform="ratio", ratio_window=2),
    LightGBM(n_estimators=20, objective="l2", transform="difference"),
    LightGBM(n_estimators=20, objective="l2", transform="log"),
]
IDS = [s.candidate for s in SPECS]


def expected_failures(estimator) -> dict[str, str]:
    out = dict(EXCLUDED)
    if type(estimator).__name__ == "GLMForecaster":
        out["check_non_transformer_estimators_n_iter"] = ARRAY_INPUT
    return out


@parametrize_with_checks(
    [spec.make(features=FEATURES, seed=0) for spec in (Naive(), PoissonGLM(), SPECS[5])],  # one per class
    expected_failed_checks=expected_failures,
    xfail_strict=True,
)
def test_scikit_learn_checks(estimator, check) -> None:
    check(estimator)


def rows(n: int = 240, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Feature-table rows made in code: features, the reference columns, and a count target."""
    rng = np.random.default_rng(seed)
    level = rng.gamma(4, 25, n)
    frame = pd.DataFrame(
        {
            "lag1": rng.poisson(level).astype(float),
            "claims": rng.normal(0, 1, n),
            "region": pd.Categorical(rng.choice(["North", "South", "London"], n)),
            "ref_last": rng.poisson(level).astype(float),
            "ref_same_period_last_year": np.where(rng.random(n) < 0.1, np.nan, rng.poisson(level)),
            "ref_recent_mean_w2": level * rng.uniform(0.9, 1.1, n),
            "ref_recent_mean_w4": level,
        }
    )
    y = rng.poisson(level * np.exp(0.2 * frame["claims"])).astype(float)
    return frame, y


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_clone_gives_an_unfitted_estimator_with_the_same_parameters(spec) -> None:
    fitted = spec.make(features=FEATURES, seed=3).fit(*rows())
    copy = clone(fitted)
    assert copy is not fitted and type(copy) is type(fitted)
    assert set(copy.get_params()) == set(fitted.get_params())
    assert all(repr(copy.get_params()[k]) == repr(v) for k, v in fitted.get_params(deep=False).items()), (
        copy.get_params()
    )
    assert not [a for a in vars(copy) if a.endswith("_")]
    with pytest.raises(NotFittedError):
        copy.predict(rows()[0])


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_fit_returns_self_and_refitting_a_clone_or_a_pickle_gives_the_same_forecasts(spec) -> None:
    frame, y = rows()
    estimator = spec.make(features=FEATURES, seed=3)
    assert estimator.fit(frame, y) is estimator
    expected = estimator.predict(frame)
    np.testing.assert_array_equal(clone(estimator).fit(frame, y).predict(frame), expected)
    np.testing.assert_array_equal(estimator.fit(frame, y).predict(frame), expected)  # idempotent
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(estimator)).predict(frame), expected)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_forecasts_follow_their_rows_whatever_the_row_order(spec) -> None:
    frame, y = rows()
    fitted = spec.make(features=FEATURES, seed=3).fit(frame, y)
    order = np.random.default_rng(1).permutation(len(frame))
    np.testing.assert_allclose(fitted.predict(frame.iloc[order]), fitted.predict(frame)[order], rtol=1e-12)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_set_params_changes_the_estimator_and_nothing_is_set_in_init(spec) -> None:
    estimator = spec.make(features=FEATURES, seed=3)
    assert not [a for a in vars(estimator) if a.endswith("_")]
    name = next(iter(estimator.get_params(deep=False)))
    value = estimator.get_params()[name]
    assert estimator.set_params(**{name: value}) is estimator


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_a_bare_array_is_refused_with_what_the_forecaster_takes(spec) -> None:
    frame, y = rows()
    estimator = spec.make(features=FEATURES, seed=3)
    with pytest.raises(TypeError) as caught:
        estimator.fit(frame.to_numpy(), y)
    assert str(caught.value) == (
        f"{type(estimator).__name__} takes feature-table rows (a pandas DataFrame with the feature and "
        "reference columns), not ndarray"
    )


def test_rows_without_the_transforms_reference_column_are_refused() -> None:
    frame, y = rows()
    estimator = LightGBM(n_estimators=5, transform="ratio", ratio_window=8).make(features=FEATURES, seed=0)
    with pytest.raises(ValueError) as caught:
        estimator.fit(frame, y)
    assert str(caught.value) == (
        "the rows lack the columns ['ref_recent_mean_w8']; build them with the experiment's feature table"
    )


def test_predicting_on_rows_with_other_features_is_refused() -> None:
    frame, y = rows()
    fitted = PoissonGLM().make(features=FEATURES, seed=0).fit(frame, y)
    renamed = PoissonGLM().make(features=(FEATURES[1], FEATURES[0], FEATURES[2]), seed=0)
    renamed.__dict__.update({k: v for k, v in vars(fitted).items() if k.endswith("_")})
    with pytest.raises(ValueError, match="feature names should match"):
        renamed.predict(frame)


def test_the_lightgbm_forecaster_is_lightgbm_on_the_transformed_target(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The forecaster adds only the transform: its forecasts equal a plain LGBMRegressor fitted on
    the ratio to the recent level, mapped back."""
    import lightgbm as lgb

    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    frame, y = rows()
    spec = LightGBM(n_estimators=30, transform="ratio")
    fitted = spec.make(features=FEATURES, seed=5).fit(frame, y)
    level = frame["ref_recent_mean_w4"].to_numpy()
    plain = lgb.LGBMRegressor(**fitted.regressor_.get_params()).fit(
        frame[["lag1", "claims", "region"]], (1 + y) / (1 + level)
    )
    expected = np.clip(plain.predict(frame[["lag1", "claims", "region"]]) * (1 + level) - 1, 0, None)
    np.testing.assert_array_equal(fitted.predict(frame), expected)
    # threads are the engine's to set: LightGBM takes them from the process, not every core
    assert fitted.regressor_.get_params()["n_jobs"] == 1
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert spec.make(features=FEATURES, seed=5).fit(frame, y).regressor_.get_params()["n_jobs"] is None
