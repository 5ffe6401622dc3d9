"""The same backtest whatever runs it: one process, this process sharing the tasks with a worker, a shuffled task order, or
a dask.distributed cluster."""

from __future__ import annotations

import random

import pandas as pd
import pytest

from features import BUILDERS
from models import MODELS
from tests.model.backtests import panel_folds
from workbench.backtest import run_backtest
from workbench.config import DataConfig
from workbench.data.load import load_panel
from workbench.engine import Engine, EngineSettings
from workbench.featurize import build_feature_table

CANDIDATES = [
    MODELS["naive"](),
    MODELS["poisson_glm"](),
    MODELS["lightgbm"](n_estimators=40),
    MODELS["lightgbm"](objective="l2", transform="difference", n_estimators=40),
]


@pytest.fixture(scope="module")
def setup():
    panel = load_panel(DataConfig(synthetic={"end": "2023Q4"}))
    builders = [BUILDERS["lag"](lags=[1, 2, 4]), BUILDERS["rolling"](windows=[4]), BUILDERS["seasonal"]()]
    table = build_feature_table(panel, target="owed_duty", builders=builders, horizons=[1])
    folds = panel_folds(panel.frame, origins=3)
    return table, folds


def _predictions(setup, engine: Engine, task_order=None) -> pd.DataFrame:
    table, folds = setup
    result = run_backtest(
        table, CANDIDATES, folds, level=0.8, min_calibration_folds=1, seed=3, engine=engine, task_order=task_order
    )
    return result.predictions.reset_index(drop=True)


@pytest.fixture(scope="module")
def serial(setup) -> pd.DataFrame:
    return _predictions(setup, Engine(EngineSettings(executor="serial")))


def test_two_worker_processes_give_identical_predictions(setup, serial) -> None:
    pooled = _predictions(setup, Engine(EngineSettings(executor="loky", jobs=2)))
    pd.testing.assert_frame_equal(pooled, serial, check_exact=True)


def test_a_shuffled_task_order_gives_identical_predictions(setup, serial) -> None:
    order = list(range(len(CANDIDATES) * 3))
    random.Random(7).shuffle(order)
    assert order != sorted(order)
    shuffled = _predictions(setup, Engine(EngineSettings(executor="loky", jobs=2)), task_order=order)
    pd.testing.assert_frame_equal(shuffled, serial, check_exact=True)


def test_a_dask_cluster_gives_identical_predictions(setup, serial) -> None:
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        on_dask = _predictions(setup, Engine(EngineSettings(executor="dask", scheduler=cluster.scheduler_address)))
    pd.testing.assert_frame_equal(on_dask, serial, check_exact=True)


def test_the_check_can_fail_another_seed_changes_the_trees(setup, serial) -> None:
    table, folds = setup
    other = run_backtest(table, CANDIDATES, folds, level=0.8, min_calibration_folds=1, seed=4)
    trees = serial["candidate"].str.startswith("lightgbm")
    assert not other.predictions.reset_index(drop=True)[trees]["forecast"].equals(serial[trees]["forecast"])
