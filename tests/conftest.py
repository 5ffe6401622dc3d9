"""Shared fixtures: small panels and experiments made in code, and a CLI runner.

Every test that runs a command does so inside its own temporary directory, so it can check that
nothing was left behind.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

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


@pytest.fixture(autouse=True)
def _private_tracking_store(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test ever writes to the project's own MLflow store."""
    folder = tmp_path_factory.mktemp("mlflow")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{folder / 'mlruns.db'}")


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
