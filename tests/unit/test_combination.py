"""Forecast combinations chosen fold by fold: the members and weights for a fold come only from
folds whose actuals were all observed by its origin, so changing the scored fold, or any fold not
yet known there, never changes them; the combined rows are the weighted members' rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.baselines import Naive
from models.combination import Combination
from models.glm import PoissonGLM
from workbench.backtest import BacktestResult, Fold
from workbench.combination import add_combinations, choices, final_choice, known_folds
from workbench.selection import SelectionRule

FOLDS = tuple(Fold(i, pd.Period("2020Q1", "Q") + i) for i in range(5))
AREAS = ("A1", "A2", "A3", "A4")
# each candidate misses every row of a fold by the same amount; naive is the baseline
ERRORS = {"a": [1, 1, 9, 9, 9], "b": [5, 5, 1, 1, 1], "c": [9, 9, 5, 5, 5], "naive": [3, 3, 3, 3, 3]}
POOL = ["a", "b", "c"]
RULE = SelectionRule()


def predictions(errors: dict[str, list[float]], *, horizons: tuple[int, ...] = (1,), seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    actual = rng.poisson(50, (len(FOLDS), len(AREAS), len(horizons))).astype(float)
    rows = []
    for candidate, per_fold in errors.items():
        for fold in FOLDS:
            for j, area in enumerate(AREAS):
                for h, horizon in enumerate(horizons):
                    a = actual[fold.index, j, h]
                    rows.append(
                        {
                            "candidate": candidate,
                            "fold": fold.index,
                            "origin": fold.origin,
                            "area_code": area,
                            "horizon": horizon,
                            "actual": a,
                            "forecast": a + per_fold[fold.index],
                            "scale": 5.0,
                            "size": 10.0 * (j + 1),
                        }
                    )
    return pd.DataFrame(rows)


def chosen(preds: pd.DataFrame, spec: Combination) -> pd.DataFrame:
    table = choices(preds, spec, pool=POOL, baselines=["naive"], folds=FOLDS, rule=RULE)
    return table[table["fold"].notna()].set_index("fold")


def result_of(preds: pd.DataFrame) -> BacktestResult:
    return BacktestResult(preds, pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), {}, FOLDS, 0.8)


def test_a_fold_is_known_at_an_origin_once_its_longest_horizon_was_observed() -> None:
    assert known_folds(FOLDS, FOLDS[3].origin, 1) == [0, 1, 2]
    assert known_folds(FOLDS, FOLDS[3].origin, 2) == [0, 1]  # fold 2's second step falls after fold 3's origin
    assert known_folds(FOLDS, FOLDS[0].origin, 1) == []


def test_members_are_the_best_on_the_known_folds_and_the_first_fold_combines_the_whole_pool() -> None:
    table = chosen(predictions(ERRORS), Combination(k=1))
    assert table.loc[0, "members"] == ("a", "b", "c") and table.loc[0, "scored_on"] == ()
    assert table.loc[0, "weights"] == pytest.approx((1 / 3, 1 / 3, 1 / 3))
    assert table.loc[1, "members"] == ("a",) and table.loc[1, "scored_on"] == (0,)
    assert table.loc[2, "members"] == ("a",)  # a led on folds 0-1; fold 2's own result is not seen
    # folds 0-2: a and b tie on absolute error (11 each), b's misses are smaller in RMSE
    assert table.loc[3, "members"] == ("b",) and table.loc[3, "scored_on"] == (0, 1, 2)
    assert table.loc[4, "members"] == ("b",) and table.loc[4, "scored_on"] == (0, 1, 2, 3)


@pytest.mark.parametrize("horizons", [(1,), (1, 2)], ids=["h1", "h1-2"])
def test_no_fold_unknown_at_the_origin_changes_the_choice(horizons: tuple[int, ...]) -> None:
    base = predictions(ERRORS, horizons=horizons)
    spec = Combination(k=2, how="inverse_error")
    before = chosen(base, spec)
    for fold in FOLDS:
        known = known_folds(FOLDS, fold.origin, max(horizons))
        changed = base.copy()  # c becomes perfect on every fold not known at this origin, this one included
        later = ~changed["fold"].isin(known) & (changed["candidate"] == "c")
        changed.loc[later, "forecast"] = changed.loc[later, "actual"]
        after = chosen(changed, spec)
        assert after.loc[fold.index].equals(before.loc[fold.index])
        # ...nor do the outcomes there (made to match c exactly) change its forecasts at this fold
        unknown = ~base["fold"].isin(known)
        c_forecast = base[base["candidate"] == "c"].set_index(["fold", "area_code", "horizon"])["forecast"]
        outcomes = base.copy()
        outcomes.loc[unknown, "actual"] = c_forecast.reindex(
            pd.MultiIndex.from_frame(base.loc[unknown, ["fold", "area_code", "horizon"]])
        ).to_numpy()
        np.testing.assert_array_equal(_combined(base, spec, fold.index), _combined(outcomes, spec, fold.index))
        # the choice is the one the known folds alone give
        alone = chosen(base[base["fold"].isin(known)], spec) if known else before
        assert alone.loc[fold.index, "members"] == before.loc[fold.index, "members"]
    # ...and the same change does move the choice once those folds are known (the test can fail)
    perfect = base.copy()
    perfect.loc[perfect["candidate"] == "c", "forecast"] = perfect.loc[perfect["candidate"] == "c", "actual"]
    assert chosen(perfect, spec).loc[4, "members"][0] == "c"


def test_the_combination_is_the_weighted_mean_of_its_members_at_each_fold() -> None:
    preds = predictions(ERRORS)
    spec = Combination(k=2, how="inverse_error")
    result = add_combinations(result_of(preds), [spec], candidates=[Naive(), *map(_named, POOL), spec], rule=RULE)
    rows = result.predictions[result.predictions["candidate"] == spec.candidate]
    table = result.combinations[spec.candidate].dropna(subset=["fold"]).set_index("fold")
    # fold 1, chosen on fold 0: a (score 1/3 of naive's) and b (5/3), weighed 5/6 and 1/6
    assert table.loc[1, "members"] == ("a", "b") and table.loc[1, "weights"] == pytest.approx((5 / 6, 1 / 6))
    for fold, choice in table.iterrows():
        members = preds[(preds["fold"] == fold)].pivot(index="area_code", columns="candidate", values="forecast")
        expected = members[list(choice["members"])].to_numpy() @ np.asarray(choice["weights"])
        np.testing.assert_allclose(rows[rows["fold"] == fold].sort_values("area_code")["forecast"], expected)


def test_a_median_takes_the_middle_member() -> None:
    spec = Combination(k=3, how="median")
    result = add_combinations(
        result_of(predictions(ERRORS)), [spec], candidates=[Naive(), *map(_named, POOL), spec], rule=RULE
    )
    rows = result.predictions[result.predictions["candidate"] == spec.candidate]
    np.testing.assert_allclose((rows["forecast"] - rows["actual"])[rows["fold"] == 4], 5.0)  # errors 9, 1, 5


def test_the_combination_is_calibrated_summarised_and_chooses_its_final_members_on_every_fold() -> None:
    spec = Combination(k=2)
    result = add_combinations(
        result_of(predictions(ERRORS)), [spec], candidates=[Naive(), *map(_named, POOL), spec], rule=RULE
    )
    rows = result.predictions[result.predictions["candidate"] == spec.candidate]
    assert rows.loc[rows["fold"] >= 2, "lower"].notna().all() and rows.loc[rows["fold"] < 2, "lower"].isna().all()
    assert spec.candidate in set(result.summary["candidate"]) and spec.candidate in result.bands
    final = final_choice(result, spec.candidate)
    assert final.scored_on == (0, 1, 2, 3, 4) and final.members == ("b", "a")


def _combined(preds: pd.DataFrame, spec: Combination, fold: int) -> np.ndarray:
    result = add_combinations(result_of(preds), [spec], candidates=[Naive(), *map(_named, POOL), spec], rule=RULE)
    rows = result.predictions
    return rows[(rows["candidate"] == spec.candidate) & (rows["fold"] == fold)]["forecast"].to_numpy()


def _named(name: str) -> PoissonGLM:
    """A stand-in spec for a pool candidate (only its name and kind are read)."""
    return PoissonGLM(name=name)
