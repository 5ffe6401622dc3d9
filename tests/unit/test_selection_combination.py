"""The best-k combination: members for a fold are chosen only from folds whose actuals were all
observed by its origin, so changing the scored fold (or later ones) never changes its weights."""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.backtest import BacktestResult, Fold
from workbench.combination import choose, combine

FOLDS = tuple(Fold(i, pd.Period("2020Q1", "Q") + i) for i in range(5))
AREAS = ("A1", "A2", "A3", "A4")


def predictions(errors: dict[str, list[float]], seed: int = 0) -> pd.DataFrame:
    """Each candidate misses by its per-fold error; actuals are random."""
    rng = np.random.default_rng(seed)
    actual = rng.poisson(50, (len(FOLDS), len(AREAS))).astype(float)
    rows = []
    for candidate, per_fold in errors.items():
        for fold in FOLDS:
            for j, area in enumerate(AREAS):
                a = actual[fold.index, j]
                rows.append(
                    {
                        "candidate": candidate,
                        "fold": fold.index,
                        "origin": fold.origin,
                        "area_code": area,
                        "horizon": 1,
                        "actual": a,
                        "forecast": a + per_fold[fold.index],
                        "scale": 5.0,
                        "size": 10.0 * (j + 1),
                        "lower": np.nan,
                        "upper": np.nan,
                    }
                )
    return pd.DataFrame(rows)


ERRORS = {"a": [1, 1, 9, 9, 9], "b": [5, 5, 1, 1, 1], "c": [9, 9, 5, 5, 5], "naive": [3, 3, 3, 3, 3]}


def test_members_come_only_from_earlier_folds() -> None:
    chosen = choose(predictions(ERRORS), ["a", "b", "c"], FOLDS, k=1).set_index("fold")
    assert chosen.loc[0, "members"] == "a,b,c" and chosen.loc[0, "scored_on"] == ""
    assert chosen.loc[1, "members"] == "a" and chosen.loc[1, "scored_on"] == "0"
    assert chosen.loc[2, "members"] == "a"  # a led on folds 0-1; fold 2's own result is not seen
    assert chosen.loc[4, "members"] == "b" and chosen.loc[4, "scored_on"] == "0,1,2,3"


def test_changing_the_scored_fold_and_later_ones_leaves_its_weights_unchanged() -> None:
    base = predictions(ERRORS)
    for fold in FOLDS:
        changed = base.copy()
        later = changed["fold"] >= fold.index
        changed.loc[later & (changed["candidate"] == "c"), "forecast"] = changed.loc[later, "actual"]
        before = choose(base, ["a", "b", "c"], FOLDS, k=2).set_index("fold").loc[fold.index]
        after = choose(changed, ["a", "b", "c"], FOLDS, k=2).set_index("fold").loc[fold.index]
        assert before.equals(after)
    # ...and the same change does move the choice for the folds after it (the test can fail)
    changed = base.copy()
    changed.loc[changed["candidate"] == "c", "forecast"] = changed.loc[changed["candidate"] == "c", "actual"]
    assert choose(changed, ["a", "b", "c"], FOLDS, k=1).set_index("fold").loc[3, "members"] == "c"


def test_the_combination_is_the_mean_of_the_chosen_members_and_is_summarised() -> None:
    preds = predictions(ERRORS)
    result = BacktestResult(preds, pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), {}, FOLDS, 0.8)
    combined = combine(result, members=["a", "b", "c"], k=2, level=0.8)
    rows = combined.predictions[combined.predictions["candidate"] == "combination_best2"]
    fold4 = rows[rows["fold"] == 4]
    # fold 4 is chosen on folds 0-3: a has MASE 1.0, b 0.6, c 1.4 -> b and a, mean error (9 + 1) / 2
    np.testing.assert_allclose(fold4["forecast"] - fold4["actual"], 5.0)
    assert "combination_best2" in set(combined.summary["candidate"])
    assert rows.loc[rows["fold"] >= 2, "lower"].notna().all() and rows.loc[rows["fold"] < 2, "lower"].isna().all()
