"""The gate's data check looks at the data again instead of assuming it passed."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from workbench.gate import data_problems


def _record(values, *, metric_values=(0.9, 1.0)) -> SimpleNamespace:
    frame = pd.DataFrame({"owed_duty": values})
    summary = pd.DataFrame({"candidate": ["model", "naive"], "mase": list(metric_values)})
    return SimpleNamespace(
        experiment=SimpleNamespace(target="owed_duty"),
        panel=SimpleNamespace(frame=frame, findings=()),
        backtest=SimpleNamespace(summary=summary),
        selection=SimpleNamespace(metric="mase"),
    )


def test_a_sound_panel_has_no_problems() -> None:
    assert data_problems(_record([1.0, 5.0, np.nan, 3.0])) == []


def test_infinite_negative_and_constant_targets_are_problems() -> None:
    assert data_problems(_record([1.0, np.inf, 2.0])) == ["'owed_duty' has 1 infinite value(s)"]
    assert data_problems(_record([1.0, -2.0, 3.0])) == ["'owed_duty' has 1 negative value(s)"]
    assert data_problems(_record([0.0, 0.0, 0.0])) == ["'owed_duty' is constant (0.0): nothing to forecast"]


def test_metrics_that_are_not_numbers_are_a_problem() -> None:
    problems = data_problems(_record([1.0, 2.0], metric_values=(np.nan, 1.0)))
    assert problems == ["the backtest MASE is not a finite number for every candidate"]
