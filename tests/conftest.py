"""Shared fixtures: small panels and experiments made in code, a CLI runner, and tracking stores.

Every test that runs a command does so inside its own temporary directory, so it can check that
nothing was left behind, and against its own tracking store. Stores that take a training run to make
are made once per session (`train_in_process`) and only read, or copied (`TrainedStore.copy_to`) by a
test that changes them, so the tests stay independent in any order.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from tests.command_server import CommandServer
from workbench.cli import app


def quarterly_rows(
    *, areas: tuple[str, ...] = ("E06000001", "E07000002", "E09000003"), start: str = "2019Q1", periods: int = 8
) -> pd.DataFrame:
    """A small valid panel in file form: text periods, a target, a covariate and two attributes."""
    quarters = pd.period_range(start, periods=periods, freq="Q")
    rows = []
    for i, area in enumerate(areas):
        for j, quarter in enumerate(quarters):
            rows.append(
                {
                    "code": area,
                    "quarter": str(quarter),
                    "duties": 10 * (i + 1) + j,
                    "claims": 50.0 + j,
                    "name": f"Area {i}",
                    "region": "North" if i % 2 else "South",
                }
            )
    return pd.DataFrame(rows)


FILE_COLUMNS = {
    "area": "code",
    "period": "quarter",
    "area_name": "name",
    "targets": {"owed_duty": "duties"},
    "covariates": {"possession_claims_rate": {"column": "claims", "publication_lag": 1, "count": True}},
    "static": {"region": "region"},
    "groups": ["region"],
}


TRACKING_DB = "mlruns.db"


@pytest.fixture(scope="session")
def _empty_tracking_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An MLflow store with its tables made, once per session: making them costs one to two seconds of
    CPU, copying the file a millisecond, and nearly every command opens the store first."""
    from mlflow.tracking import MlflowClient

    database = tmp_path_factory.mktemp("mlflow-template") / TRACKING_DB
    MlflowClient(f"sqlite:///{database}").search_experiments()
    return database


# Tests that run commands; they get the store ready-made (the others never open it).
COMMAND_FIXTURES = {"cli", "store", "workdir"}


@pytest.fixture(autouse=True)
def _tasks_in_the_commands_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Commands under test run their tasks in their own process, as `--jobs 1` does: a worker would
    import the training stack again for every command. The engine's tests, and the test that stops a
    train with workers, ask for workers by name."""
    monkeypatch.setenv("WORKBENCH_JOBS", "1")


@pytest.fixture(autouse=True)
def _private_tracking_store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test ever writes to the project's own MLflow store: each gets an empty one of its own."""
    folder = tmp_path_factory.mktemp("mlflow")
    if COMMAND_FIXTURES & set(request.fixturenames):
        shutil.copyfile(request.getfixturevalue("_empty_tracking_db"), folder / TRACKING_DB)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{folder / TRACKING_DB}")


@dataclass(frozen=True)
class TrainedStore:
    """A tracking store made by real commands: `folder` holds its database, mlartifacts/, the experiment
    file and whatever the commands wrote (outputs/). Read it as it is, or change a copy of it."""

    folder: Path
    experiment: Path

    @property
    def uri(self) -> str:
        return f"sqlite:///{self.folder / TRACKING_DB}"

    def copy_to(self, target: Path) -> TrainedStore:
        """A private copy; its database records the copy's artifact locations, not the original's."""
        shutil.copytree(self.folder, target)
        old, new = str(self.folder), str(target)
        with closing(sqlite3.connect(target / TRACKING_DB)) as db, db:
            tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            for table in tables:
                for column in [row[1] for row in db.execute(f'PRAGMA table_info("{table}")')]:
                    db.execute(
                        f'UPDATE "{table}" SET "{column}" = replace("{column}", ?, ?) '
                        f'WHERE typeof("{column}") = \'text\' AND instr("{column}", ?) > 0',
                        (old, new, old),
                    )
        return TrainedStore(target, target / self.experiment.relative_to(self.folder))

    def use(self, monkeypatch: pytest.MonkeyPatch) -> str:
        """Point this test's commands at the store; returns its URI."""
        monkeypatch.setenv("MLFLOW_TRACKING_URI", self.uri)
        return self.uri


def train_in_process(folder: Path, experiment: Path, *commands: str, empty_db: Path) -> TrainedStore:
    """Run `commands` (train, forecast, ...) on `experiment` from `folder`, into a store of its own there."""
    shutil.copyfile(empty_db, folder / TRACKING_DB)
    store = TrainedStore(folder, experiment)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        store.use(patch)
        runner = CliRunner()
        for command in commands:
            done = runner.invoke(app, [command, str(experiment)])
            assert done.exit_code == 0, done.output
    return store


@pytest.fixture(scope="session")
def commands() -> Iterator[CommandServer]:
    """Runs `workbench` commands whose signals, locks or concurrency are under test, each in a process of
    its own forked from one that imported the command once (`tests/command_server.py`)."""
    server = CommandServer()
    yield server
    server.close()


@pytest.fixture
def store(_private_tracking_store) -> str:
    """The test's own MLflow store, for tests that read back what was logged."""
    import os

    import mlflow

    uri = os.environ["MLFLOW_TRACKING_URI"]
    mlflow.set_tracking_uri(uri)
    return uri


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh working directory; commands run from here."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def write_experiment(workdir: Path) -> Callable[..., Path]:
    def write(data: dict, *, target: str = "owed_duty", name: str = "test_experiment", **extra) -> Path:
        # a backtest that the small panels made here are long enough for (validate checks the history)
        extra.setdefault("backtest", {"origins": 2, "min_train_periods": 4})
        path = workdir / f"{name}.yaml"
        path.write_text(yaml.safe_dump({"name": name, "target": target, "data": data, **extra}, sort_keys=False))
        return path

    return write


@pytest.fixture
def file_experiment(workdir: Path, write_experiment) -> Callable[..., Path]:
    """Write `frame` as the panel file and an experiment that maps it with FILE_COLUMNS."""

    def make(
        frame: pd.DataFrame | None = None, *, file_name: str = "panel.csv", columns: dict | None = None, **source
    ) -> Path:
        path = workdir / file_name
        frame = quarterly_rows() if frame is None else frame
        if path.suffix == ".parquet":
            frame.to_parquet(path, index=False)
        else:
            frame.to_csv(path, index=False)
        return write_experiment({"file": {"path": file_name, "columns": columns or FILE_COLUMNS, **source}})

    return make


@pytest.fixture
def cli() -> Callable[..., object]:
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, [str(a) for a in args])

    return invoke
