"""Explanations of the change a reader asks about: each forecast against the area's own reference,
decomposed exactly, worded with the reference named, the experiment's label and unit, structural
breaks as context only, and the area's size never worded as a rise."""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from models import MODELS
from models.base import Forecaster, ModelSpec
from tests.model.backtests import FEATURES
from workbench.data.contract import Panel
from workbench.explain.contrast import contrast, reference_rows
from workbench.explain.drivers import driver_table
from workbench.explain.values import explain_rows
from workbench.explain.wording import RESIDUAL, wording_for
from workbench.featurize import build_feature_table
from workbench.fit import latest_rows

SPECS = [
    MODELS["lightgbm"](n_estimators=60),
    MODELS["lightgbm"](n_estimators=60, transform="ratio"),
    MODELS["lightgbm"](n_estimators=60, objective="l2", transform="difference"),
    MODELS["poisson_glm"](),
]


@pytest.fixture(scope="module")
def table(england: Panel):
    return build_feature_table(england, target="owed_duty", builders=FEATURES, horizons=[1], reference_windows={4})


@pytest.fixture(scope="module")
def fitted(table) -> Callable[[ModelSpec], Forecaster]:
    """Each spec fitted once on the table's training rows; the tests only predict and explain with it."""
    train = table.frame[table.frame["actual"].notna()]
    done: dict[str, Forecaster] = {}

    def fit(spec: ModelSpec) -> Forecaster:
        key = f"{type(spec).__name__}:{spec.model_dump_json()}"
        if key not in done:
            done[key] = spec.make(features=table.features, seed=1).fit(train, train["actual"].to_numpy(float))
        return done[key]

    return fit


def _explain(fitted, spec, table, rows, *, reference="recent", label="households owed a duty"):
    train = table.frame[table.frame["actual"].notna()]
    forecaster = fitted(spec)
    background = train.sample(1500, random_state=1)
    refs, owner = reference_rows(table.frame, rows, reference=reference, periods=4, periods_per_year=4)
    forecast, referenced = (
        explain_rows(spec, forecaster, f, background=background, features=table.features, seed=1) for f in (rows, refs)
    )
    change = contrast(forecast, referenced, owner=owner, actual=refs["actual"].to_numpy(float))
    wording = wording_for(FEATURES, target_label=label, period_word="quarter", reference=reference)
    drivers = driver_table(
        forecast,
        rows=rows,
        names=pd.Series(dtype=str),
        lower=np.full(len(rows), np.nan),
        upper=np.full(len(rows), np.nan),
        level=0.8,
        wording=wording,
        contrast=change,
    )
    return change, drivers, refs, owner


def test_reference_rows_are_the_areas_last_four_periods_or_the_same_period_last_year(table) -> None:
    rows = latest_rows(table).iloc[:5]
    refs, owner = reference_rows(table.frame, rows, reference="recent", periods=4, periods_per_year=4)
    assert np.bincount(owner).tolist() == [4] * 5
    for i, row in rows.iterrows():
        mine = refs[owner == i]
        assert set(mine["area_code"]) == {row["area_code"]}
        assert sorted(mine["target_period"]) == [row["origin"] - k for k in (3, 2, 1, 0)]
    refs, owner = reference_rows(table.frame, rows, reference="same_period_last_year", periods=4, periods_per_year=4)
    assert (refs["target_period"].to_numpy() == (rows["target_period"] - 4).to_numpy()).all()


@pytest.mark.parametrize("spec", SPECS, ids=[s.candidate for s in SPECS])
def test_the_change_against_the_reference_is_decomposed_exactly(table, fitted, spec) -> None:
    rows = latest_rows(table).iloc[:120]
    change, drivers, refs, owner = _explain(fitted, spec, table, rows)
    reference = refs.groupby(owner)["actual"].mean().to_numpy()
    np.testing.assert_allclose(change.reference, reference)
    np.testing.assert_allclose(change.change, drivers["forecast"].to_numpy() - reference, rtol=1e-9, atol=1e-9)
    # the model's own part (everything but the residual) adds up to its output against its reference view
    explained = change.explanation
    assert (explained.additivity_error <= 1e-6 * np.maximum(1, np.abs(explained.output))).all()
    assert RESIDUAL in change.amounts


def test_a_planted_rise_in_possession_claims_is_named_against_the_areas_own_reference(table, fitted) -> None:
    spec = MODELS["lightgbm"](n_estimators=60, transform="ratio")  # the fit SPECS shares
    latest = latest_rows(table)
    area = latest.loc[latest["possession_claims_rate_lag2_log_rel"].abs().idxmin(), "area_code"]
    rows = latest[latest["area_code"] == area]  # TreeSHAP and the contrast are per row: the one area is enough
    changed = rows.copy()
    changed.loc[changed["area_code"] == area, "possession_claims_rate_lag2_log_rel"] = 1.2  # claims tripled
    _, before, _, _ = _explain(fitted, spec, table, rows)
    _, after, _, _ = _explain(fitted, spec, table, changed)
    row = after[after["area_code"] == area].iloc[0]
    assert row["driver_1"] == "possession claims rate" and row["driver_1_percent"] > 5
    assert "landlord possession claims (up " in row["change_text"]
    assert row["change_text"].startswith("Compared with the last four quarters in this area, the forecast is up ")
    assert before[before["area_code"] == area].iloc[0]["change_text"] != row["change_text"]


def test_every_sentence_names_its_reference_and_the_experiments_label(table, fitted) -> None:
    rows = latest_rows(table).iloc[:60]
    _, drivers, _, _ = _explain(fitted, MODELS["lightgbm"](n_estimators=60), table, rows, label="murders")
    for text in drivers["change_text"]:
        assert text.startswith("Compared with the last four quarters in this area")
    for text in drivers["typical_text"]:
        assert text.startswith("Compared with a typical area (a separate view, not a change over time)")
    assert drivers["sentence"].str.contains(" murders forecast for ").all()
    assert not drivers["sentence"].str.contains("household").any()
    assert not any(c.endswith("_households") for c in drivers.columns)
    _, last_year, _, _ = _explain(
        fitted, MODELS["lightgbm"](n_estimators=60), table, rows, reference="same_period_last_year"
    )
    assert last_year["change_text"].str.startswith("Compared with the same quarter last year in this area").all()


def test_size_is_never_worded_as_a_rise_and_the_covid_break_is_context_only(table, fitted) -> None:
    rows = latest_rows(table)
    _, drivers, _, _ = _explain(fitted, MODELS["lightgbm"](n_estimators=60), table, rows)
    assert str(rows["target_period"].iloc[0]) > "2021Q2"
    for rank in (1, 2, 3):
        assert not (drivers[f"driver_{rank}"] == "COVID period").any()
        assert not (drivers[f"typical_driver_{rank}"] == "COVID period").any()
    assert not drivers["drivers_text"].str.contains(r"size and recent level \(up", regex=True).any()
    big = drivers["typical_text"].str.contains("the area's size and recent level")
    assert big.any()
    for text in drivers.loc[big, "typical_text"]:
        effect = re.search(r"the area's size and recent level \(([^)]*)\)", text).group(1)
        assert effect.endswith("typical area's") or effect == "little effect", text
    assert drivers["context"].str.contains("2020Q2 to 2021Q2 (the COVID period) as unusual", regex=False).all()
